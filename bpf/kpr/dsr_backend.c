// The backend node's half of NodePort DSR (dsr.h), IPv4 and IPv6, in the shape of Cilium's
// nodeport_extract_dsr_v4 / xlate_dsr_v4 (bpf/lib/nodeport.h):
//
//   dsr_backend_ingress   tc ingress of the node's external device: a packet for a pod here
//                         that carries the DSR option (0x9a, 8 bytes right after the base IPv4
//                         header, where Cilium looks for it) records client tuple -> frontend
//                         address and port in dsr4_ct; packets without the option (TCP after the
//                         SYN) refresh the entry of their connection. Either way the packet goes
//                         on to the pod, the option left in place as Cilium leaves it (Linux
//                         skips an unknown option of a received packet: ip_options_compile),
//                         TTL - 1, MACs from bpf_fib_lookup, bpf_redirect to the pod's device.
//                         Anything else: TC_ACT_OK, to the stack.
//   dsr_backend_reply     tc ingress of the pod's device (what the pod sends): a reply of such a
//                         connection gets the frontend as its source address and port and goes
//                         straight to the client (bpf_fib_lookup, bpf_redirect), not back
//                         through the load-balancing node.
//
// IPv6 the same way (nodeport_extract_dsr_v6 / xlate_dsr_v6): the option in a destination
// options header after the IPv6 header (left in), dsr6_ct, the hop limit instead of the TTL.
//
// The rewrite is xdp_xlate.h's (direct packet writes, RFC 1624 checksums), as at XDP.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "xdp_xlate.h" /* first: linux/tcp.h before ct.h's TCP_FLAG_* macros */
#include "ct.h"
#include "dsr.h"

#ifndef AF_INET
#define AF_INET 2
#endif

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DSR_CT_MAP_MAX_ENTRIES);
	__type(key, struct ct4_key); /* client -> backend as received, dir CT_DIR_FORWARD */
	__type(value, struct dsr4_entry);
} dsr4_ct SEC(".maps");

enum dsr_stat {
	DSR_NEW,      /* an option seen: a connection recorded (or its entry renewed) */
	DSR_KNOWN,    /* a packet of a recorded connection without the option */
	DSR_REPLY,    /* a reply sent to the client from the frontend */
	DSR_PASS,     /* not DSR: to the stack */
	DSR_FIB_FAIL, /* no route: to the stack */
	DSR_STAT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DSR_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} dsr_stats SEC(".maps");

static __always_inline void dsr_count(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&dsr_stats, &what);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* ct.h's ct_touch() for a DSR entry: flags, closing state, a new deadline. */
static __always_inline void dsr_touch(struct dsr4_entry *e, __u8 proto, __u8 tcp_flags, int reply, __u64 now)
{
	CT_TOUCH_ENTRY(e, proto, tcp_flags, reply, now);
}

/* Routes the (rewritten) packet: TTL - 1 as ip_forward() does, MACs from bpf_fib_lookup,
 * bpf_redirect to the device it names; bpf_redirect_neigh when the neighbour is not known yet;
 * the stack when there is no route or the TTL runs out. */
static __always_inline int dsr_forward(struct __sk_buff *skb, struct xpkt4 *p)
{
	if (p->ip->ttl <= 1)
		return TC_ACT_OK;
	struct bpf_fib_lookup fib = {};
	fib.family = AF_INET;
	fib.l4_protocol = p->ip->protocol;
	fib.sport = p->l4->source;
	fib.dport = p->l4->dest;
	fib.tot_len = bpf_ntohs(p->ip->tot_len);
	fib.ipv4_src = p->ip->saddr;
	fib.ipv4_dst = p->ip->daddr;
	fib.ifindex = skb->ifindex;
	xpkt4_dec_ttl(p);
	long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		xeth_set_macs(p->eth, fib.dmac, fib.smac);
		return bpf_redirect(fib.ifindex, 0);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = { .nh_family = AF_INET, .ipv4_nh = fib.ipv4_dst };
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
	dsr_count(DSR_FIB_FAIL);
	return TC_ACT_SHOT;
}

/* ---- IPv6 ---- */

#ifndef AF_INET6
#define AF_INET6 10
#endif

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DSR_CT_MAP_MAX_ENTRIES);
	__type(key, struct dsr6_key);
	__type(value, struct dsr6_entry);
} dsr6_ct SEC(".maps");

