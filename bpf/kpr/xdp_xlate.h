/* NAT rewriting of an Ethernet/IPv4|IPv6/TCP|UDP packet through direct packet pointers (data,
 * data_end), independent of the program type: XDP has no checksum helpers (bpf_l3_csum_replace
 * and bpf_l4_csum_replace take an skb), so the checksums are updated here incrementally by hand,
 * RFC 1624 section 3, eqn. 3:  HC' = ~(~HC + ~m + m')  — the same arithmetic the kernel's
 * csum_replace4 / inet_proto_csum_replace4 (include/net/checksum.h, net/core/utils.c) do for
 * the helpers, so the bytes equal what nodeport.c's tc path writes. tc programs may write the
 * packet directly too, so dsr_backend.c uses the same code at tc.
 *
 * One's complement sums do not depend on byte order (RFC 1071 section 2(B)): the 16-bit words
 * are summed as loaded (little-endian registers holding network-order bytes) and stored back the
 * same way.
 */
#ifndef BPFBED_KPR_XDP_XLATE_H
#define BPFBED_KPR_XDP_XLATE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define XPKT_OK 0
#define XPKT_NOT_MINE -1 /* not TCP/UDP in one unfragmented piece we can read: the caller passes it */

#define XPKT_NEXTHDR_DEST 60 /* include/net/ipv6.h NEXTHDR_DEST */

/* The L4 checksum field of a parsed packet. */
struct xl4_csum {
	__sum16 *check;
	__u8 udp;  /* UDP: a result of 0 is sent as all ones */
	__u8 none; /* UDP sent without a checksum (RFC 768: 0 = none; stays 0) */
};

/* A parsed IPv4 packet: pointers into it, valid until the packet is resized. */
struct xpkt4 {
	struct ethhdr *eth;
	struct iphdr *ip;
	struct udphdr *l4; /* TCP and UDP both start with the ports */
	struct xl4_csum csum;
	__u8 tcp_flags; /* 0 for UDP */
};

/* A parsed IPv6 packet. */
struct xpkt6 {
	struct ethhdr *eth;
	struct ipv6hdr *ip6;
	__u8 *ext; /* a 24-byte destination options header before L4 (only when asked for), or NULL */
	struct udphdr *l4;
	struct xl4_csum csum;
	__u8 proto;
	__u8 tcp_flags;
};

/* The TCP or UDP header at `l4`: its checksum field and TCP flags. */
static __always_inline int xl4_parse(struct udphdr *l4, __u8 proto, void *data_end, struct xl4_csum *csum, __u8 *tcp_flags)
{
	*tcp_flags = 0;
	csum->udp = proto == IPPROTO_UDP;
	csum->none = 0;
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)l4;
		if ((void *)(tcp + 1) > data_end)
			return XPKT_NOT_MINE;
		*tcp_flags = ((__u8 *)tcp)[13];
		csum->check = &tcp->check;
		return XPKT_OK;
	}
	if (proto != IPPROTO_UDP || (void *)(l4 + 1) > data_end)
		return XPKT_NOT_MINE;
	csum->check = &l4->check;
	csum->none = l4->check == 0;
	return XPKT_OK;
}

/* Parses Ethernet, IPv4 (options only when `allow_opts`; never fragments: the ports are in the
 * first fragment only) and the TCP or UDP header. */
static __always_inline int xpkt4_parse(void *data, void *data_end, struct xpkt4 *p, int allow_opts)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return XPKT_NOT_MINE;
	if (ip->version != 4 || ip->ihl < 5 || (ip->ihl != 5 && !allow_opts) || (ip->frag_off & bpf_htons(0x3fff)))
		return XPKT_NOT_MINE;
	p->eth = eth;
	p->ip = ip;
	p->l4 = (void *)ip + ip->ihl * 4;
	return xl4_parse(p->l4, ip->protocol, data_end, &p->csum, &p->tcp_flags);
}

/* Parses Ethernet, IPv6 and the TCP or UDP header right after it — or, when `allow_dest_opts`,
 * after one destination options header of 24 bytes (RFC 8200 section 4.6: Hdr Ext Len 2), the
 * one a DSR load balancer inserts. Anything else (other extension headers, fragments) is not
 * ours. */
static __always_inline int xpkt6_parse(void *data, void *data_end, struct xpkt6 *p, int allow_dest_opts)
{
	struct ethhdr *eth = data;
	struct ipv6hdr *ip6 = (void *)(eth + 1);
	if ((void *)(ip6 + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IPV6) || ip6->version != 6)
		return XPKT_NOT_MINE;
	__u8 proto = ip6->nexthdr;
	__u8 *next = (void *)(ip6 + 1);
	p->ext = NULL;
	if (proto == XPKT_NEXTHDR_DEST && allow_dest_opts) {
		if ((void *)(next + 24) > data_end || next[1] != 2)
			return XPKT_NOT_MINE;
		p->ext = next;
		proto = next[0];
		next += 24;
	}
	p->eth = eth;
	p->ip6 = ip6;
	p->l4 = (void *)next;
	p->proto = proto;
	return xl4_parse(p->l4, proto, data_end, &p->csum, &p->tcp_flags);
}

/* Folds a sum of 16-bit words to 16 bits, end-around carry (RFC 1071 section 4.1). */
static __always_inline __u16 csum_fold_words(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)sum;
}

