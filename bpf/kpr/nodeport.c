// The tc ingress NodePort datapath, IPv4 (the design of Cilium's bpf/lib/nodeport.h, described in
// ../shared/seeds/cilium-k8s-service-lb-ebpf.txt), for the node's external device and, for
// replies of backends on this node, the backends' devices:
//
//   client -> node:NodePort   service lookup (the node address, else 0.0.0.0 with
//                             SVC_FLAG_NODEPORT when the address is one of node_addrs), backend
//                             by a hash of the tuple, connection tracking (ct.h), DNAT;
//       backend here          (lb4_backend.ifindex != 0): bpf_redirect to its device, MACs
//                             from bpf_fib_lookup;
//       backend elsewhere     SNAT to the node address with an allocated port (nat.h),
//                             bpf_fib_lookup for the next hop, bpf_redirect out
//                             (bpf_redirect_neigh when the kernel has no neighbour yet);
//   backend -> node:port      reverse SNAT (snat4), reverse DNAT (ct4 + lb4_reverse_nat),
//   (or backend -> client)    bpf_fib_lookup towards the client, redirect;
//   ICMP error about such a   the quoted packet and the error translated back the same way,
//   translated packet         to the client;
//   anything else             TC_ACT_OK, to the stack.
//
// A service without backends drops (TC_ACT_SHOT), as Cilium's DROP_NO_SERVICE does. Counters
// are in np_stats (enum np_stat).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lb.h"
#include "ct.h"
#include "nat.h"

#ifndef AF_INET
#define AF_INET 2
#endif

/* What the control plane says about this node (key 0). */
struct nodeport_config {
	__be32 snat_addr; /* the node address SNAT uses towards remote backends */
	__u16 port_min;	  /* SNAT port range, host order, inclusive (Cilium: 32768-60999, the */
	__u16 port_max;	  /* kernel's ip_local_port_range default) */
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nodeport_config);
} nodeport_config SEC(".maps");

/* The node's own IPv4 addresses: a NodePort is open on each of them (0.0.0.0 service keys). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __be32);
	__type(value, __u8);
} node_addrs SEC(".maps");

enum np_stat {
	NP_PASS,	     /* not for a service: to the stack */
	NP_LOCAL,	     /* to a backend on this node */
	NP_REMOTE,	     /* to a backend on another node (SNAT) */
	NP_REPLY,	     /* a backend's reply, translated back */
	NP_NO_BACKEND,	     /* dropped: the service has no backend */
	NP_NAT_FAIL,	     /* dropped: no free SNAT port */
	NP_FIB_FAIL,	     /* dropped: no route */
	NP_NEIGH,	     /* sent with bpf_redirect_neigh (no neighbour entry yet) */
	NP_SNAT_COLLISION,   /* a hashed SNAT port was taken: retried at random */
	NP_STAT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NP_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} np_stats SEC(".maps");

static __always_inline void count(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&np_stats, &what);
	if (n)
		__sync_fetch_and_add(n, 1);
}

#define IP_OFF ETH_HLEN
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_TTL_OFF (IP_OFF + offsetof(struct iphdr, ttl))
#define IP_SRC_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (IP_OFF + offsetof(struct iphdr, daddr))
#define L4_OFF (IP_OFF + sizeof(struct iphdr))
#define L4_SPORT_OFF (L4_OFF + offsetof(struct udphdr, source))
#define L4_DPORT_OFF (L4_OFF + offsetof(struct udphdr, dest))

/* The packet's addresses and ports, network order. */
struct tuple4 {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
};

/* A 32-bit mix of the tuple (the finaliser of MurmurHash3): the backend slot and the first
 * SNAT port candidate. Deterministic, so the kernel and bpfbed pick the same. */
static __always_inline __u32 tuple_hash(__be32 a, __be32 b, __u32 ports, __u32 seed)
{
	__u32 h = seed ^ a;
	h = (h ^ (h >> 16)) * 0x85ebca6b;
	h ^= b;
	h = (h ^ (h >> 13)) * 0xc2b2ae35;
	h ^= ports;
	h = (h ^ (h >> 16)) * 0x85ebca6b;
	return h ^ (h >> 13);
}

