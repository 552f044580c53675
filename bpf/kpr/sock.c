/* Socket-level service load balancing (kube-proxy replacement for traffic from this node's
 * sockets), the design of Cilium's bpf/bpf_sock.c: the cgroup socket address hooks translate a
 * service address to a backend before the protocol ever sees it, so there is no per-packet NAT
 * and no conntrack entry; the socket simply talks to the backend.
 *
 *   connect4/6   TCP and connected UDP: service lookup by (address, port, ctx->protocol),
 *                backend choice, rewrite of user_ip/user_port; a reverse entry for the socket.
 *   sendmsg4/6   unconnected UDP (sendto with a destination): the same, per datagram.
 *   recvmsg4/6   UDP: the source of a datagram from a backend shown as the service address
 *                (the "fix for unconnected UDP" of the design article: nslookup and friends
 *                check that the reply comes from where they sent the query).
 *   getpeername4/6  the connected peer shown as the service address.
 *
 * The service map is keyed by (address, port, protocol, slot); slot 0 is the service with its
 * backend count, slots 1..count name backends (lb.h). A NodePort is reachable from a local
 * socket on any local address: a lookup that misses, for a port in the NodePort range and an
 * address that is loopback or one of the node's addresses (lb4_node_addrs), is retried with
 * address 0.0.0.0 / :: ("any local address"), as Cilium's sock4_wildcard_lookup does.
 *
 * An IPv6 socket dialling an IPv4-mapped address (::ffff:10.96.0.10, a dual-stack socket) is
 * looked up in the IPv4 tables and gets the backend back as ::ffff:backend, as Cilium's
 * sock6_xlate_v4_in_v6 does; its reverse entries live in lb4_reverse_sk.
 *
 * Backend choice: bpf_get_prandom_u32() % count + 1 (Cilium's sock_select_random_slot); for a
 * service with SVC_FLAG_AFFINITY (sessionAffinity: ClientIP) a hash of the socket's network
 * namespace cookie instead, so every socket of one client (pod) lands on the same backend:
 * Cilium's socket LB identifies the client by its netns cookie for affinity too
 * (lb4_affinity_backend_id_by_netns); we hash instead of keeping an affinity map, so the choice
 * is stable while the backend list is, with no timeout.
 *
 * A service with no backends: connect and sendmsg fail with -EHOSTUNREACH (bpf_set_retval, then
 * return 0), as Cilium's cil_sock4_connect does (__sock4_xlate_fwd returns -EHOSTUNREACH when
 * svc->count == 0; the hook then calls try_set_retval(err) and returns SYS_REJECT).
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include "lb.h"
#include "sock_maps.h"

#define SYS_REJECT 0
#define SYS_PROCEED 1

/* include/uapi/asm-generic/errno*.h */
#define ENOENT 2
#define ENOMEM 12
#define ENXIO 6
#define EHOSTUNREACH 113

/* Kubernetes' default --service-node-port-range (Cilium: NODEPORT_PORT_MIN/MAX). */
#define NODEPORT_PORT_MIN 30000
#define NODEPORT_PORT_MAX 32767

/* ctx->user_port holds sin_port (network order) in its low 16 bits (bpf_sock_addr, uapi). */
static __always_inline __be16 ctx_dport(const struct bpf_sock_addr *ctx)
{
	volatile __u32 port = ctx->user_port;
	return (__be16)port;
}

static __always_inline int is_v4_loopback(__be32 addr)
{
	/* 127.0.0.0/8, RFC 1122 3.2.1.3 */
	return (addr & bpf_htonl(0xff000000)) == bpf_htonl(0x7f000000);
}

static __always_inline int is_v6_loopback(const union v6addr *addr)
{
	/* ::1/128, RFC 4291 2.5.3 */
	return addr->p1 == 0 && addr->p2 == 0 && addr->p3 == 0 && addr->p4 == bpf_htonl(1);
}

static __always_inline int is_nodeport_port(__be16 port)
{
	__u16 p = bpf_ntohs(port);
	return p >= NODEPORT_PORT_MIN && p <= NODEPORT_PORT_MAX;
}

/* Slot 1..count of the backend for this socket. */
static __always_inline __u32 sock_select_slot(struct bpf_sock_addr *ctx, __u16 count, __u8 flags)
{
	__u32 pick;

	if (flags & SVC_FLAG_AFFINITY) {
		/* Fibonacci hashing of the 64-bit netns cookie: the high 32 bits of the product. */
		__u64 h = bpf_get_netns_cookie(ctx) * 0x9E3779B97F4A7C15ULL;
		pick = (__u32)(h >> 32);
	} else {
		pick = bpf_get_prandom_u32();
	}
	return pick % count + 1;
}

/* ------------------------------------------------------------------------- IPv4 */