static __always_inline void dsr6_touch(struct dsr6_entry *e, __u8 proto, __u8 tcp_flags, int reply, __u64 now)
{
	CT_TOUCH_ENTRY(e, proto, tcp_flags, reply, now);
}

/* dsr_forward for IPv6: hop limit - 1 (ip6_forward; no header checksum), bpf_fib_lookup. */
static __always_inline int dsr_forward6(struct __sk_buff *skb, struct xpkt6 *p)
{
	if (p->ip6->hop_limit <= 1)
		return TC_ACT_OK;
	struct bpf_fib_lookup fib = {};
	fib.family = AF_INET6;
	fib.l4_protocol = p->proto;
	fib.sport = p->l4->source;
	fib.dport = p->l4->dest;
	fib.tot_len = sizeof(struct ipv6hdr) + bpf_ntohs(p->ip6->payload_len);
	__builtin_memcpy(fib.ipv6_src, &p->ip6->saddr, 16);
	__builtin_memcpy(fib.ipv6_dst, &p->ip6->daddr, 16);
	fib.ifindex = skb->ifindex;
	p->ip6->hop_limit--;
	long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		xeth_set_macs(p->eth, fib.dmac, fib.smac);
		return bpf_redirect(fib.ifindex, 0);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = { .nh_family = AF_INET6 };
		__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
		return bpf_redirect_neigh(fib.ifindex, &nh, sizeof(nh), 0);
	}
	dsr_count(DSR_FIB_FAIL);
	return TC_ACT_SHOT;
}

/* The backend node's ingress for IPv6: the option is looked for in a destination options header
 * right after the IPv6 header, where dsr_set_ext6 puts it (Cilium's find_dsr_v6 walks up to four
 * extension headers; other layouts go to the stack here). */
static __always_inline int dsr_backend_ingress6(struct __sk_buff *skb, void *data, void *data_end)
{
	struct xpkt6 p;
	if (xpkt6_parse(data, data_end, &p, 1) != XPKT_OK)
		goto pass;
	struct dsr6_key key = { .sport = p.l4->source, .dport = p.l4->dest, .proto = p.proto, .dir = CT_DIR_FORWARD };
	__builtin_memcpy(&key.saddr, &p.ip6->saddr, 16);
	__builtin_memcpy(&key.daddr, &p.ip6->daddr, 16);
	__u64 now = bpf_ktime_get_ns();
	struct dsr6_entry *e = bpf_map_lookup_elem(&dsr6_ct, &key);
	if (e && e->expires_ns <= now)
		e = NULL;

	struct dsr_opt_v6 *opt = (void *)p.ext;
	if (opt && opt->opt_type == DSR_IPV6_OPT_TYPE && opt->opt_len == DSR_IPV6_OPT_LEN) {
		int reopen = (p.tcp_flags & TCP_FLAG_SYN) && !(p.tcp_flags & TCP_FLAG_ACK) && e && (e->flags & CT_F_CLOSING);
		if (!e || reopen || e->frontend_port != opt->port || e->frontend_addr.d1 != opt->addr.d1 || e->frontend_addr.d2 != opt->addr.d2) {
			struct dsr6_entry fresh = { .created_ns = now, .frontend_port = opt->port, .flags = CT_F_DSR };
			fresh.frontend_addr = opt->addr;
			dsr6_touch(&fresh, key.proto, p.tcp_flags, 0, now);
			if (bpf_map_update_elem(&dsr6_ct, &key, &fresh, BPF_ANY))
				return TC_ACT_SHOT;
		} else {
			dsr6_touch(e, key.proto, p.tcp_flags, 0, now);
		}
		dsr_count(DSR_NEW);
		return dsr_forward6(skb, &p);
	}
	if (opt || !e)
		goto pass; /* another destination option, or not a DSR connection */
	dsr6_touch(e, key.proto, p.tcp_flags, 0, now);
	dsr_count(DSR_KNOWN);
	return dsr_forward6(skb, &p);
pass:
	dsr_count(DSR_PASS);
	return TC_ACT_OK;
}