/* RFC 1624 eqn. 3 for one 16-bit word m -> m'. */
static __always_inline void csum_replace16(__sum16 *check, __u16 from, __u16 to)
{
	__u32 sum = (__u16)~*check;
	sum += (__u16)~from;
	sum += to;
	*check = (__u16)~csum_fold_words(sum);
}

/* RFC 1624 eqn. 3 for a 32-bit field: its two 16-bit words at once. */
static __always_inline void csum_replace32(__sum16 *check, __u32 from, __u32 to)
{
	__u32 sum = (__u16)~*check;
	sum += (__u16)~(from & 0xffff);
	sum += (__u16)~(from >> 16);
	sum += to & 0xffff;
	sum += to >> 16;
	*check = (__u16)~csum_fold_words(sum);
}

/* RFC 1624 eqn. 3 for a 128-bit field (an IPv6 address): its eight 16-bit words at once (17
 * terms of at most 0xffff: no overflow of 32 bits). */
static __always_inline void csum_replace128(__sum16 *check, const __u32 *from, const __u32 *to)
{
	__u32 sum = (__u16)~*check;
#pragma unroll
	for (int i = 0; i < 4; i++) {
		sum += (__u16)~(from[i] & 0xffff);
		sum += (__u16)~(from[i] >> 16);
		sum += to[i] & 0xffff;
		sum += to[i] >> 16;
	}
	*check = (__u16)~csum_fold_words(sum);
}

/* The L4 checksum's end cases: a UDP checksum of 0 (none) stays 0, and a computed 0 is sent as
 * all ones (RFC 768; the kernel's BPF_F_MARK_MANGLED_0 / CSUM_MANGLED_0). */
static __always_inline void xl4_mangled0(struct xl4_csum *c)
{
	if (c->udp && *c->check == 0)
		*c->check = 0xffff;
}

static __always_inline void xl4_replace32(struct xl4_csum *c, __u32 from, __u32 to)
{
	if (c->none)
		return;
	csum_replace32(c->check, from, to);
	xl4_mangled0(c);
}

static __always_inline void xl4_replace16(struct xl4_csum *c, __u16 from, __u16 to)
{
	if (c->none)
		return;
	csum_replace16(c->check, from, to);
	xl4_mangled0(c);
}

static __always_inline void xl4_replace128(struct xl4_csum *c, const __u32 *from, const __u32 *to)
{
	if (c->none)
		return;
	csum_replace128(c->check, from, to);
	xl4_mangled0(c);
}

/* Addresses are in the IPv4 header checksum and, through the pseudo header (RFC 793 section
 * 3.1, RFC 768), in the L4 checksum; ports only in the L4 checksum. */
static __always_inline void xpkt4_set_saddr(struct xpkt4 *p, __be32 addr)
{
	__be32 old = p->ip->saddr;
	if (old == addr)
		return;
	csum_replace32(&p->ip->check, old, addr);
	xl4_replace32(&p->csum, old, addr);
	p->ip->saddr = addr;
}

static __always_inline void xpkt4_set_daddr(struct xpkt4 *p, __be32 addr)
{
	__be32 old = p->ip->daddr;
	if (old == addr)
		return;
	csum_replace32(&p->ip->check, old, addr);
	xl4_replace32(&p->csum, old, addr);
	p->ip->daddr = addr;
}

static __always_inline void xl4_set_sport(struct udphdr *l4, struct xl4_csum *c, __be16 port)
{
	__be16 old = l4->source;
	if (old == port)
		return;
	xl4_replace16(c, old, port);
	l4->source = port;
}

static __always_inline void xl4_set_dport(struct udphdr *l4, struct xl4_csum *c, __be16 port)
{
	__be16 old = l4->dest;
	if (old == port)
		return;
	xl4_replace16(c, old, port);
	l4->dest = port;
}

/* Forwarding takes one off the TTL, as ip_forward() does (ip_decrease_ttl, include/net/ip.h).
 * The checksum follows by eqn. 3 over the TTL/protocol word, as nodeport.c's decrease_ttl()
 * does with bpf_l3_csum_replace, so both hooks write the same bytes. */
static __always_inline void xpkt4_dec_ttl(struct xpkt4 *p)
{
	__u16 *word = (__u16 *)&p->ip->ttl; /* ttl and protocol share one 16-bit word */
	__u16 old = *word;
	p->ip->ttl--;
	csum_replace16(&p->ip->check, old, *word);
}

/* IPv6 has no header checksum (RFC 8200 section 3); its addresses are in the L4 pseudo header
 * (RFC 8200 section 8.1). */
static __always_inline void xpkt6_set_addr(struct xpkt6 *p, struct in6_addr *field, const struct in6_addr *addr)
{
	__u32 old[4], new[4];
	__builtin_memcpy(old, field, 16);
	__builtin_memcpy(new, addr, 16);
	if (old[0] == new[0] && old[1] == new[1] && old[2] == new[2] && old[3] == new[3])
		return;
	xl4_replace128(&p->csum, old, new);
	__builtin_memcpy(field, new, 16);
}

static __always_inline void xeth_set_macs(struct ethhdr *eth, const __u8 *dmac, const __u8 *smac)
{
	__builtin_memcpy(eth->h_dest, dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, smac, ETH_ALEN);
}

#endif /* BPFBED_KPR_XDP_XLATE_H */
