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
//
// Per service (slot 0 flags, set by the control plane from the Service):
//   SVC_FLAG_AFFINITY       sessionAffinity: ClientIP — a new connection goes to the backend
//                           lb4_affinity / lb6_affinity remembers for its client address while
//                           that is younger than the timeout and lb_affinity_match still pairs
//                           it with the service (Cilium's lb4_affinity_backend_id);
//   SVC_FLAG_LOCAL_SCOPE    externalTrafficPolicy: Local — only backends on this node; none
//                           left drops (NP_NO_LOCAL_BACKEND);
//   SVC_FLAG_DSR            a backend on another node gets the packet DNATed only, no SNAT,
//                           the frontend carried in an IPv4 option / IPv6 destination options
//                           header (dsr.h) on a TCP SYN and on every UDP packet, inserted with
//                           bpf_skb_adjust_room (Cilium's dsr_set_opt4 / dsr_set_ext6): for
//                           packets XDP passed on (nodeport_xdp.c) and without XDP alike;
//   SVC_FLAG2_MAGLEV        (flags2) a new connection's backend comes from the service's
//                           Maglev table (maglev.h, lb4_maglev / lb6_maglev), not its slots.
// IPv6 (nodeport_v6) does all of the above with its own maps (ct6, snat6, node_addrs6,
// nodeport_config6), after skipping extension headers.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "lb.h"
#include "ct.h"
#include "nat.h"
#include "maglev.h"
#include "dsr.h"

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
	NP_NO_LOCAL_BACKEND, /* dropped: externalTrafficPolicy Local and no backend on this node */
	NP_AFFINITY,	     /* a new connection given its client's backend (sessionAffinity) */
	NP_DSR_OPT,	     /* a DSR option (IPv4) or destination options header (IPv6) inserted at tc */
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

/* sessionAffinity: ClientIP (lb.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_AFFINITY_MAP_MAX_ENTRIES);
	__type(key, struct lb4_affinity_key);
	__type(value, struct lb_affinity_val);
} lb4_affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_AFFINITY_MAP_MAX_ENTRIES);
	__type(key, struct lb6_affinity_key);
	__type(value, struct lb_affinity_val);
} lb6_affinity SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_BACKENDS_MAP_MAX_ENTRIES);
	__type(key, struct lb_affinity_match);
	__type(value, __u8);
} lb_affinity_match SEC(".maps");

/* The backend `val` remembers for the service, or 0: Cilium's lb4_affinity_backend_id. The
 * session is sticky on [last_used, last_used + timeout): an entry at or past its deadline, or
 * naming a backend the service no longer has (no lb_affinity_match entry), is deleted. The
 * timeout is slot 0's backend_id, in seconds (lb.h). */
static __always_inline __u32 affinity_backend(void *map, const void *key, __u32 timeout_s, __u16 rev_nat, __u64 now)
{
	struct lb_affinity_val *val = bpf_map_lookup_elem(map, key);
	if (!val)
		return 0;
	struct lb_affinity_match match = { .backend_id = val->backend_id, .rev_nat_id = rev_nat };
	if (val->last_used + (__u64)timeout_s * NSEC_PER_SEC <= now || !bpf_map_lookup_elem(&lb_affinity_match, &match)) {
		bpf_map_delete_elem(map, key);
		return 0;
	}
	return val->backend_id;
}

/* Records (or refreshes) the client's backend: Cilium's lb4_update_affinity_by_addr, called on
 * every pass through the service path, so the timeout runs from the client's last packet. */