static __always_inline int dsr_backend_reply6(struct __sk_buff *skb, void *data, void *data_end)
{
	struct xpkt6 p;
	if (xpkt6_parse(data, data_end, &p, 0) != XPKT_OK)
		goto pass;
	struct dsr6_key key = { .sport = p.l4->dest, .dport = p.l4->source, .proto = p.proto, .dir = CT_DIR_FORWARD };
	__builtin_memcpy(&key.saddr, &p.ip6->daddr, 16);
	__builtin_memcpy(&key.daddr, &p.ip6->saddr, 16);
	__u64 now = bpf_ktime_get_ns();
	struct dsr6_entry *e = bpf_map_lookup_elem(&dsr6_ct, &key);
	if (!e || e->expires_ns <= now || p.ip6->hop_limit <= 1)
		goto pass;
	dsr6_touch(e, key.proto, p.tcp_flags, 1, now);
	struct in6_addr frontend;
	__builtin_memcpy(&frontend, &e->frontend_addr, 16);
	xpkt6_set_addr(&p, &p.ip6->saddr, &frontend);
	xl4_set_sport(p.l4, &p.csum, e->frontend_port);
	dsr_count(DSR_REPLY);
	return dsr_forward6(skb, &p);
pass:
	dsr_count(DSR_PASS);
	return TC_ACT_OK;
}

/* ---- the programs ---- */

SEC("tc")
int dsr_backend_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct xpkt4 p;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IPV6))
		return dsr_backend_ingress6(skb, data, data_end);
	if (xpkt4_parse(data, data_end, &p, 1) != XPKT_OK)
		goto pass;
	struct ct4_key key = { .saddr = p.ip->saddr, .daddr = p.ip->daddr, .sport = p.l4->source, .dport = p.l4->dest, .proto = p.ip->protocol, .dir = CT_DIR_FORWARD };
	__u64 now = bpf_ktime_get_ns();
	struct dsr4_entry *e = bpf_map_lookup_elem(&dsr4_ct, &key);
	if (e && e->expires_ns <= now)
		e = NULL;

	/* Cilium checks for the option only in the first 8 bytes after the base header
	 * (IHL >= 7), as dsr_set_opt4 put it there. */
	struct dsr_opt_v4 *opt = (void *)(p.ip + 1);
	if (p.ip->ihl >= 7 && (void *)(opt + 1) <= data_end && opt->type == DSR_IPV4_OPT_TYPE && opt->len == sizeof(*opt)) {
		/* A new connection, or the same tuple reused (a SYN reopening a closing one, or
		 * sent to another frontend): a fresh entry. Else the live one is renewed. */
		int reopen = (p.tcp_flags & TCP_FLAG_SYN) && !(p.tcp_flags & TCP_FLAG_ACK) && e && (e->flags & CT_F_CLOSING);
		if (!e || reopen || e->frontend_addr != opt->addr || e->frontend_port != opt->port) {
			struct dsr4_entry fresh = { .created_ns = now, .frontend_addr = opt->addr, .frontend_port = opt->port, .flags = CT_F_DSR };
			dsr_touch(&fresh, key.proto, p.tcp_flags, 0, now);
			if (bpf_map_update_elem(&dsr4_ct, &key, &fresh, BPF_ANY))
				return TC_ACT_SHOT;
		} else {
			dsr_touch(e, key.proto, p.tcp_flags, 0, now);
		}
		dsr_count(DSR_NEW);
		return dsr_forward(skb, &p);
	}
	if (!e)
		goto pass;
	dsr_touch(e, key.proto, p.tcp_flags, 0, now);
	dsr_count(DSR_KNOWN);
	return dsr_forward(skb, &p);
pass:
	dsr_count(DSR_PASS);
	return TC_ACT_OK;
}

SEC("tc")
int dsr_backend_reply(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct xpkt4 p;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IPV6))
		return dsr_backend_reply6(skb, data, data_end);
	if (xpkt4_parse(data, data_end, &p, 0) != XPKT_OK)
		goto pass;
	/* The connection as the backend received it: the reply's tuple turned around. */
	struct ct4_key key = { .saddr = p.ip->daddr, .daddr = p.ip->saddr, .sport = p.l4->dest, .dport = p.l4->source, .proto = p.ip->protocol, .dir = CT_DIR_FORWARD };
	__u64 now = bpf_ktime_get_ns();
	struct dsr4_entry *e = bpf_map_lookup_elem(&dsr4_ct, &key);
	if (!e || e->expires_ns <= now || p.ip->ttl <= 1)
		goto pass;
	dsr_touch(e, key.proto, p.tcp_flags, 1, now);
	xpkt4_set_saddr(&p, e->frontend_addr);
	xl4_set_sport(p.l4, &p.csum, e->frontend_port);
	dsr_count(DSR_REPLY);
	return dsr_forward(skb, &p);
pass:
	dsr_count(DSR_PASS);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
