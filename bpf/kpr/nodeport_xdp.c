// The NodePort datapath with an XDP fast path, as Cilium runs it with XDP acceleration (the
// design article in ../shared/seeds/ looks forward to it; Cilium's bpf_xdp.c calls the same
// nodeport_lb4 as its tc programs, over the same maps). One object, two programs on the node's
// external device, sharing every map:
//
//   nodeport_xdp (XDP), IPv4  a client's packet to a service: the service lookup, backend
//                          choice, connection tracking and SNAT of nodeport.c, done before an
//                          skb exists;
//       backend elsewhere  DNAT + SNAT (or DNAT + the DSR option for SVC_FLAG_DSR, dsr.h),
//                          bpf_fib_lookup, MACs rewritten, XDP_TX when the next hop is out of the
//                          device the packet came in on, else bpf_redirect to that device;
//       backend here       DNAT, bpf_redirect to its device;
//       anything else      XDP_PASS, untouched and with no map written: replies, ICMP errors,
//                          non-service traffic, fragments, IP options, TTL <= 1, and whatever
//                          XDP cannot finish (no neighbour entry: only tc has bpf_redirect_neigh;
//                          no route; no SNAT configuration; services with session affinity,
//                          externalTrafficPolicy: Local or Maglev selection) — nodeport.c's tc program then
//                          handles it exactly as it would without XDP.
//   nodeport_xdp, IPv6     the same (nodeport_forward6's path), the DSR option a destination
//                          options header; IPv6 extension headers and fragments go to tc.
//   nodeport_ingress (tc)  nodeport.c, unchanged, for everything XDP passed (a DSR service's
//                          packet XDP passes gets its DSR option at tc, bpf_skb_adjust_room).
//
// The packet is rewritten through direct pointers with RFC 1624 checksum updates (xdp_xlate.h):
// the same bytes nodeport.c's helpers write. The map entries are the ones nodeport_forward() /
// nodeport_forward6() write, so tc translates the replies of connections XDP opened.
#include "nodeport.c"
#include "dsr.h"
#include "xdp_xlate.h"

enum np_xdp_stat {
	NPX_TX,	      /* sent back out of the receiving device */
	NPX_REDIRECT, /* sent to another device */
	NPX_PASS,     /* handed to tc / the stack */
	NPX_DSR_OPT,  /* a DSR option inserted */
	NPX_DSR_FRAG_NEEDED, /* dropped: with the option the packet exceeds the MTU */
	NPX_STAT_MAX,
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NPX_STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} np_xdp_stats SEC(".maps");

static __always_inline void xdp_count(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&np_xdp_stats, &what);
	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline int xdp_pass(void)
{
	xdp_count(NPX_PASS);
	return XDP_PASS;
}

/* Sends the rewritten packet, IPv4 or IPv6: to the local backend's device, else out of the
 * device the FIB named (XDP_TX when that is the device it came in on). out_ifindex points at the
 * FIB answer on the stack so that it is read where it is used, as before this was shared (passed
 * by value clang keeps it in a register across the counters: other code, same verdicts). */
static __always_inline int xdp_send(struct xdp_md *ctx, int remote, __u32 be_ifindex, const __u32 *out_ifindex)
{
	if (!remote) {
		count(NP_LOCAL);
		xdp_count(NPX_REDIRECT);
		return bpf_redirect(be_ifindex, 0);
	}
	count(NP_REMOTE);
	if (*out_ifindex == ctx->ingress_ifindex) {
		xdp_count(NPX_TX);
		return XDP_TX;
	}
	xdp_count(NPX_REDIRECT);
	return bpf_redirect(*out_ifindex, 0);
}

/* The backend a packet goes to, decided before anything is written (so that XDP can still
 * pass the packet on untouched). */
struct np_choice {
	struct lb4_backend *be;
	__u32 backend_id;
	struct ct_entry *ct; /* the live service-side entry, or NULL: a new connection */
};