static __always_inline void affinity_update(void *map, const void *key, __u32 backend_id, __u64 now)
{
	struct lb_affinity_val val = { .last_used = now, .backend_id = backend_id };
	bpf_map_update_elem(map, key, &val, BPF_ANY);
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

/* Inserts the DSR option after the base IPv4 header at tc, as Cilium's dsr_set_opt4
 * (bpf/lib/nodeport.h): bpf_skb_adjust_room(BPF_ADJ_ROOM_NET) opens 8 bytes right after the
 * 20-byte base header (net/core/filter.c bpf_skb_adjust_room: off = mac_len +
 * bpf_skb_net_base_len), then IHL + 2, total length + 8 and the header checksum by RFC 1624
 * eqn. 3 over the two changed words and the option's four new ones. The L4 checksum stays: its
 * pseudo header counts the L4 length, not the IP total length. Only IHL 5 packets get here
 * (nodeport_v4), so the options stay within MAX_IPOPTLEN. The header is written through direct
 * packet pointers: no stack buffer for bpf_csum_diff / bpf_skb_store_bytes (the tc path's
 * frame is nearly full). */
static __always_inline int dsr_set_opt4(struct __sk_buff *skb, __be32 frontend_addr, __be16 frontend_port)
{
	/* BPF_F_ADJ_ROOM_NO_CSUM_RESET: Cilium's ctx_adjust_hroom_flags() */
	if (bpf_skb_adjust_room(skb, sizeof(struct dsr_opt_v4), BPF_ADJ_ROOM_NET, BPF_F_ADJ_ROOM_NO_CSUM_RESET))
		return -1;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct dsr_opt_v4 *opt = (void *)(ip + 1);
	if ((void *)(opt + 1) > data_end)
		return -1;
	__u16 *words = (__u16 *)ip;
	__u32 sum = (__u16)~ip->check;
	sum += (__u16)~words[0] + (__u16)~words[1]; /* version/IHL/TOS, total length: before */
	ip->ihl += sizeof(*opt) / 4;
	ip->tot_len = bpf_htons(bpf_ntohs(ip->tot_len) + sizeof(*opt));
	sum += words[0] + words[1]; /* ... and after */
	opt->type = DSR_IPV4_OPT_TYPE;
	opt->len = sizeof(*opt);
	opt->port = frontend_port;
	opt->addr = frontend_addr;
	__u16 *o = (__u16 *)opt;
	sum += o[0] + o[1] + o[2] + o[3]; /* new words: m = 0 */
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->check = (__u16)~sum;
	count(NP_DSR_OPT);
	return 0;
}

/* The hash slot of a service for this tuple (a hash of the tuple, so a connection keeps its
 * backend without state): slot 1..count of the frontend the packet matched,
 * the exact address or else the NodePort wildcard (address 0). NULL when the slot is missing. */
static __always_inline struct lb4_service *lb4_hash_slot(const struct tuple4 *t, const struct lb4_service *svc)
{
	struct lb4_key svc_key = { .address = t->daddr, .dport = t->dport, .proto = t->proto };
	if (!bpf_map_lookup_elem(&lb4_services, &svc_key))
		svc_key.address = 0; /* the NodePort wildcard matched */
	struct lb4_key slot_key = { .address = svc_key.address, .dport = t->dport, .proto = t->proto };
	slot_key.backend_slot = (__u16)(tuple_hash(t->saddr, t->daddr, ((__u32)t->sport << 16) | t->dport, t->proto) % svc->count) + 1;
	return bpf_map_lookup_elem(&lb4_services, &slot_key);
}

/* A CT entry for a new IPv4 connection (or a new direction of lookup), as ct6_create. */
static __always_inline int ct4_create(const struct ct4_key *key, const struct tuple4 *t, __u32 backend_id, __u16 rev_nat, __u8 flags,
				      __u8 tcp_flags, __u64 now)
{
	struct ct_entry fresh = {
		.created_ns = now,
		.backend_id = backend_id,
		.rev_nat_index = rev_nat,
		.frontend_addr = t->daddr,
		.frontend_port = t->dport,
		.flags = flags,
	};
	ct_touch(&fresh, t->proto, tcp_flags, 0, now);
	fresh.packets = 1;
	return bpf_map_update_elem(&ct4, key, &fresh, BPF_ANY) ? -1 : 0;
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
	int known = 0;

	/* A known connection keeps its backend while that backend exists and the entry lives; a
	 * new SYN on a closing connection starts over (Cilium: ct_lookup's CT_REOPENED). */
	if (ct && ct->expires_ns > now && !((ct->flags & CT_F_CLOSING) && (tcp_flags & TCP_FLAG_SYN) && !(tcp_flags & TCP_FLAG_ACK))) {
		backend_id = ct->backend_id;
		be = bpf_map_lookup_elem(&lb4_backends, &backend_id);
		if (be) {
			ct_touch(ct, t->proto, tcp_flags, 0, now);
			known = 1;
		}
	}
	struct lb4_affinity_key akey = { .address = t->saddr, .rev_nat_id = svc->rev_nat_index };
	if (!be) {
		/* sessionAffinity: ClientIP — the client's backend while it is still the service's
		 * (Cilium's lb4_local: affinity first, then the selection). */
		if (svc->flags & SVC_FLAG_AFFINITY) {
			backend_id = affinity_backend(&lb4_affinity, &akey, svc->backend_id, svc->rev_nat_index, now);
			if (backend_id) {
				be = bpf_map_lookup_elem(&lb4_backends, &backend_id);
				if (be)
					count(NP_AFFINITY);
			}
		}
	}
	if (!be) {
		if (svc->count == 0) {
			/* externalTrafficPolicy: Local with no backend on this node: the control plane
			 * gave the frontend only the node's own backends, so none is left (Cilium drops
			 * it as DROP_NO_SERVICE; counted apart here to say why). */
			count(svc->flags & SVC_FLAG_LOCAL_SCOPE ? NP_NO_LOCAL_BACKEND : NP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
		if (svc->flags2 & SVC_FLAG2_MAGLEV) {
			/* Maglev (maglev.h); with affinity the client port is left out, as Cilium does,
			 * so a client's new connections land on one backend. */
			backend_id = maglev_backend_id(&lb4_maglev, svc->rev_nat_index,
						       maglev_hash4(t->saddr, (svc->flags & SVC_FLAG_AFFINITY) ? 0 : t->sport, t->dport, t->proto));
		} else {
			struct lb4_service *slot = lb4_hash_slot(t, svc);
			backend_id = slot ? slot->backend_id : 0;
		}
		if (!backend_id) {
			count(NP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
		be = bpf_map_lookup_elem(&lb4_backends, &backend_id);
		if (!be) {
			count(NP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
	}
	/* Local scope: never a backend on another node, whatever a slot or an affinity entry says
	 * (Cilium's lb4_local keeps SVC_FLAG_EXT_LOCAL_SCOPE services to local backends). */
	if ((svc->flags & SVC_FLAG_LOCAL_SCOPE) && !be->ifindex) {
		count(NP_NO_LOCAL_BACKEND);
		return TC_ACT_SHOT;
	}
	if (svc->flags & SVC_FLAG_AFFINITY)
		affinity_update(&lb4_affinity, &akey, backend_id, now);
	/* Direct Server Return (dsr.h) to a backend on another node: no SNAT, the frontend carried
	 * in an IP option; marked in both CT entries as XDP marks them (nodeport_xdp.c). */
	__u8 ct_flags = be->ifindex ? 0 : (svc->flags & SVC_FLAG_DSR) ? CT_F_REMOTE | CT_F_DSR : CT_F_REMOTE;
	if (!known && ct4_create(&skey, t, backend_id, svc->rev_nat_index, ct_flags, tcp_flags, now))
		return TC_ACT_SHOT;

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
	} else if (ct4_create(&fkey, t, backend_id, svc->rev_nat_index, ct_flags, tcp_flags, now)) {
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

	if (ct_flags & CT_F_DSR) {
		/* DNAT only; the option on what opens a connection (TCP SYN) and on every UDP packet
		 * (Cilium: dsr_set_opt4 skips TCP without SYN: the backend's node knows the
		 * connection by then). The FIB lookup gets the length as it leaves, so a packet the
		 * option takes past the MTU is dropped (BPF_FIB_LKUP_RET_FRAG_NEEDED; Cilium drops it
		 * too, DROP_FRAG_NEEDED). */
		if (rewrite_tuple(skb, t, &out) || decrease_ttl(skb, ttl, t->proto))
			return TC_ACT_SHOT;
		if (t->proto == IPPROTO_UDP || (tcp_flags & TCP_FLAG_SYN)) {
			if (dsr_set_opt4(skb, t->daddr, t->dport))
				return TC_ACT_SHOT;
			tot_len += sizeof(struct dsr_opt_v4);
		}
		count(NP_REMOTE);
		return fib_redirect(skb, &out, tot_len, 0);
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

/* ---- IPv6 ------------------------------------------------------------------------------------
 * The same datapath for IPv6 (Cilium's nodeport_lb6 / rev_nodeport_lb6, snat_v6_*, ct6), with
 * what IPv6 changes: no header checksum (RFC 8200 section 3), the hop limit goes down instead of
 * the TTL; the L4 checksums cover a pseudo header with both 128-bit addresses (RFC 8200 section
 * 8.1), updated with bpf_csum_diff over the address and bpf_l4_csum_replace(BPF_F_PSEUDO_HDR |
 * BPF_F_IPV6), as Cilium's ipv6_store_daddr + csum_l4_replace do; the L4 header may sit behind
 * extension headers; ICMPv6 errors carry the pseudo header in their checksum too (RFC 4443
 * section 2.3). Its own maps: ct6 (ct.h), snat6 (nat.h), node_addrs6, nodeport_config6. */

#ifndef AF_INET6
#define AF_INET6 10
#endif

/* include/net/ipv6.h NEXTHDR_* */
#define NEXTHDR_HOP 0
#define NEXTHDR_ROUTING 43
#define NEXTHDR_FRAGMENT 44
#define NEXTHDR_AUTH 51
#define NEXTHDR_NONE 59
#define NEXTHDR_DEST 60
#define NEXTHDR_ICMP 58
/* Extension headers skipped before giving up (Cilium's IPV6_MAX_HEADERS, bpf/lib/ipv6.h). */
#define IPV6_MAX_HEADERS 4

#define IP6_OFF ETH_HLEN
#define IP6_HLIM_OFF (IP6_OFF + offsetof(struct ipv6hdr, hop_limit))
#define IP6_SRC_OFF (IP6_OFF + offsetof(struct ipv6hdr, saddr))
#define IP6_DST_OFF (IP6_OFF + offsetof(struct ipv6hdr, daddr))

/* What the control plane says about this node's IPv6 side (key 0). */
struct nodeport_config6 {
	union v6addr snat_addr; /* the node's IPv6 address SNAT uses towards remote backends */
	__u16 port_min;		/* SNAT port range, host order, inclusive */
	__u16 port_max;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct nodeport_config6);
} nodeport_config6 SEC(".maps");

/* The node's own IPv6 addresses: a NodePort is open on each of them ([::] service keys). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, union v6addr);
	__type(value, __u8);
} node_addrs6 SEC(".maps");

struct tuple6 {
	union v6addr saddr;
	union v6addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* A parsed IPv6 TCP/UDP packet, as the forward and reply paths need it. */
struct pkt6 {
	struct tuple6 t;
	__u32 l4_off;	/* where the TCP/UDP header starts (after extension headers) */
	__u16 tot_len;	/* the IPv6 header and its payload */
	__u8 tcp_flags;
	__u8 hlim;
};

static __always_inline int v6_equal(const union v6addr *a, const union v6addr *b)
{
	return a->d1 == b->d1 && a->d2 == b->d2;
}

static __always_inline int v6_is_zero(const union v6addr *a)
{
	return !(a->d1 | a->d2);
}

/* An IPv6 address folded to 32 bits for tuple_hash (the words XORed). */
static __always_inline __u32 v6_fold(const union v6addr *a)
{
	return a->p1 ^ a->p2 ^ a->p3 ^ a->p4;
}

static __always_inline __u32 tuple6_hash(const struct tuple6 *t)
{
	return tuple_hash(v6_fold(&t->saddr), v6_fold(&t->daddr), ((__u32)t->sport << 16) | t->dport, t->proto);
}

/* Skips the extension headers after the fixed header (RFC 8200 section 4): hop-by-hop, routing
 * and destination options ((len + 1) * 8 bytes), AH ((len + 2) * 4, RFC 4302), and a fragment
 * header (8 bytes). At most IPV6_MAX_HEADERS of them, as Cilium's ipv6_hdrlen_offset. Returns 0
 * with the L4 protocol and offset; 1 for a fragment that is not the first (no L4 header in it);
 * -1 for what cannot be parsed (truncated, NEXTHDR_NONE, too many headers).
 *
 * Fragments: the first one (offset 0) holds the L4 header and is translated like a whole packet
 * (the L4 checksum covers the whole datagram but is updated incrementally, so the first
 * fragment's checksum field stays right for the reassembled datagram). Later ones go to the
 * stack untouched. Cilium differs: with its fragment tracking (--enable-ipv6-fragment-tracking,
 * on by default: Documentation/network/concepts/fragmentation.rst; ENABLE_IPV6_FRAGMENTS) it
 * remembers the first fragment's ports in cilium_ipv6_frag_datagrams and translates the later
 * fragments too; without it, it drops the fragments it cannot read ports from
 * (DROP_FRAG_NOSUPPORT, bpf/lib/ipv6.h). This datapath has no fragment map, so a later fragment
 * goes to the stack. */
static __always_inline int ipv6_skip_exthdrs(struct __sk_buff *skb, __u8 *proto, __u32 *l4_off)
{
	__u8 nh = *proto;
	__u32 off = *l4_off;

	for (int i = 0; i < IPV6_MAX_HEADERS; i++) {
		struct {
			__u8 nexthdr;
			__u8 hdrlen;
			__be16 frag_off;
		} h;
		if (nh != NEXTHDR_HOP && nh != NEXTHDR_ROUTING && nh != NEXTHDR_DEST && nh != NEXTHDR_AUTH && nh != NEXTHDR_FRAGMENT)
			break;
		if (bpf_skb_load_bytes(skb, off, &h, sizeof(h)))
			return -1;
		if (nh == NEXTHDR_FRAGMENT) {
			if (h.frag_off & bpf_htons(0xfff8)) /* the offset, in 8-byte units */
				return 1;
			off += 8;
		} else if (nh == NEXTHDR_AUTH) {
			off += ((__u32)h.hdrlen + 2) << 2;
		} else {
			off += ((__u32)h.hdrlen + 1) << 3;
		}
		nh = h.nexthdr;
	}
	if (nh == NEXTHDR_HOP || nh == NEXTHDR_ROUTING || nh == NEXTHDR_DEST || nh == NEXTHDR_AUTH || nh == NEXTHDR_FRAGMENT || nh == NEXTHDR_NONE)
		return -1;
	*proto = nh;
	*l4_off = off;
	return 0;
}

static __always_inline __u32 l4_csum_off(__u8 proto, __u32 l4_off)
{
	return l4_off + (proto == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
}

/* Replaces a 128-bit address at `addr_off`, with the L4 checksum at `csum_off` adjusted for the
 * pseudo header (BPF_F_PSEUDO_HDR; bpf_csum_diff gives the difference over the 16 bytes, a
 * zero size hands it to bpf_l4_csum_replace as is: net/core/filter.c). `csum_flags` adds
 * BPF_F_MARK_MANGLED_0 for UDP. */
static __always_inline int store_addr6(struct __sk_buff *skb, __u32 addr_off, const union v6addr *old, const union v6addr *new,
				       __u32 csum_off, __u64 csum_flags)
{
	if (v6_equal(old, new))
		return 0;
	__s64 diff = bpf_csum_diff((__be32 *)old, 16, (__be32 *)new, 16, 0);
	if (diff < 0)
		return -1;
	if (csum_off && bpf_l4_csum_replace(skb, csum_off, 0, diff, BPF_F_PSEUDO_HDR | BPF_F_IPV6 | csum_flags))
		return -1;
	return bpf_skb_store_bytes(skb, addr_off, new, 16, 0);
}

/* rewrite_tuple for IPv6: the addresses (pseudo header) and ports, L4 checksum only. */
static __always_inline int rewrite_tuple6(struct __sk_buff *skb, const struct tuple6 *old, const struct tuple6 *new, __u32 l4_off)
{
	__u32 csum_off = l4_csum_off(old->proto, l4_off);
	__u64 udp = old->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	if (store_addr6(skb, IP6_SRC_OFF, &old->saddr, &new->saddr, csum_off, udp) ||
	    store_addr6(skb, IP6_DST_OFF, &old->daddr, &new->daddr, csum_off, udp))
		return -1;
	if (old->sport != new->sport) {
		if (bpf_l4_csum_replace(skb, csum_off, old->sport, new->sport, sizeof(__be16) | udp) ||
		    bpf_skb_store_bytes(skb, l4_off + offsetof(struct udphdr, source), &new->sport, sizeof(__be16), 0))
			return -1;
	}
	if (old->dport != new->dport) {
		if (bpf_l4_csum_replace(skb, csum_off, old->dport, new->dport, sizeof(__be16) | udp) ||
		    bpf_skb_store_bytes(skb, l4_off + offsetof(struct udphdr, dest), &new->dport, sizeof(__be16), 0))
			return -1;
	}
	return 0;
}

/* The hop limit goes down by one as ip6_forward() does it (net/ipv6/ip6_output.c); nothing to
 * checksum in an IPv6 header. */
static __always_inline int decrease_hop_limit(struct __sk_buff *skb, __u8 hlim)
{
	__u8 next = hlim - 1;
	return bpf_skb_store_bytes(skb, IP6_HLIM_OFF, &next, 1, 0);
}

/* fib_redirect for IPv6 (bpf_ipv6_fib_lookup; the next hop for bpf_redirect_neigh in ipv6_nh). */
static __always_inline int fib_redirect6(struct __sk_buff *skb, const struct tuple6 *t, __u16 tot_len, __u32 to_ifindex)
{
	struct bpf_fib_lookup fib = {};
	fib.family = AF_INET6;
	fib.l4_protocol = t->proto;
	fib.sport = t->sport;
	fib.dport = t->dport;
	fib.tot_len = tot_len;
	__builtin_memcpy(fib.ipv6_src, &t->saddr, 16);
	__builtin_memcpy(fib.ipv6_dst, &t->daddr, 16);
	fib.ifindex = skb->ifindex;

	long rc = bpf_fib_lookup(skb, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		if (bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_dest), fib.dmac, ETH_ALEN, 0) ||
		    bpf_skb_store_bytes(skb, offsetof(struct ethhdr, h_source), fib.smac, ETH_ALEN, 0))
			return TC_ACT_SHOT;
		return bpf_redirect(to_ifindex ? to_ifindex : fib.ifindex, 0);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		struct bpf_redir_neigh nh = { .nh_family = AF_INET6 };
		__builtin_memcpy(nh.ipv6_nh, fib.ipv6_dst, 16);
		count(NP_NEIGH);
		return bpf_redirect_neigh(to_ifindex ? to_ifindex : fib.ifindex, &nh, sizeof(nh), 0);
	}
	count(NP_FIB_FAIL);
	return TC_ACT_SHOT;
}

/* service_lookup for IPv6: the address, then [::] with SVC_FLAG_NODEPORT on a node address.
 * `wildcard` says which one matched (the slots live under the same key). */
static __always_inline struct lb6_service *service_lookup6(const struct tuple6 *t, int *wildcard)
{
	struct lb6_key key = { .dport = t->dport, .proto = t->proto };
	key.address = t->daddr;
	struct lb6_service *svc = bpf_map_lookup_elem(&lb6_services, &key);
	*wildcard = 0;
	if (svc)
		return svc;
	if (!bpf_map_lookup_elem(&node_addrs6, &t->daddr))
		return NULL;
	__builtin_memset(&key.address, 0, sizeof(key.address));
	svc = bpf_map_lookup_elem(&lb6_services, &key);
	if (svc && (svc->flags & SVC_FLAG_NODEPORT)) {
		*wildcard = 1;
		return svc;
	}
	return NULL;
}

/* snat_allocate for IPv6: hashed port first, then random ones on collision, both NAT entries. */
static __always_inline __be16 snat_allocate6(const struct tuple6 *out, const struct nodeport_config6 *cfg)
{
	struct nat6_key fwd = { .sport = out->sport, .dport = out->dport, .proto = out->proto, .dir = NAT_DIR_EGRESS };
	struct nat6_key rev = { .sport = out->dport, .proto = out->proto, .dir = NAT_DIR_INGRESS };
	struct nat6_entry back = { .to_port = out->sport };
	fwd.saddr = out->saddr;
	fwd.daddr = out->daddr;
	rev.saddr = out->daddr;
	rev.daddr = cfg->snat_addr;
	back.to_addr = out->saddr;
	struct nat6_entry *known = bpf_map_lookup_elem(&snat6, &fwd);
	if (known) {
		rev.dport = known->to_port;
		bpf_map_update_elem(&snat6, &rev, &back, BPF_NOEXIST);
		return known->to_port;
	}

	if (cfg->port_max < cfg->port_min)
		return 0;
	__u32 range = (__u32)cfg->port_max - cfg->port_min + 1;
	__u32 candidate = tuple6_hash(out) % range;

	for (int i = 0; i <= SNAT_COLLISION_RETRIES; i++) {
		__be16 port = bpf_htons((__u16)(cfg->port_min + candidate));
		rev.dport = port;
		if (bpf_map_update_elem(&snat6, &rev, &back, BPF_NOEXIST) == 0) {
			struct nat6_entry there = { .to_port = port };
			there.to_addr = cfg->snat_addr;
			if (bpf_map_update_elem(&snat6, &fwd, &there, BPF_ANY)) {
				bpf_map_delete_elem(&snat6, &rev);
				return 0;
			}
			return port;
		}
		count(NP_SNAT_COLLISION);
		candidate = bpf_get_prandom_u32() % range;
	}
	return 0;
}

/* A CT entry for a new IPv6 connection (or a new direction of lookup). */
static __always_inline int ct6_create(const struct ct6_key *key, const struct tuple6 *t, __u32 backend_id, __u16 rev_nat, __u8 flags,
				      __u8 tcp_flags, __u64 now)
{
	struct ct6_entry fresh = { .created_ns = now, .backend_id = backend_id, .rev_nat_index = rev_nat, .frontend_port = t->dport, .flags = flags };
	fresh.frontend_addr = t->daddr;
	ct6_touch(&fresh, t->proto, tcp_flags, 0, now);
	fresh.packets = 1;
	return bpf_map_update_elem(&ct6, key, &fresh, BPF_ANY) ? -1 : 0;
}

/* Inserts the DSR destination options header (dsr.h) right after the IPv6 header at tc, as
 * Cilium's dsr_set_ext6 (bpf/lib/nodeport.h): bpf_skb_adjust_room(BPF_ADJ_ROOM_NET) opens 24
 * bytes after the 40-byte fixed header; the new header takes over the old Next Header (so an
 * existing chain of extension headers follows it), Next Header = 60, Payload Length + 24. No
 * checksum changes: IPv6 has no header checksum, and the L4 pseudo header counts the
 * upper-layer length and the final destination (RFC 8200 section 8.1). Written through direct
 * packet pointers, as dsr_set_opt4. */
static __always_inline int dsr_set_ext6(struct __sk_buff *skb, const union v6addr *frontend_addr, __be16 frontend_port)
{
	if (bpf_skb_adjust_room(skb, sizeof(struct dsr_opt_v6), BPF_ADJ_ROOM_NET, BPF_F_ADJ_ROOM_NO_CSUM_RESET))
		return -1;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ipv6hdr *ip6 = data + ETH_HLEN;
	struct dsr_opt_v6 *opt = (void *)(ip6 + 1);
	if ((void *)(opt + 1) > data_end)
		return -1;
	opt->nexthdr = ip6->nexthdr;
	opt->hdrlen = DSR_IPV6_EXT_LEN;
	opt->opt_type = DSR_IPV6_OPT_TYPE;
	opt->opt_len = DSR_IPV6_OPT_LEN;
	opt->addr.d1 = frontend_addr->d1;
	opt->addr.d2 = frontend_addr->d2;
	opt->port = frontend_port;
	opt->pad = 0;
	ip6->nexthdr = NEXTHDR_DEST;
	ip6->payload_len = bpf_htons(bpf_ntohs(ip6->payload_len) + sizeof(*opt));
	count(NP_DSR_OPT);
	return 0;
}

/* client -> node:NodePort over IPv6 (nodeport_forward's steps). */
static __always_inline int nodeport_forward6(struct __sk_buff *skb, const struct pkt6 *p, struct lb6_service *svc, int wildcard)
{
	const struct tuple6 *t = &p->t;
	__u8 tcp_flags = p->tcp_flags;
	__u64 now = bpf_ktime_get_ns();
	struct ct6_key skey = { .sport = t->sport, .dport = t->dport, .proto = t->proto, .dir = CT_DIR_SERVICE };
	skey.saddr = t->saddr;
	skey.daddr = t->daddr;
	struct ct6_entry *ct = bpf_map_lookup_elem(&ct6, &skey);
	struct lb6_backend *be = NULL;
	__u32 backend_id = 0;
	int known = 0;

	if (ct && ct->expires_ns > now && !((ct->flags & CT_F_CLOSING) && (tcp_flags & TCP_FLAG_SYN) && !(tcp_flags & TCP_FLAG_ACK))) {
		backend_id = ct->backend_id;
		be = bpf_map_lookup_elem(&lb6_backends, &backend_id);
		if (be) {
			ct6_touch(ct, t->proto, tcp_flags, 0, now);
			known = 1;
		}
	}
	struct lb6_affinity_key akey = { .rev_nat_id = svc->rev_nat_index };
	akey.address = t->saddr;
	if (!be && (svc->flags & SVC_FLAG_AFFINITY)) {
		backend_id = affinity_backend(&lb6_affinity, &akey, svc->backend_id, svc->rev_nat_index, now);
		if (backend_id) {
			be = bpf_map_lookup_elem(&lb6_backends, &backend_id);
			if (be)
				count(NP_AFFINITY);
		}
	}
	if (!be) {
		if (svc->count == 0) {
			count(svc->flags & SVC_FLAG_LOCAL_SCOPE ? NP_NO_LOCAL_BACKEND : NP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
		if (svc->flags2 & SVC_FLAG2_MAGLEV) {
			backend_id = maglev_backend_id(&lb6_maglev, svc->rev_nat_index,
						       maglev_hash6(&t->saddr, (svc->flags & SVC_FLAG_AFFINITY) ? 0 : t->sport, t->dport, t->proto));
		} else {
			struct lb6_key slot_key = { .dport = t->dport, .proto = t->proto };
			if (!wildcard)
				slot_key.address = t->daddr;
			slot_key.backend_slot = (__u16)(tuple6_hash(t) % svc->count) + 1;
			struct lb6_service *slot = bpf_map_lookup_elem(&lb6_services, &slot_key);
			backend_id = slot ? slot->backend_id : 0;
		}
		if (!backend_id) {
			count(NP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
		be = bpf_map_lookup_elem(&lb6_backends, &backend_id);
		if (!be) {
			count(NP_NO_BACKEND);
			return TC_ACT_SHOT;
		}
	}
	if ((svc->flags & SVC_FLAG_LOCAL_SCOPE) && !be->ifindex) {
		count(NP_NO_LOCAL_BACKEND);
		return TC_ACT_SHOT;
	}
	if (svc->flags & SVC_FLAG_AFFINITY)
		affinity_update(&lb6_affinity, &akey, backend_id, now);
	__u32 ifindex = be->ifindex;
	__u8 ct_flags = ifindex ? 0 : (svc->flags & SVC_FLAG_DSR) ? CT_F_REMOTE | CT_F_DSR : CT_F_REMOTE;
	if (!known && ct6_create(&skey, t, backend_id, svc->rev_nat_index, ct_flags, tcp_flags, now))
		return TC_ACT_SHOT;

	struct tuple6 out = *t;
	out.daddr = be->address;
	out.dport = be->port;

	struct ct6_key fkey = { .sport = out.sport, .dport = out.dport, .proto = out.proto, .dir = CT_DIR_FORWARD };
	fkey.saddr = out.saddr;
	fkey.daddr = out.daddr;
	struct ct6_entry *fct = bpf_map_lookup_elem(&ct6, &fkey);
	if (fct && fct->backend_id == backend_id && fct->expires_ns > now)
		ct6_touch(fct, t->proto, tcp_flags, 0, now);
	else if (ct6_create(&fkey, t, backend_id, svc->rev_nat_index, ct_flags, tcp_flags, now))
		return TC_ACT_SHOT;

	if (p->hlim <= 1)
		return TC_ACT_OK; /* the stack answers with ICMPv6 time exceeded */

	if (ifindex) {
		if (rewrite_tuple6(skb, t, &out, p->l4_off) || decrease_hop_limit(skb, p->hlim))
			return TC_ACT_SHOT;
		count(NP_LOCAL);
		return fib_redirect6(skb, &out, p->tot_len, ifindex);
	}

	if (ct_flags & CT_F_DSR) {
		/* DSR as for IPv4 (nodeport_forward): DNAT only, the destination options header on a
		 * SYN and on every UDP packet. */
		if (rewrite_tuple6(skb, t, &out, p->l4_off) || decrease_hop_limit(skb, p->hlim))
			return TC_ACT_SHOT;
		__u16 tot_len = p->tot_len;
		if (t->proto == IPPROTO_UDP || (tcp_flags & TCP_FLAG_SYN)) {
			if (dsr_set_ext6(skb, &t->daddr, t->dport))
				return TC_ACT_SHOT;
			tot_len += sizeof(struct dsr_opt_v6);
		}
		count(NP_REMOTE);
		return fib_redirect6(skb, &out, tot_len, 0);
	}

	__u32 zero = 0;
	struct nodeport_config6 *cfg = bpf_map_lookup_elem(&nodeport_config6, &zero);
	if (!cfg || v6_is_zero(&cfg->snat_addr)) {
		count(NP_NAT_FAIL);
		return TC_ACT_SHOT;
	}
	__be16 port = snat_allocate6(&out, cfg);
	if (!port) {
		count(NP_NAT_FAIL);
		return TC_ACT_SHOT;
	}
	out.saddr = cfg->snat_addr;
	out.sport = port;
	if (rewrite_tuple6(skb, t, &out, p->l4_off) || decrease_hop_limit(skb, p->hlim))
		return TC_ACT_SHOT;
	count(NP_REMOTE);
	return fib_redirect6(skb, &out, p->tot_len, 0);
}

/* The frontend a CT entry's connection was addressed to: the reverse-NAT entry, unless that is
 * the NodePort wildcard [::] — then the node address kept in the entry. */
static __always_inline void frontend_of6(const struct ct6_entry *ct, union v6addr *addr, __be16 *port)
{
	__u16 rev_index = ct->rev_nat_index;
	struct lb6_reverse_nat *rnat = bpf_map_lookup_elem(&lb6_reverse_nat, &rev_index);
	if (rnat && !v6_is_zero(&rnat->address))
		*addr = rnat->address;
	else
		*addr = ct->frontend_addr;
	*port = rnat ? rnat->port : ct->frontend_port;
}

/* A backend's reply over IPv6: reverse SNAT (snat6), reverse DNAT (ct6 + lb6_reverse_nat). */
static __always_inline int nodeport_reply6(struct __sk_buff *skb, const struct pkt6 *p)
{
	const struct tuple6 *t = &p->t;
	__u8 tcp_flags = p->tcp_flags;
	struct tuple6 orig = *t;
	struct nat6_key nkey = { .sport = t->sport, .dport = t->dport, .proto = t->proto, .dir = NAT_DIR_INGRESS };
	nkey.saddr = t->saddr;
	nkey.daddr = t->daddr;
	struct nat6_entry *nat = bpf_map_lookup_elem(&snat6, &nkey);
	if (nat) {
		orig.daddr = nat->to_addr;
		orig.dport = nat->to_port;
	}

	struct ct6_key fkey = { .sport = orig.dport, .dport = orig.sport, .proto = t->proto, .dir = CT_DIR_FORWARD };
	fkey.saddr = orig.daddr;
	fkey.daddr = orig.saddr;
	struct ct6_entry *ct = bpf_map_lookup_elem(&ct6, &fkey);
	__u64 now = bpf_ktime_get_ns();
	if (!ct || ct->expires_ns <= now)
		return TC_ACT_OK;

	struct tuple6 out = orig;
	frontend_of6(ct, &out.saddr, &out.sport);
	ct6_touch(ct, t->proto, tcp_flags, 1, now);
	struct ct6_key skey = { .sport = out.dport, .dport = ct->frontend_port, .proto = t->proto, .dir = CT_DIR_SERVICE };
	skey.saddr = out.daddr;
	skey.daddr = ct->frontend_addr;
	struct ct6_entry *sct = bpf_map_lookup_elem(&ct6, &skey);
	if (sct)
		ct6_touch(sct, t->proto, tcp_flags, 1, now);

	if (p->hlim <= 1)
		return TC_ACT_OK;
	if (rewrite_tuple6(skb, t, &out, p->l4_off) || decrease_hop_limit(skb, p->hlim))
		return TC_ACT_SHOT;
	count(NP_REPLY);
	return fib_redirect6(skb, &out, p->tot_len, 0);
}

/* ICMPv6 errors (RFC 4443 section 3: destination unreachable 1, packet too big 2, time
 * exceeded 3, parameter problem 4) about a packet this datapath translated towards a backend:
 * the quoted packet (its IPv6 header first, then as much as fits in the minimum MTU) is
 * translated back to what the client sent and the error goes to the client, as Cilium's
 * snat_v6_rev_nat / __lb6_rev_nat handle them (the kernel's nf_nat_icmpv6_reply_translation is
 * the same idea). Checksums: the quoted L4 checksum when the quote holds it (pseudo header:
 * addresses; ports), and the ICMPv6 checksum over every changed byte of the quote and over the
 * outer addresses (it has a pseudo header, RFC 4443 section 2.3). A quoted packet with extension
 * headers is left to the stack. */
static __always_inline int icmp6_fold_addr(struct __sk_buff *skb, __u32 icmp_csum_off, __u32 off, const union v6addr *new)
{
	union v6addr old;
	if (bpf_skb_load_bytes(skb, off, &old, 16))
		return -1;
	if (v6_equal(&old, new))
		return 0;
	__s64 diff = bpf_csum_diff((__be32 *)&old, 16, (__be32 *)new, 16, 0);
	if (diff < 0 || bpf_l4_csum_replace(skb, icmp_csum_off, 0, diff, 0))
		return -1;
	return bpf_skb_store_bytes(skb, off, new, 16, 0);
}

static __always_inline int icmp6_fold_port(struct __sk_buff *skb, __u32 icmp_csum_off, __u32 off, __be16 new)
{
	__be16 old;
	if (bpf_skb_load_bytes(skb, off, &old, 2))
		return -1;
	if (old == new)
		return 0;
	if (bpf_l4_csum_replace(skb, icmp_csum_off, old, new, 2))
		return -1;
	return bpf_skb_store_bytes(skb, off, &new, 2, 0);
}

static __always_inline int nodeport_icmp6_error(struct __sk_buff *skb, __u32 icmp_off, __u8 hlim, __u16 tot_len)
{
	__u8 type, in_proto;
	__be16 in_ports[2];
	__u32 icmp_csum_off = icmp_off + 2;
	__u32 in_off = icmp_off + 8;
	__u32 in_l4 = in_off + sizeof(struct ipv6hdr);

	if (bpf_skb_load_bytes(skb, icmp_off, &type, 1) || type < 1 || type > 4)
		return TC_ACT_OK;
	/* The reply the quoted packet would have: backend -> whoever it was sent from. */
	struct tuple6 r = {};
	if (bpf_skb_load_bytes(skb, in_off + offsetof(struct ipv6hdr, nexthdr), &in_proto, 1) ||
	    bpf_skb_load_bytes(skb, in_off + offsetof(struct ipv6hdr, saddr), &r.daddr, 16) ||
	    bpf_skb_load_bytes(skb, in_off + offsetof(struct ipv6hdr, daddr), &r.saddr, 16) ||
	    bpf_skb_load_bytes(skb, in_l4, in_ports, sizeof(in_ports)))
		return TC_ACT_OK;
	if (in_proto != IPPROTO_TCP && in_proto != IPPROTO_UDP)
		return TC_ACT_OK;
	r.sport = in_ports[1];
	r.dport = in_ports[0];
	r.proto = in_proto;

	struct nat6_key nkey = { .sport = r.sport, .dport = r.dport, .proto = r.proto, .dir = NAT_DIR_INGRESS };
	nkey.saddr = r.saddr;
	nkey.daddr = r.daddr;
	struct nat6_entry *nat = bpf_map_lookup_elem(&snat6, &nkey);
	union v6addr client = nat ? nat->to_addr : r.daddr;
	__be16 client_port = nat ? nat->to_port : r.dport;
	struct ct6_key fkey = { .sport = client_port, .dport = r.sport, .proto = r.proto, .dir = CT_DIR_FORWARD };
	fkey.saddr = client;
	fkey.daddr = r.saddr;
	struct ct6_entry *ct = bpf_map_lookup_elem(&ct6, &fkey);
	if (!ct || ct->expires_ns <= bpf_ktime_get_ns() || hlim <= 1)
		return TC_ACT_OK;
	union v6addr frontend;
	__be16 frontend_port;
	frontend_of6(ct, &frontend, &frontend_port);

	/* The quoted L4 checksum, when the quote reaches it (a UDP checksum of 0 is not valid in
	 * IPv6, RFC 8200 section 8.1, but is left as it is). */
	__u32 q_csum_off = l4_csum_off(r.proto, in_l4);
	__u16 q_csum;
	int has_csum = bpf_skb_load_bytes(skb, q_csum_off, &q_csum, 2) == 0 && !(r.proto == IPPROTO_UDP && q_csum == 0);
	__u64 udp = r.proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;
	__u16 q_csum_before = q_csum;

	/* the quoted packet: client:port -> frontend */
	if (has_csum) {
		__s64 d1 = bpf_csum_diff((__be32 *)&r.daddr, 16, (__be32 *)&client, 16, 0);
		__s64 d2 = bpf_csum_diff((__be32 *)&r.saddr, 16, (__be32 *)&frontend, 16, 0);
		if (d1 < 0 || d2 < 0 || bpf_l4_csum_replace(skb, q_csum_off, 0, d1, BPF_F_PSEUDO_HDR | BPF_F_IPV6 | udp) ||
		    bpf_l4_csum_replace(skb, q_csum_off, 0, d2, BPF_F_PSEUDO_HDR | BPF_F_IPV6 | udp) ||
		    bpf_l4_csum_replace(skb, q_csum_off, r.dport, client_port, 2 | udp) ||
		    bpf_l4_csum_replace(skb, q_csum_off, r.sport, frontend_port, 2 | udp) || bpf_skb_load_bytes(skb, q_csum_off, &q_csum, 2) ||
		    bpf_l4_csum_replace(skb, icmp_csum_off, q_csum_before, q_csum, 2))
			return TC_ACT_SHOT;
	}
	if (icmp6_fold_addr(skb, icmp_csum_off, in_off + offsetof(struct ipv6hdr, saddr), &client) ||
	    icmp6_fold_addr(skb, icmp_csum_off, in_off + offsetof(struct ipv6hdr, daddr), &frontend) ||
	    icmp6_fold_port(skb, icmp_csum_off, in_l4 + offsetof(struct udphdr, source), client_port) ||
	    icmp6_fold_port(skb, icmp_csum_off, in_l4 + offsetof(struct udphdr, dest), frontend_port))
		return TC_ACT_SHOT;

	/* the error itself: to the client; from the frontend when the backend sent it */
	union v6addr outer_src, outer_dst;
	if (bpf_skb_load_bytes(skb, IP6_SRC_OFF, &outer_src, 16) || bpf_skb_load_bytes(skb, IP6_DST_OFF, &outer_dst, 16))
		return TC_ACT_SHOT;
	union v6addr new_src = v6_equal(&outer_src, &r.saddr) ? frontend : outer_src;
	if (store_addr6(skb, IP6_SRC_OFF, &outer_src, &new_src, icmp_csum_off, 0) ||
	    store_addr6(skb, IP6_DST_OFF, &outer_dst, &client, icmp_csum_off, 0) || decrease_hop_limit(skb, hlim))
		return TC_ACT_SHOT;
	count(NP_REPLY);
	struct tuple6 to_client = { .proto = NEXTHDR_ICMP };
	to_client.saddr = new_src;
	to_client.daddr = client;
	return fib_redirect6(skb, &to_client, tot_len, 0);
}

/* The IPv6 path of nodeport_ingress. Everything is inlined into the one program: the paths share
 * the 512-byte stack, so the IPv6 header is read field by field instead of copied whole. */
static __always_inline int nodeport_v6(struct __sk_buff *skb)
{
	struct pkt6 p = {};
	__u8 fixed[8]; /* version .. hop limit (RFC 8200 section 3) */
	if (bpf_skb_load_bytes(skb, IP6_OFF, fixed, sizeof(fixed)) || bpf_skb_load_bytes(skb, IP6_SRC_OFF, &p.t.saddr, 16) ||
	    bpf_skb_load_bytes(skb, IP6_DST_OFF, &p.t.daddr, 16))
		goto pass;
	__u8 proto = fixed[6];
	__u32 l4_off = IP6_OFF + sizeof(struct ipv6hdr);
	if (ipv6_skip_exthdrs(skb, &proto, &l4_off))
		goto pass; /* a later fragment, or nothing this datapath can read */
	__u8 hlim = fixed[7];
	__u16 tot_len = (((__u16)fixed[4] << 8) | fixed[5]) + sizeof(struct ipv6hdr);

	int verdict;
	if (proto == NEXTHDR_ICMP) {
		verdict = nodeport_icmp6_error(skb, l4_off, hlim, tot_len);
		if (verdict != TC_ACT_OK)
			return verdict;
		goto pass;
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		goto pass;
	__be16 ports[4]; /* the ports, and the rest of a UDP header: at least 8 bytes must be there */
	if (bpf_skb_load_bytes(skb, l4_off, ports, sizeof(ports)))
		goto pass;
	__u8 tcp_flags = 0;
	/* the flags byte, once the whole TCP header is known to be there */
	if (proto == IPPROTO_TCP && (bpf_skb_load_bytes(skb, l4_off + sizeof(struct tcphdr) - 1, &tcp_flags, 1) ||
				     bpf_skb_load_bytes(skb, l4_off + 13, &tcp_flags, 1)))
		goto pass;
	p.t.sport = ports[0];
	p.t.dport = ports[1];
	p.t.proto = proto;
	p.l4_off = l4_off;
	p.tot_len = tot_len;
	p.tcp_flags = tcp_flags;
	p.hlim = hlim;

	int wildcard;
	struct lb6_service *svc = service_lookup6(&p.t, &wildcard);
	if (svc)
		return nodeport_forward6(skb, &p, svc, wildcard);
	verdict = nodeport_reply6(skb, &p);
	if (verdict != TC_ACT_OK)
		return verdict;
pass:
	count(NP_PASS);
	return TC_ACT_OK;
}

/* The IPv4 path of nodeport_ingress. */
static __always_inline int nodeport_v4(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		goto pass;
	/* Options and fragments go to the stack: the L4 header is not where we look, or not there.
	 * Every fragment, the first too, so that the node's stack can reassemble the datagram
	 * (kpr-fragments.yaml says how Cilium differs: it tracks fragments in a map). */
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

SEC("tc")
int nodeport_ingress(struct __sk_buff *skb)
{
	__be16 h_proto;
	if (bpf_skb_load_bytes(skb, offsetof(struct ethhdr, h_proto), &h_proto, sizeof(h_proto)) == 0 && h_proto == bpf_htons(ETH_P_IPV6))
		return nodeport_v6(skb);
	return nodeport_v4(skb);
}

char LICENSE[] SEC("license") = "GPL";