/* Rewrites the tuple from `old` to `new` with the checksum helpers: the IP header checksum for
 * the addresses, the L4 checksum for the addresses (pseudo header) and ports. For UDP a zero
 * checksum (none) stays zero: BPF_F_MARK_MANGLED_0 (net/core/filter.c, bpf_l4_csum_replace). */
static __always_inline int rewrite_tuple(struct __sk_buff *skb, const struct tuple4 *old, const struct tuple4 *new)
{
	__u32 csum_off = L4_OFF + (old->proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
	__u64 udp = old->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (old->saddr != new->saddr) {
		if (bpf_l4_csum_replace(skb, csum_off, old->saddr, new->saddr, BPF_F_PSEUDO_HDR | sizeof(__be32) | udp) ||
		    bpf_l3_csum_replace(skb, IP_CSUM_OFF, old->saddr, new->saddr, sizeof(__be32)) ||
		    bpf_skb_store_bytes(skb, IP_SRC_OFF, &new->saddr, sizeof(__be32), 0))
			return -1;
	}
	if (old->daddr != new->daddr) {
		if (bpf_l4_csum_replace(skb, csum_off, old->daddr, new->daddr, BPF_F_PSEUDO_HDR | sizeof(__be32) | udp) ||
		    bpf_l3_csum_replace(skb, IP_CSUM_OFF, old->daddr, new->daddr, sizeof(__be32)) ||
		    bpf_skb_store_bytes(skb, IP_DST_OFF, &new->daddr, sizeof(__be32), 0))
			return -1;
	}
	if (old->sport != new->sport) {
		if (bpf_l4_csum_replace(skb, csum_off, old->sport, new->sport, sizeof(__be16) | udp) ||
		    bpf_skb_store_bytes(skb, L4_SPORT_OFF, &new->sport, sizeof(__be16), 0))
			return -1;
	}
	if (old->dport != new->dport) {
		if (bpf_l4_csum_replace(skb, csum_off, old->dport, new->dport, sizeof(__be16) | udp) ||
		    bpf_skb_store_bytes(skb, L4_DPORT_OFF, &new->dport, sizeof(__be16), 0))
			return -1;
	}
	return 0;
}

/* The node forwards the packet, so the TTL goes down by one as ip_forward() would do it
 * (ip_decrease_ttl, include/net/ip.h), with the header checksum adjusted over the 16-bit word
 * that holds TTL and protocol. */
static __always_inline int decrease_ttl(struct __sk_buff *skb, __u8 ttl, __u8 proto)
{
	__u8 old_word[2] = { ttl, proto };
	__u8 new_word[2] = { ttl - 1, proto };
	__u16 old16, new16;
	__builtin_memcpy(&old16, old_word, 2);
	__builtin_memcpy(&new16, new_word, 2);
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old16, new16, sizeof(__u16)))
		return -1;
	return bpf_skb_store_bytes(skb, IP_TTL_OFF, &new_word[0], 1, 0);
}

/* Sends the (rewritten) packet towards `daddr` from `saddr`: bpf_fib_lookup gives the device
 * and both MACs (net/core/filter.c, bpf_ipv4_fib_lookup); without a neighbour entry
 * (BPF_FIB_LKUP_RET_NO_NEIGH) bpf_redirect_neigh resolves it on the way out, to the next hop
 * the lookup found (Cilium's fib_redirect(), bpf/lib/fib.h). `to_ifindex`, when not 0, is the
 * device to send to whatever the route says (a backend's own device). */
static __always_inline int fib_redirect(struct __sk_buff *skb, const struct tuple4 *t, __u16 tot_len, __u32 to_ifindex)
{
	struct bpf_fib_lookup fib = {};
	fib.family = AF_INET;
	fib.l4_protocol = t->proto;
	fib.sport = t->sport;
	fib.dport = t->dport;
	fib.tot_len = tot_len;
	fib.ipv4_src = t->saddr;
	fib.ipv4_dst = t->daddr;
	fib.ifindex = skb->ifindex;

	long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), fib.dmac, ETH_ALEN, 0) ||
		    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_source), fib.smac, ETH_ALEN, 0))
			return TC_ACT_SHOT;
		return bpf_redirect(to_ifindex ? to_ifindex : fib.ifindex, 0);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = { .nh_family = AF_INET, .ipv4_nh = fib.ipv4_dst };
		count(NP_NEIGH);
		return bpf_redirect_neigh(to_ifindex ? to_ifindex : fib.ifindex, &nh, sizeof(nh), 0);
	}
	count(NP_FIB_FAIL);
	return TC_ACT_SHOT;
}