/* nodeport_forward()'s choice, read-only: the backend of a live CT entry (unless a SYN reopens
 * a closing connection, Cilium's CT_REOPENED), else the tuple's hash slot. -1: no backend. */
static __always_inline int np_choose_backend(const struct tuple4 *t, struct lb4_service *svc, __u8 tcp_flags, __u64 now, struct np_choice *c)
{
	struct ct4_key skey = { .saddr = t->saddr, .daddr = t->daddr, .sport = t->sport, .dport = t->dport, .proto = t->proto, .dir = CT_DIR_SERVICE };
	struct ct_entry *ct = bpf_map_lookup_elem(&ct4, &skey);

	c->ct = NULL;
	if (ct && ct->expires_ns > now && !((ct->flags & CT_F_CLOSING) && (tcp_flags & TCP_FLAG_SYN) && !(tcp_flags & TCP_FLAG_ACK))) {
		c->backend_id = ct->backend_id;
		c->be = bpf_map_lookup_elem(&lb4_backends, &c->backend_id);
		if (c->be) {
			c->ct = ct;
			return 0;
		}
	}
	if (svc->count == 0)
		return -1;
	struct lb4_service *slot = lb4_hash_slot(t, svc);
	if (!slot)
		return -1;
	c->backend_id = slot->backend_id;
	c->be = bpf_map_lookup_elem(&lb4_backends, &c->backend_id);
	return c->be ? 0 : -1;
}

/* Writes the two CT entries as nodeport_forward() does: the service-side entry (client ->
 * frontend: which backend) and the forward entry (client -> backend: how replies are found). */
static __always_inline int np_commit_ct(const struct tuple4 *t, const struct tuple4 *out, struct lb4_service *svc, struct np_choice *c, __u8 tcp_flags,
					__u64 now, __u8 flags)
{
	if (c->ct) {
		ct_touch(c->ct, t->proto, tcp_flags, 0, now);
	} else {
		struct ct4_key skey = { .saddr = t->saddr, .daddr = t->daddr, .sport = t->sport, .dport = t->dport, .proto = t->proto, .dir = CT_DIR_SERVICE };
		if (ct4_create(&skey, t, c->backend_id, svc->rev_nat_index, flags, tcp_flags, now))
			return -1;
	}
	struct ct4_key fkey = { .saddr = out->saddr, .daddr = out->daddr, .sport = out->sport, .dport = out->dport, .proto = out->proto, .dir = CT_DIR_FORWARD };
	struct ct_entry *fct = bpf_map_lookup_elem(&ct4, &fkey);
	if (fct && fct->backend_id == c->backend_id && fct->expires_ns > now) {
		ct_touch(fct, t->proto, tcp_flags, 0, now);
		return 0;
	}
	return ct4_create(&fkey, t, c->backend_id, svc->rev_nat_index, flags, tcp_flags, now);
}

/* Inserts the DSR option after the IPv4 header (Cilium's dsr_set_opt4; at XDP its
 * ctx_adjust_hroom, bpf/include/bpf/ctx/xdp.h, grows the room the same way): 8 bytes more
 * headroom (bpf_xdp_adjust_head), the Ethernet and IP headers moved to the new start, IHL + 2, total length + 8, and the header checksum by RFC 1624
 * eqn. 3 over the two changed words plus the option's four new words. The L4 checksum does not
 * change: its pseudo header counts the L4 length, not the IP total length. Only IHL 5 headers
 * get here, so the options never exceed MAX_IPOPTLEN (40). */