/* The service for key, exactly by protocol first, then as a protocol-agnostic (0) entry. */
static __always_inline struct lb4_service *lb4_lookup(struct lb4_key *key)
{
	struct lb4_service *svc = bpf_map_lookup_elem(&lb4_services, key);
	__u8 proto = key->proto;

	if (svc || proto == 0)
		return svc;
	key->proto = 0;
	svc = bpf_map_lookup_elem(&lb4_services, key);
	if (!svc)
		key->proto = proto;
	return svc;
}

/* A NodePort on a local address: retried as address 0.0.0.0 (sock4_wildcard_lookup). */
static __always_inline struct lb4_service *lb4_wildcard_lookup(struct lb4_key *key)
{
	struct lb4_service *svc;

	if (!is_nodeport_port(key->dport))
		return NULL;
	if (!is_v4_loopback(key->address) && !bpf_map_lookup_elem(&lb4_node_addrs, &key->address))
		return NULL;
	key->address = 0;
	svc = lb4_lookup(key);
	if (svc && !(svc->flags & (SVC_FLAG_NODEPORT | SVC_FLAG_HOSTPORT)))
		return NULL;
	return svc;
}

/* An IPv4 destination as the hooks pass it around: from ctx->user_ip4/user_port, or from the
 * low word of an IPv4-mapped IPv6 address (a dual-stack socket dialling an IPv4 service). */
struct sock_addr4 {
	__be32 address;
	__be16 port;
};

/* Translates *addr (in place) from a service to a backend; 0 when it did. */
static __always_inline int sock4_xlate_fwd(struct bpf_sock_addr *ctx, struct sock_addr4 *addr)
{
	struct lb4_key key = {
		.address = addr->address,
		.dport = addr->port,
		.proto = (__u8)ctx->protocol,
		.scope = LB_LOOKUP_SCOPE_EXT,
	};
	__be32 orig_address = key.address;
	__be16 orig_port = key.dport;
	struct lb4_service *svc, *slot;
	struct lb4_backend *backend;
	__u16 rev_nat_index;
	__u32 backend_id;

	svc = lb4_lookup(&key);
	if (!svc)
		svc = lb4_wildcard_lookup(&key);
	if (!svc)
		return -ENXIO;
	if (svc->count == 0)
		return -EHOSTUNREACH;
	rev_nat_index = svc->rev_nat_index;

	key.backend_slot = (__u16)sock_select_slot(ctx, svc->count, svc->flags);
	slot = bpf_map_lookup_elem(&lb4_services, &key);
	if (!slot)
		return -ENOENT;
	backend_id = slot->backend_id;
	backend = bpf_map_lookup_elem(&lb4_backends, &backend_id);
	if (!backend)
		return -ENOENT;

	struct sock4_rev_key rkey = {
		.cookie = bpf_get_socket_cookie(ctx),
		.address = backend->address,
		.port = backend->port,
	};
	struct sock4_rev_value rval = {
		.address = orig_address,
		.port = orig_port,
		.rev_nat_index = rev_nat_index,
	};
	struct sock4_rev_value *have = bpf_map_lookup_elem(&lb4_reverse_sk, &rkey);
	/* Only write when it changes: an update refreshes the LRU and costs more than a lookup. */
	if (!have || have->address != rval.address || have->port != rval.port || have->rev_nat_index != rval.rev_nat_index) {
		if (bpf_map_update_elem(&lb4_reverse_sk, &rkey, &rval, BPF_ANY) < 0)
			return -ENOMEM;
	}

	addr->address = backend->address;
	addr->port = backend->port;
	return 0;
}

/* The service address back for a backend this socket was sent to, if the service still is. */
static __always_inline int sock4_xlate_rev(struct bpf_sock_addr *ctx, struct sock_addr4 *addr)
{
	struct sock4_rev_key rkey = {
		.cookie = bpf_get_socket_cookie(ctx),
		.address = addr->address,
		.port = addr->port,
	};
	struct sock4_rev_value *val = bpf_map_lookup_elem(&lb4_reverse_sk, &rkey);
	struct lb4_service *svc;

	if (!val)
		return -ENXIO;
	struct lb4_key key = {
		.address = val->address,
		.dport = val->port,
		.proto = (__u8)ctx->protocol,
		.scope = LB_LOOKUP_SCOPE_EXT,
	};
	svc = lb4_lookup(&key);
	if (!svc)
		svc = lb4_wildcard_lookup(&key);
	/* The service went away or its index was reused: the entry is stale (Cilium's
	 * __sock4_xlate_rev, REASON_LB_REVNAT_STALE); show the backend as it is. */
	if (!svc || svc->rev_nat_index != val->rev_nat_index) {
		bpf_map_delete_elem(&lb4_reverse_sk, &rkey);
		return -ENOENT;
	}
	addr->address = val->address;
	addr->port = val->port;
	return 0;
}