/* The service for (daddr, dport, proto): the address itself first, then the NodePort wildcard
 * 0.0.0.0 when daddr is one of this node's addresses (Cilium's lb4_lookup_service with the
 * NodePort surrogate frontend). */
static __always_inline struct lb4_service *service_lookup(const struct tuple4 *t)
{
	struct lb4_key key = { .address = t->daddr, .dport = t->dport, .proto = t->proto };
	struct lb4_service *svc = bpf_map_lookup_elem(&lb4_services, &key);
	if (svc)
		return svc;
	if (!bpf_map_lookup_elem(&node_addrs, &t->daddr))
		return NULL;
	key.address = 0;
	svc = bpf_map_lookup_elem(&lb4_services, &key);
	if (svc && (svc->flags & SVC_FLAG_NODEPORT))
		return svc;
	return NULL;
}

/* Allocates the SNAT port for the outgoing tuple `out` and writes both NAT entries. Returns the
 * port (network order) or 0 when every candidate was taken. */
static __always_inline __be16 snat_allocate(const struct tuple4 *out, const struct nodeport_config *cfg)
{
	struct nat4_key fwd = { .saddr = out->saddr, .daddr = out->daddr, .sport = out->sport, .dport = out->dport, .proto = out->proto, .dir = NAT_DIR_EGRESS };
	struct nat4_key rev = { .saddr = out->daddr, .daddr = cfg->snat_addr, .sport = out->dport, .proto = out->proto, .dir = NAT_DIR_INGRESS };
	struct nat4_entry back = { .to_addr = out->saddr, .to_port = out->sport };
	struct nat4_entry *known = bpf_map_lookup_elem(&snat4, &fwd);
	if (known) {
		/* The LRU may have evicted the reply half alone: put it back, unless another
		 * connection has taken the port since (BPF_NOEXIST). */
		rev.dport = known->to_port;
		bpf_map_update_elem(&snat4, &rev, &back, BPF_NOEXIST);
		return known->to_port;
	}

	__u32 range = (__u32)cfg->port_max - cfg->port_min + 1;
	if (cfg->port_max < cfg->port_min)
		return 0;
	__u32 candidate = tuple_hash(out->saddr, out->daddr, ((__u32)out->sport << 16) | out->dport, out->proto) % range;

	for (int i = 0; i <= SNAT_COLLISION_RETRIES; i++) {
		__be16 port = bpf_htons((__u16)(cfg->port_min + candidate));
		rev.dport = port;
		/* BPF_NOEXIST: the reply tuple is the one that must be unique */
		if (bpf_map_update_elem(&snat4, &rev, &back, BPF_NOEXIST) == 0) {
			struct nat4_entry there = { .to_addr = cfg->snat_addr, .to_port = port };
			if (bpf_map_update_elem(&snat4, &fwd, &there, BPF_ANY)) {
				bpf_map_delete_elem(&snat4, &rev);
				return 0;
			}
			return port;
		}
		count(NP_SNAT_COLLISION);
		candidate = bpf_get_prandom_u32() % range;
	}
	return 0;
}