static __always_inline int dsr_insert_opt4(struct xdp_md *ctx, __be32 frontend_addr, __be16 frontend_port)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr eth;
	struct iphdr ip;
	struct dsr_opt_v4 opt = { .type = DSR_IPV4_OPT_TYPE, .len = sizeof(opt), .port = frontend_port, .addr = frontend_addr };
	__u16 before[2], after[2], words[4];

	if (data + sizeof(eth) + sizeof(ip) > data_end)
		return -1;
	__builtin_memcpy(&eth, data, sizeof(eth));
	__builtin_memcpy(&ip, data + sizeof(eth), sizeof(ip));
	__builtin_memcpy(before, &ip, sizeof(before)); /* version/IHL/TOS, total length */
	ip.ihl += sizeof(opt) / 4;
	ip.tot_len = bpf_htons(bpf_ntohs(ip.tot_len) + sizeof(opt));
	__builtin_memcpy(after, &ip, sizeof(after));
	__builtin_memcpy(words, &opt, sizeof(words));

	__u32 sum = (__u16)~ip.check;
	sum += (__u16)~before[0] + after[0] + (__u16)~before[1] + after[1];
	sum += words[0] + words[1] + words[2] + words[3]; /* new words: m = 0 */
	ip.check = (__u16)~csum_fold_words(sum);

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(opt)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(eth) + sizeof(ip) + sizeof(opt) > data_end)
		return -1;
	__builtin_memcpy(data, &eth, sizeof(eth));
	__builtin_memcpy(data + sizeof(eth), &ip, sizeof(ip));
	__builtin_memcpy(data + sizeof(eth) + sizeof(ip), &opt, sizeof(opt));
	return 0;
}

/* The link-layer part of a FIB answer. */
struct np_l2 {
	__u8 dmac[ETH_ALEN];
	__u8 smac[ETH_ALEN];
	__u32 ifindex;
};

/* ---- IPv6 ----
 *
 * nodeport_forward6()'s path at XDP, the same way as IPv4: DNAT + SNAT to a remote backend (or
 * DNAT + the DSR destination options header, Cilium's dsr_set_ext6), DNAT to a local one.
 * Replies, ICMPv6 errors, extension headers and fragments go to nodeport.c's tc path. */

/* nodeport_forward6()'s choice, read-only (its steps without session affinity, which stays at
 * tc). -1: no backend. */
static __always_inline int np_choose_backend6(const struct tuple6 *t, struct lb6_service *svc, int wildcard, __u8 tcp_flags, __u64 now,
					      struct lb6_backend **be, __u32 *backend_id, struct ct6_entry **live)
{
	struct ct6_key skey = { .sport = t->sport, .dport = t->dport, .proto = t->proto, .dir = CT_DIR_SERVICE };
	skey.saddr = t->saddr;
	skey.daddr = t->daddr;
	struct ct6_entry *ct = bpf_map_lookup_elem(&ct6, &skey);

	*live = NULL;
	if (ct && ct->expires_ns > now && !((ct->flags & CT_F_CLOSING) && (tcp_flags & TCP_FLAG_SYN) && !(tcp_flags & TCP_FLAG_ACK))) {
		*backend_id = ct->backend_id;
		*be = bpf_map_lookup_elem(&lb6_backends, backend_id);
		if (*be) {
			*live = ct;
			return 0;
		}
	}
	if (svc->count == 0)
		return -1;
	struct lb6_key slot_key = { .dport = t->dport, .proto = t->proto };
	if (!wildcard)
		slot_key.address = t->daddr;
	slot_key.backend_slot = (__u16)(tuple6_hash(t) % svc->count) + 1;
	struct lb6_service *slot = bpf_map_lookup_elem(&lb6_services, &slot_key);
	if (!slot)
		return -1;
	*backend_id = slot->backend_id;
	*be = bpf_map_lookup_elem(&lb6_backends, backend_id);
	return *be ? 0 : -1;
}

/* Inserts the DSR destination options header between the IPv6 header and L4 (Cilium's
 * dsr_set_ext6, at XDP): 24 bytes more headroom, the Ethernet and IPv6 headers moved to the new
 * start, Next Header = 60 (the option header's own Next Header takes the L4 protocol), Payload
 * Length + 24. No checksum changes: IPv6 has no header checksum, and the L4 pseudo header counts
 * the upper-layer length and the final destination (RFC 8200 section 8.1), neither of which
 * changes. */