static __always_inline struct sock_addr4 ctx_get_addr4(const struct bpf_sock_addr *ctx)
{
	struct sock_addr4 a = { .address = ctx->user_ip4, .port = ctx_dport(ctx) };
	return a;
}

static __always_inline void ctx_set_addr4(struct bpf_sock_addr *ctx, const struct sock_addr4 *a)
{
	ctx->user_ip4 = a->address;
	ctx->user_port = (__u32)a->port;
}

static __always_inline int sock4_fwd(struct bpf_sock_addr *ctx)
{
	struct sock_addr4 a = ctx_get_addr4(ctx);
	int err = sock4_xlate_fwd(ctx, &a);

	if (!err)
		ctx_set_addr4(ctx, &a);
	return err;
}

static __always_inline void sock4_rev(struct bpf_sock_addr *ctx)
{
	struct sock_addr4 a = ctx_get_addr4(ctx);

	if (!sock4_xlate_rev(ctx, &a))
		ctx_set_addr4(ctx, &a);
}

static __always_inline int sock_fwd_verdict(int err)
{
	/* Only "no backend" and "no memory for the reverse entry" fail the call; anything else
	 * (not a service, a half-written service) lets the socket go where it asked. */
	if (err == -EHOSTUNREACH || err == -ENOMEM) {
		bpf_set_retval(err);
		return SYS_REJECT;
	}
	return SYS_PROCEED;
}

SEC("cgroup/connect4")
int sock4_connect(struct bpf_sock_addr *ctx)
{
	return sock_fwd_verdict(sock4_fwd(ctx));
}

SEC("cgroup/sendmsg4")
int sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	return sock_fwd_verdict(sock4_fwd(ctx));
}