/* client -> node:NodePort. */
static __always_inline int nodeport_forward(struct __sk_buff *skb, const struct tuple4 *t, struct lb4_service *svc, __u8 tcp_flags,
					    __u8 ttl, __u16 tot_len)
{
	__u64 now = bpf_ktime_get_ns();
	struct ct4_key skey = { .saddr = t->saddr, .daddr = t->daddr, .sport = t->sport, .dport = t->dport, .proto = t->proto, .dir = CT_DIR_SERVICE };
	struct ct_entry *ct = bpf_map_lookup_elem(&ct4, &skey);
	struct lb4_backend *be = NULL;
	__u32 backend_id = 0;

	/* A known connection keeps its backend while that backend exists and the entry lives; a
	 * new SYN on a closing connection starts over (Cilium: ct_lookup's CT_REOPENED). */
	if (ct && ct->expires_ns > now && !((ct->flags & CT_F_CLOSING) && (tcp_flags & TCP_FLAG_SYN) && !(tcp_flags & TCP_FLAG_ACK))) {
		backend_id = ct->backend_id;
		be = bpf_map_lookup_elem(&lb4_backends, &backend_id);
		if (be)
			ct_touch(ct, t->proto, tcp_flags, 0, now);
	}
	if (!be) {
		if (svc->count == 0) {
			count(NP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
		struct lb4_key slot_key = { .address = 0, .dport = t->dport, .proto = t->proto };
		struct lb4_key svc_key = { .address = t->daddr, .dport = t->dport, .proto = t->proto };
		if (!bpf_map_lookup_elem(&lb4_services, &svc_key))
			svc_key.address = 0; /* the NodePort wildcard matched */
		slot_key.address = svc_key.address;
		slot_key.backend_slot = (__u16)(tuple_hash(t->saddr, t->daddr, ((__u32)t->sport << 16) | t->dport, t->proto) % svc->count) + 1;
		struct lb4_service *slot = bpf_map_lookup_elem(&lb4_services, &slot_key);
		if (!slot) {
			count(NP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
		backend_id = slot->backend_id;
		be = bpf_map_lookup_elem(&lb4_backends, &backend_id);
		if (!be) {
			count(NP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
		struct ct_entry fresh = {
			.created_ns = now,
			.backend_id = backend_id,
			.rev_nat_index = svc->rev_nat_index,
			.frontend_addr = t->daddr,
			.frontend_port = t->dport,
			.flags = be->ifindex ? 0 : CT_F_REMOTE,
		};
		ct_touch(&fresh, t->proto, tcp_flags, 0, now);
		fresh.packets = 1;
		if (bpf_map_update_elem(&ct4, &skey, &fresh, BPF_ANY))
			return TC_ACT_SHOT;
	}

	struct tuple4 out = *t;
	out.daddr = be->address;
	out.dport = be->port;
	__u32 ifindex = be->ifindex;

	/* The entry replies are found by: the tuple after DNAT (before SNAT), as the reply
	 * looks after reverse SNAT. */
	struct ct4_key fkey = { .saddr = out.saddr, .daddr = out.daddr, .sport = out.sport, .dport = out.dport, .proto = out.proto, .dir = CT_DIR_FORWARD };
	struct ct_entry *fct = bpf_map_lookup_elem(&ct4, &fkey);
	if (fct && fct->backend_id == backend_id && fct->expires_ns > now) {
		ct_touch(fct, t->proto, tcp_flags, 0, now);
	} else {
		struct ct_entry fresh = {
			.created_ns = now,
			.backend_id = backend_id,
			.rev_nat_index = svc->rev_nat_index,
			.frontend_addr = t->daddr,
			.frontend_port = t->dport,
			.flags = ifindex ? 0 : CT_F_REMOTE,
		};
		ct_touch(&fresh, t->proto, tcp_flags, 0, now);
		fresh.packets = 1;
		if (bpf_map_update_elem(&ct4, &fkey, &fresh, BPF_ANY))
			return TC_ACT_SHOT;
	}

	if (ttl <= 1)
		return TC_ACT_OK; /* the stack answers with ICMP time exceeded */

	if (ifindex) {
		if (rewrite_tuple(skb, t, &out) || decrease_ttl(skb, ttl, t->proto))
			return TC_ACT_SHOT;
		count(NP_LOCAL);
		/* To the backend's device; the lookup only supplies the MACs (Cilium takes them
		 * from its endpoint map): bpf_redirect alone would leave the client's L2 header. */
		return fib_redirect(skb, &out, tot_len, ifindex);
	}

	__u32 zero = 0;
	struct nodeport_config *cfg = bpf_map_lookup_elem(&nodeport_config, &zero);
	if (!cfg || !cfg->snat_addr) {
		count(NP_NAT_FAIL);
		return TC_ACT_SHOT;
	}
	__be16 port = snat_allocate(&out, cfg);
	if (!port) {
		count(NP_NAT_FAIL);
		return TC_ACT_SHOT;
	}
	out.saddr = cfg->snat_addr;
	out.sport = port;
	if (rewrite_tuple(skb, t, &out) || decrease_ttl(skb, ttl, t->proto))
		return TC_ACT_SHOT;
	count(NP_REMOTE);
	return fib_redirect(skb, &out, tot_len, 0);
}

/* A packet that may be a backend's reply: reverse SNAT when it is addressed to an allocated
 * port, then reverse DNAT when conntrack knows the connection; TC_ACT_OK (to the stack) when it
 * is neither. */
static __always_inline int nodeport_reply(struct __sk_buff *skb, const struct tuple4 *t, __u8 tcp_flags, __u8 ttl, __u16 tot_len)
{
	struct tuple4 orig = *t; /* the reply as it would look without SNAT: backend -> client */
	struct nat4_key nkey = { .saddr = t->saddr, .daddr = t->daddr, .sport = t->sport, .dport = t->dport, .proto = t->proto, .dir = NAT_DIR_INGRESS };
	struct nat4_entry *nat = bpf_map_lookup_elem(&snat4, &nkey);
	if (nat) {
		orig.daddr = nat->to_addr;
		orig.dport = nat->to_port;
	}

	struct ct4_key fkey = { .saddr = orig.daddr, .daddr = orig.saddr, .sport = orig.dport, .dport = orig.sport, .proto = t->proto, .dir = CT_DIR_FORWARD };
	struct ct_entry *ct = bpf_map_lookup_elem(&ct4, &fkey);
	__u64 now = bpf_ktime_get_ns();
	if (!ct || ct->expires_ns <= now)
		return TC_ACT_OK;

	struct tuple4 out = orig;
	__u16 rev_index = ct->rev_nat_index;
	struct lb4_reverse_nat *rnat = bpf_map_lookup_elem(&lb4_reverse_nat, &rev_index);
	/* The frontend the client used: the reverse-NAT entry, unless that is the NodePort
	 * wildcard 0.0.0.0 — then the node address the client sent to, kept in the CT entry. */
	out.saddr = rnat && rnat->address ? rnat->address : ct->frontend_addr;
	out.sport = rnat ? rnat->port : ct->frontend_port;
	ct_touch(ct, t->proto, tcp_flags, 1, now);
	/* the service-side entry follows, so both lifetimes agree */
	struct ct4_key skey = { .saddr = out.daddr, .daddr = ct->frontend_addr, .sport = out.dport, .dport = ct->frontend_port, .proto = t->proto, .dir = CT_DIR_SERVICE };
	struct ct_entry *sct = bpf_map_lookup_elem(&ct4, &skey);
	if (sct)
		ct_touch(sct, t->proto, tcp_flags, 1, now);

	if (ttl <= 1)
		return TC_ACT_OK;
	if (rewrite_tuple(skb, t, &out) || decrease_ttl(skb, ttl, t->proto))
		return TC_ACT_SHOT;
	count(NP_REPLY);
	return fib_redirect(skb, &out, tot_len, 0);
}

/* ICMP errors (destination unreachable, time exceeded) about a packet this datapath translated
 * towards a backend come back like replies: the quoted packet (RFC 792: the IP header and the
 * first 8 bytes of its payload, the ports) is the translated one, backend-bound. Translate it
 * back to what the client sent — src client:port, dst frontend — and send the error to the
 * client, as Cilium's snat_v4_rev_nat / __lb4_rev_nat handle ICMP errors (the kernel's
 * nf_nat_icmp_reply_translation is the same idea). Checksums: outer IP header; the quoted IP
 * header; the quoted UDP checksum when there is one (a quoted TCP checksum lies beyond the 8
 * bytes); and the ICMP checksum over all those changes (no pseudo header for ICMP). */
#define ICMP_OFF L4_OFF
#define ICMP_CSUM_OFF (ICMP_OFF + 2)
#define IN_IP_OFF (ICMP_OFF + 8)
#define IN_IP_CSUM_OFF (IN_IP_OFF + offsetof(struct iphdr, check))
#define IN_IP_SRC_OFF (IN_IP_OFF + offsetof(struct iphdr, saddr))
#define IN_IP_DST_OFF (IN_IP_OFF + offsetof(struct iphdr, daddr))
#define IN_L4_OFF (IN_IP_OFF + sizeof(struct iphdr))
#define IN_UDP_CSUM_OFF (IN_L4_OFF + offsetof(struct udphdr, check))

/* Replaces a 16- or 32-bit field of the quoted packet, keeping the ICMP checksum right. */
static __always_inline int icmp_inner_store(struct __sk_buff *skb, __u32 off, __u32 old, __u32 new, __u32 size)
{
	if (old == new)
		return 0;
	if (bpf_l4_csum_replace(skb, ICMP_CSUM_OFF, old, new, size))
		return -1;
	return bpf_skb_store_bytes(skb, off, &new, size, 0);
}

/* Replaces a quoted address: the quoted IP checksum, the quoted UDP checksum (pseudo header)
 * and both of their changes in the ICMP checksum. */
static __always_inline int icmp_inner_addr(struct __sk_buff *skb, __u32 off, __be32 old, __be32 new, int udp_csum)
{
	__sum16 before, after;
	if (old == new)
		return 0;
	if (bpf_skb_load_bytes(skb, IN_IP_CSUM_OFF, &before, 2) || bpf_l3_csum_replace(skb, IN_IP_CSUM_OFF, old, new, 4) ||
	    bpf_skb_load_bytes(skb, IN_IP_CSUM_OFF, &after, 2) || bpf_l4_csum_replace(skb, ICMP_CSUM_OFF, before, after, 2))
		return -1;
	if (udp_csum) {
		if (bpf_skb_load_bytes(skb, IN_UDP_CSUM_OFF, &before, 2) ||
		    bpf_l4_csum_replace(skb, IN_UDP_CSUM_OFF, old, new, BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | 4) ||
		    bpf_skb_load_bytes(skb, IN_UDP_CSUM_OFF, &after, 2) || bpf_l4_csum_replace(skb, ICMP_CSUM_OFF, before, after, 2))
			return -1;
	}
	return icmp_inner_store(skb, off, old, new, 4);
}

static __always_inline int icmp_inner_port(struct __sk_buff *skb, __u32 off, __be16 old, __be16 new, int udp_csum)
{
	__sum16 before, after;
	if (old == new)
		return 0;
	if (udp_csum) {
		if (bpf_skb_load_bytes(skb, IN_UDP_CSUM_OFF, &before, 2) ||
		    bpf_l4_csum_replace(skb, IN_UDP_CSUM_OFF, old, new, BPF_F_MARK_MANGLED_0 | 2) ||
		    bpf_skb_load_bytes(skb, IN_UDP_CSUM_OFF, &after, 2) || bpf_l4_csum_replace(skb, ICMP_CSUM_OFF, before, after, 2))
			return -1;
	}
	return icmp_inner_store(skb, off, old, new, 2);
}

static __always_inline int nodeport_icmp_error(struct __sk_buff *skb, struct iphdr *ip, void *data_end)
{
	__u8 *icmp = (void *)(ip + 1);
	struct iphdr *in = (void *)(icmp + 8);
	struct udphdr *in_l4 = (void *)(in + 1);
	if ((void *)(in_l4 + 1) > data_end)
		return TC_ACT_OK;
	if (icmp[0] != 3 && icmp[0] != 11) /* ICMP_DEST_UNREACH, ICMP_TIME_EXCEEDED */
		return TC_ACT_OK;
	if (in->ihl != 5 || (in->protocol != IPPROTO_TCP && in->protocol != IPPROTO_UDP))
		return TC_ACT_OK;

	/* The reply the quoted packet would have: backend -> whoever it was sent from. */
	struct tuple4 r = { .saddr = in->daddr, .daddr = in->saddr, .sport = in_l4->dest, .dport = in_l4->source, .proto = in->protocol };
	__be32 outer_src = ip->saddr, outer_dst = ip->daddr;
	__u8 ttl = ip->ttl;
	__u16 tot_len = bpf_ntohs(ip->tot_len);
	int udp_csum = in->protocol == IPPROTO_UDP && in_l4->check != 0;

	struct nat4_key nkey = { .saddr = r.saddr, .daddr = r.daddr, .sport = r.sport, .dport = r.dport, .proto = r.proto, .dir = NAT_DIR_INGRESS };
	struct nat4_entry *nat = bpf_map_lookup_elem(&snat4, &nkey);
	__be32 client = nat ? nat->to_addr : r.daddr;
	__be16 client_port = nat ? nat->to_port : r.dport;
	struct ct4_key fkey = { .saddr = client, .daddr = r.saddr, .sport = client_port, .dport = r.sport, .proto = r.proto, .dir = CT_DIR_FORWARD };
	struct ct_entry *ct = bpf_map_lookup_elem(&ct4, &fkey);
	if (!ct || ct->expires_ns <= bpf_ktime_get_ns() || ttl <= 1)
		return TC_ACT_OK;
	__u16 rev_index = ct->rev_nat_index;
	struct lb4_reverse_nat *rnat = bpf_map_lookup_elem(&lb4_reverse_nat, &rev_index);
	__be32 frontend = rnat && rnat->address ? rnat->address : ct->frontend_addr;
	__be16 frontend_port = rnat ? rnat->port : ct->frontend_port;

	/* the quoted packet: client:port -> frontend, as the client sent it */
	if (icmp_inner_addr(skb, IN_IP_SRC_OFF, r.daddr, client, udp_csum) || icmp_inner_addr(skb, IN_IP_DST_OFF, r.saddr, frontend, udp_csum) ||
	    icmp_inner_port(skb, IN_L4_OFF + offsetof(struct udphdr, source), r.dport, client_port, udp_csum) ||
	    icmp_inner_port(skb, IN_L4_OFF + offsetof(struct udphdr, dest), r.sport, frontend_port, udp_csum))
		return TC_ACT_SHOT;
	/* the error itself: to the client; from the frontend when the backend sent it */
	__be32 new_src = outer_src == r.saddr ? frontend : outer_src;
	if (new_src != outer_src &&
	    (bpf_l3_csum_replace(skb, IP_CSUM_OFF, outer_src, new_src, 4) || bpf_skb_store_bytes(skb, IP_SRC_OFF, &new_src, 4, 0)))
		return TC_ACT_SHOT;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, outer_dst, client, 4) || bpf_skb_store_bytes(skb, IP_DST_OFF, &client, 4, 0) ||
	    decrease_ttl(skb, ttl, IPPROTO_ICMP))
		return TC_ACT_SHOT;
	count(NP_REPLY);
	struct tuple4 to_client = { .saddr = new_src, .daddr = client, .proto = IPPROTO_ICMP };
	return fib_redirect(skb, &to_client, tot_len, 0);
}

SEC("tc")
int nodeport_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto pass;
	/* Options and fragments go to the stack: the L4 header is not where we look, or not there. */
	if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)))
		goto pass;
	if (ip->protocol == IPPROTO_ICMP) {
		int verdict = nodeport_icmp_error(skb, ip, data_end);
		if (verdict != TC_ACT_OK)
			return verdict;
		goto pass;
	}
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		goto pass;
	struct udphdr *l4 = (void *)(ip + 1); /* TCP and UDP both start with the ports */
	if ((void *)(l4 + 1) > data_end)
		goto pass;
	__u8 tcp_flags = 0;
	if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = (void *)(ip + 1);
		if ((void *)(tcp + 1) > data_end)
			goto pass;
		tcp_flags = ((__u8 *)tcp)[13];
	}
	struct tuple4 t = { .saddr = ip->saddr, .daddr = ip->daddr, .sport = l4->source, .dport = l4->dest, .proto = ip->protocol };
	__u8 ttl = ip->ttl;
	__u16 tot_len = bpf_ntohs(ip->tot_len);

	struct lb4_service *svc = service_lookup(&t);
	if (svc)
		return nodeport_forward(skb, &t, svc, tcp_flags, ttl, tot_len);
	int verdict = nodeport_reply(skb, &t, tcp_flags, ttl, tot_len);
	if (verdict != TC_ACT_OK)
		return verdict;
pass:
	count(NP_PASS);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