static __always_inline int dsr_insert_ext6(struct xdp_md *ctx, const union v6addr *frontend_addr, __be16 frontend_port)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr eth;
	struct ipv6hdr ip6;
	struct dsr_opt_v6 opt = { .hdrlen = DSR_IPV6_EXT_LEN, .opt_type = DSR_IPV6_OPT_TYPE, .opt_len = DSR_IPV6_OPT_LEN, .port = frontend_port };

	if (data + sizeof(eth) + sizeof(ip6) > data_end)
		return -1;
	__builtin_memcpy(&eth, data, sizeof(eth));
	__builtin_memcpy(&ip6, data + sizeof(eth), sizeof(ip6));
	opt.addr = *frontend_addr;
	opt.nexthdr = ip6.nexthdr;
	ip6.nexthdr = NEXTHDR_DEST;
	ip6.payload_len = bpf_htons(bpf_ntohs(ip6.payload_len) + sizeof(opt));

	if (bpf_xdp_adjust_head(ctx, -(int)sizeof(opt)))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(eth) + sizeof(ip6) + sizeof(opt) > data_end)
		return -1;
	__builtin_memcpy(data, &eth, sizeof(eth));
	__builtin_memcpy(data + sizeof(eth), &ip6, sizeof(ip6));
	__builtin_memcpy(data + sizeof(eth) + sizeof(ip6), &opt, sizeof(opt));
	return 0;
}

/* Inlined like the IPv4 path: the two share one 512-byte frame (their locals overlap), which
 * is why the IPv6 path keeps only the link-layer part of the FIB answer and one CT key. */