SEC("cgroup/recvmsg4")
int sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	sock4_rev(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername4")
int sock4_getpeername(struct bpf_sock_addr *ctx)
{
	sock4_rev(ctx);
	return SYS_PROCEED;
}

/* ------------------------------------------------------------------------- IPv6 */

static __always_inline void ctx_get_ip6(const struct bpf_sock_addr *ctx, union v6addr *addr)
{
	addr->p1 = ctx->user_ip6[0];
	addr->p2 = ctx->user_ip6[1];
	addr->p3 = ctx->user_ip6[2];
	addr->p4 = ctx->user_ip6[3];
}

static __always_inline void ctx_set_ip6(struct bpf_sock_addr *ctx, const union v6addr *addr)
{
	ctx->user_ip6[0] = addr->p1;
	ctx->user_ip6[1] = addr->p2;
	ctx->user_ip6[2] = addr->p3;
	ctx->user_ip6[3] = addr->p4;
}

static __always_inline int v6addr_equal(const union v6addr *a, const union v6addr *b)
{
	return a->p1 == b->p1 && a->p2 == b->p2 && a->p3 == b->p3 && a->p4 == b->p4;
}

static __always_inline struct lb6_service *lb6_lookup(struct lb6_key *key)
{
	struct lb6_service *svc = bpf_map_lookup_elem(&lb6_services, key);
	__u8 proto = key->proto;

	if (svc || proto == 0)
		return svc;
	key->proto = 0;
	svc = bpf_map_lookup_elem(&lb6_services, key);
	if (!svc)
		key->proto = proto;
	return svc;
}

static __always_inline struct lb6_service *lb6_wildcard_lookup(struct lb6_key *key)
{
	struct lb6_service *svc;

	if (!is_nodeport_port(key->dport))
		return NULL;
	if (!is_v6_loopback(&key->address) && !bpf_map_lookup_elem(&lb6_node_addrs, &key->address))
		return NULL;
	key->address.d1 = 0;
	key->address.d2 = 0;
	svc = lb6_lookup(key);
	if (svc && !(svc->flags & (SVC_FLAG_NODEPORT | SVC_FLAG_HOSTPORT)))
		return NULL;
	return svc;
}

/* ::ffff:a.b.c.d (RFC 4291 2.5.5.2): an IPv6 socket reaching an IPv4 address. */
static __always_inline int is_v4_mapped(const union v6addr *a)
{
	return a->p1 == 0 && a->p2 == 0 && a->p3 == bpf_htonl(0xffff);
}

static __always_inline int sock6_xlate_fwd(struct bpf_sock_addr *ctx)
{
	struct lb6_key key = {
		.dport = ctx_dport(ctx),
		.proto = (__u8)ctx->protocol,
		.scope = LB_LOOKUP_SCOPE_EXT,
	};
	union v6addr orig_address;
	__be16 orig_port = key.dport;
	struct lb6_service *svc, *slot;
	struct lb6_backend *backend;
	__u16 rev_nat_index;
	__u32 backend_id;

	ctx_get_ip6(ctx, &key.address);
	if (is_v4_mapped(&key.address)) {
		/* The IPv4 service tables answer, and the backend goes back as ::ffff:backend
		 * (Cilium's sock6_xlate_v4_in_v6). */
		struct sock_addr4 a = { .address = key.address.p4, .port = key.dport };
		int err = sock4_xlate_fwd(ctx, &a);

		if (!err) {
			ctx->user_ip6[3] = a.address;
			ctx->user_port = (__u32)a.port;
		}
		return err;
	}
	orig_address = key.address;
	svc = lb6_lookup(&key);
	if (!svc)
		svc = lb6_wildcard_lookup(&key);
	if (!svc)
		return -ENXIO;
	if (svc->count == 0)
		return -EHOSTUNREACH;
	rev_nat_index = svc->rev_nat_index;

	key.backend_slot = (__u16)sock_select_slot(ctx, svc->count, svc->flags);
	slot = bpf_map_lookup_elem(&lb6_services, &key);
	if (!slot)
		return -ENOENT;
	backend_id = slot->backend_id;
	backend = bpf_map_lookup_elem(&lb6_backends, &backend_id);
	if (!backend)
		return -ENOENT;

	struct sock6_rev_key rkey;

	/* sizeof(struct sock6_rev_key) is 32 with 4 bytes of tail padding (a u64 beside a packed
	 * union): a designated initializer leaves them as the stack had them, and the kernel lets a
	 * privileged program hash that garbage into the key (allow_uninit_stack), so the entry
	 * would never be found again. Zero the whole key. */
	__builtin_memset(&rkey, 0, sizeof(rkey));
	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.address = backend->address;
	rkey.port = backend->port;
	struct sock6_rev_value rval = {
		.address = orig_address,
		.port = orig_port,
		.rev_nat_index = rev_nat_index,
	};
	struct sock6_rev_value *have = bpf_map_lookup_elem(&lb6_reverse_sk, &rkey);
	if (!have || !v6addr_equal(&have->address, &rval.address) || have->port != rval.port || have->rev_nat_index != rval.rev_nat_index) {
		if (bpf_map_update_elem(&lb6_reverse_sk, &rkey, &rval, BPF_ANY) < 0)
			return -ENOMEM;
	}

	ctx_set_ip6(ctx, &backend->address);
	ctx->user_port = (__u32)backend->port;
	return 0;
}

static __always_inline int sock6_xlate_rev(struct bpf_sock_addr *ctx)
{
	struct sock6_rev_key rkey;
	struct sock6_rev_value *val;
	struct lb6_service *svc;

	__builtin_memset(&rkey, 0, sizeof(rkey)); /* tail padding: see sock6_xlate_fwd */
	rkey.cookie = bpf_get_socket_cookie(ctx);
	rkey.port = ctx_dport(ctx);
	ctx_get_ip6(ctx, &rkey.address);
	if (is_v4_mapped(&rkey.address)) {
		struct sock_addr4 a = { .address = rkey.address.p4, .port = rkey.port };
		int err = sock4_xlate_rev(ctx, &a);

		if (!err) {
			ctx->user_ip6[3] = a.address;
			ctx->user_port = (__u32)a.port;
		}
		return err;
	}
	val = bpf_map_lookup_elem(&lb6_reverse_sk, &rkey);
	if (!val)
		return -ENXIO;
	struct lb6_key key = {
		.address = val->address,
		.dport = val->port,
		.proto = (__u8)ctx->protocol,
		.scope = LB_LOOKUP_SCOPE_EXT,
	};
	svc = lb6_lookup(&key);
	if (!svc)
		svc = lb6_wildcard_lookup(&key);
	if (!svc || svc->rev_nat_index != val->rev_nat_index) {
		bpf_map_delete_elem(&lb6_reverse_sk, &rkey);
		return -ENOENT;
	}
	ctx_set_ip6(ctx, &val->address);
	ctx->user_port = (__u32)val->port;
	return 0;
}

SEC("cgroup/connect6")
int sock6_connect(struct bpf_sock_addr *ctx)
{
	return sock_fwd_verdict(sock6_xlate_fwd(ctx));
}

SEC("cgroup/sendmsg6")
int sock6_sendmsg(struct bpf_sock_addr *ctx)
{
	return sock_fwd_verdict(sock6_xlate_fwd(ctx));
}

SEC("cgroup/recvmsg6")
int sock6_recvmsg(struct bpf_sock_addr *ctx)
{
	sock6_xlate_rev(ctx);
	return SYS_PROCEED;
}

SEC("cgroup/getpeername6")
int sock6_getpeername(struct bpf_sock_addr *ctx)
{
	sock6_xlate_rev(ctx);
	return SYS_PROCEED;
}

char LICENSE[] SEC("license") = "GPL";