static __always_inline int nodeport_xdp6(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xpkt6 p;
	if (xpkt6_parse(data, data_end, &p, 0) != XPKT_OK || p.ip6->hop_limit <= 1)
		return xdp_pass();
	struct tuple6 t = { .sport = p.l4->source, .dport = p.l4->dest, .proto = p.proto };
	__builtin_memcpy(&t.saddr, &p.ip6->saddr, 16);
	__builtin_memcpy(&t.daddr, &p.ip6->daddr, 16);
	int wildcard;
	struct lb6_service *svc = service_lookup6(&t, &wildcard);
	if (!svc || (svc->flags & (SVC_FLAG_AFFINITY | SVC_FLAG_LOCAL_SCOPE)) || (svc->flags2 & SVC_FLAG2_MAGLEV))
		return xdp_pass();

	__u64 now = bpf_ktime_get_ns();
	struct lb6_backend *be;
	struct ct6_entry *live;
	__u32 backend_id;
	if (np_choose_backend6(&t, svc, wildcard, p.tcp_flags, now, &be, &backend_id, &live)) {
		count(NP_NO_BACKEND);
		return XDP_DROP;
	}
	__u32 be_ifindex = be->ifindex;
	int remote = be_ifindex == 0;
	int dsr = remote && (svc->flags & SVC_FLAG_DSR);
	struct tuple6 out = t;
	out.daddr = be->address;
	out.dport = be->port;
	__u32 zero = 0;
	struct nodeport_config6 *cfg = NULL;
	if (remote && !dsr) {
		cfg = bpf_map_lookup_elem(&nodeport_config6, &zero);
		if (!cfg || v6_is_zero(&cfg->snat_addr))
			return xdp_pass(); /* tc counts NP_NAT_FAIL and drops */
	}
	int dsr_opt = dsr && (t.proto == IPPROTO_UDP || (p.tcp_flags & TCP_FLAG_SYN));

	/* The route first, as for IPv4 (the MTU check included). Only the MACs and the device
	 * are kept from it: the IPv6 path needs its stack for the rest. */
	struct np_l2 l2;
	{
		struct bpf_fib_lookup fib = {};
		fib.family = AF_INET6;
		fib.l4_protocol = t.proto;
		fib.sport = t.sport;
		fib.dport = out.dport;
		fib.tot_len = sizeof(struct ipv6hdr) + bpf_ntohs(p.ip6->payload_len) + (dsr_opt ? sizeof(struct dsr_opt_v6) : 0);
		__builtin_memcpy(fib.ipv6_src, cfg ? &cfg->snat_addr : &t.saddr, 16);
		__builtin_memcpy(fib.ipv6_dst, &out.daddr, 16);
		fib.ifindex = ctx->ingress_ifindex;
		long rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
		if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED && dsr_opt) {
			xdp_count(NPX_DSR_FRAG_NEEDED);
			return XDP_DROP;
		}
		if (rc != BPF_FIB_LKUP_RET_SUCCESS)
			return xdp_pass();
		__builtin_memcpy(l2.dmac, fib.dmac, ETH_ALEN);
		__builtin_memcpy(l2.smac, fib.smac, ETH_ALEN);
		l2.ifindex = fib.ifindex;
	}

	/* The CT entries nodeport_forward6() writes (flagged DSR for DSR connections). */
	__u8 ct_flags = (remote ? CT_F_REMOTE : 0) | (dsr ? CT_F_DSR : 0);
	struct ct6_key key = { .sport = t.sport, .dport = t.dport, .proto = t.proto, .dir = CT_DIR_SERVICE };
	key.saddr = t.saddr;
	key.daddr = t.daddr;
	if (live)
		ct6_touch(live, t.proto, p.tcp_flags, 0, now);
	else if (ct6_create(&key, &t, backend_id, svc->rev_nat_index, ct_flags, p.tcp_flags, now))
		return XDP_DROP;
	/* the forward entry: one key variable for both (the IPv6 path is short of stack) */
	key.daddr = out.daddr;
	key.dport = out.dport;
	key.dir = CT_DIR_FORWARD;
	struct ct6_entry *fct = bpf_map_lookup_elem(&ct6, &key);
	if (fct && fct->backend_id == backend_id && fct->expires_ns > now)
		ct6_touch(fct, t.proto, p.tcp_flags, 0, now);
	else if (ct6_create(&key, &t, backend_id, svc->rev_nat_index, ct_flags, p.tcp_flags, now))
		return XDP_DROP;
	if (cfg) {
		__be16 port = snat_allocate6(&out, cfg);
		if (!port) {
			count(NP_NAT_FAIL);
			return XDP_DROP;
		}
		out.saddr = cfg->snat_addr;
		out.sport = port;
	}

	xpkt6_set_addr(&p, &p.ip6->saddr, (const struct in6_addr *)&out.saddr);
	xpkt6_set_addr(&p, &p.ip6->daddr, (const struct in6_addr *)&out.daddr);
	xl4_set_sport(p.l4, &p.csum, out.sport);
	xl4_set_dport(p.l4, &p.csum, out.dport);
	p.ip6->hop_limit--; /* ip6_forward(); no header checksum */
	xeth_set_macs(p.eth, l2.dmac, l2.smac);
	if (dsr_opt) {
		if (dsr_insert_ext6(ctx, &t.daddr, t.dport))
			return XDP_DROP;
		xdp_count(NPX_DSR_OPT);
	}
	return xdp_send(ctx, remote, be_ifindex, &l2.ifindex);
}

static __always_inline int nodeport_xdp4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct xpkt4 p;

	if (xpkt4_parse(data, data_end, &p, 0) != XPKT_OK)
		return xdp_pass();
	/* The stack answers a TTL about to expire with ICMP time exceeded (tc passes it too). */
	if (p.ip->ttl <= 1)
		return xdp_pass();
	struct tuple4 t = { .saddr = p.ip->saddr, .daddr = p.ip->daddr, .sport = p.l4->source, .dport = p.l4->dest, .proto = p.ip->protocol };
	struct lb4_service *svc = service_lookup(&t);
	if (!svc)
		return xdp_pass(); /* a reply or not for a service: tc's */

	/* Session affinity and externalTrafficPolicy: Local stay with tc, which implements them:
	 * XDP repeats only nodeport_forward()'s plain choice. */
	if ((svc->flags & (SVC_FLAG_AFFINITY | SVC_FLAG_LOCAL_SCOPE)) || (svc->flags2 & SVC_FLAG2_MAGLEV))
		return xdp_pass();

	__u64 now = bpf_ktime_get_ns();
	struct np_choice c;
	if (np_choose_backend(&t, svc, p.tcp_flags, now, &c)) {
		count(NP_NO_BACKEND); /* Cilium drops at XDP too (DROP_NO_SERVICE) */
		return XDP_DROP;
	}
	__u32 be_ifindex = c.be->ifindex;
	int remote = be_ifindex == 0;
	int dsr = remote && (svc->flags & SVC_FLAG_DSR);
	struct tuple4 out = t;
	out.daddr = c.be->address;
	out.dport = c.be->port;

	__u32 zero = 0;
	struct nodeport_config *cfg = NULL;
	if (remote && !dsr) {
		cfg = bpf_map_lookup_elem(&nodeport_config, &zero);
		if (!cfg || !cfg->snat_addr)
			return xdp_pass(); /* tc counts NP_NAT_FAIL and drops */
	}

	/* DSR: the frontend the client used, for the backend's node; TCP needs it on SYN only. */
	int dsr_opt = dsr && (t.proto == IPPROTO_UDP || (p.tcp_flags & TCP_FLAG_SYN));

	/* The route first, so that a packet XDP cannot send leaves no trace in the maps. The
	 * lookup's answer does not depend on the source port (used only by multipath hashing,
	 * not configured here), so the port SNAT is about to choose is not needed yet. With
	 * tot_len the lookup also checks the length against the MTU of the device it finds
	 * (net/core/filter.c bpf_ipv4_fib_lookup: BPF_FIB_LKUP_RET_FRAG_NEEDED): the length as
	 * it will leave, the option included. */
	struct bpf_fib_lookup fib = {};
	fib.family = AF_INET;
	fib.l4_protocol = t.proto;
	fib.sport = t.sport;
	fib.dport = out.dport;
	fib.tot_len = bpf_ntohs(p.ip->tot_len) + (dsr_opt ? sizeof(struct dsr_opt_v4) : 0);
	fib.ipv4_src = cfg ? cfg->snat_addr : t.saddr;
	fib.ipv4_dst = out.daddr;
	fib.ifindex = ctx->ingress_ifindex;
	long rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc == BPF_FIB_LKUP_RET_FRAG_NEEDED && dsr_opt) {
		/* Cilium drops it too (DROP_FRAG_NEEDED; with ENABLE_DSR_ICMP_ERRORS it also
		 * answers ICMP fragmentation needed, which is not done here). */
		xdp_count(NPX_DSR_FRAG_NEEDED);
		return XDP_DROP;
	}
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return xdp_pass(); /* no neighbour yet (tc has bpf_redirect_neigh), or no route */

	__u8 ct_flags = remote ? CT_F_REMOTE : 0;
	if (dsr)
		ct_flags |= CT_F_DSR;
	if (np_commit_ct(&t, &out, svc, &c, p.tcp_flags, now, ct_flags))
		return XDP_DROP;
	if (cfg) {
		__be16 port = snat_allocate(&out, cfg);
		if (!port) {
			count(NP_NAT_FAIL);
			return XDP_DROP;
		}
		out.saddr = cfg->snat_addr;
		out.sport = port;
	}

	xpkt4_set_saddr(&p, out.saddr);
	xpkt4_set_daddr(&p, out.daddr);
	xl4_set_sport(p.l4, &p.csum, out.sport);
	xl4_set_dport(p.l4, &p.csum, out.dport);
	xpkt4_dec_ttl(&p);
	xeth_set_macs(p.eth, fib.dmac, fib.smac);

	if (dsr_opt) {
		if (dsr_insert_opt4(ctx, t.daddr, t.dport))
			return XDP_DROP;
		xdp_count(NPX_DSR_OPT);
	}

	return xdp_send(ctx, remote, be_ifindex, &fib.ifindex);
}

SEC("xdp")
int nodeport_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) <= data_end && eth->h_proto == bpf_htons(ETH_P_IPV6))
		return nodeport_xdp6(ctx);
	return nodeport_xdp4(ctx);
}
