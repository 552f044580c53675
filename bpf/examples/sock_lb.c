// Socket-level ClusterIP translation, the way Cilium replaces kube-proxy for traffic from pods:
// connect4 and sendmsg4 rewrite a service address to a backend; a reverse-NAT map keyed by the
// socket cookie and the backend restores the service address in recvmsg4 and getpeername4, so
// the application only ever sees the VIP. test/sockets/socket-host.test.ts.
#include <linux/bpf.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct svc_key {
	__be32 vip;
	__be16 port;
	__u16 pad;
};

struct svc_value {
	__be32 backend;
	__be16 backend_port;
	__u16 pad;
};

struct rev_key {
	__u64 cookie;
	__be32 addr;
	__be16 port;
	__u16 pad;
};

struct rev_value {
	__be32 vip;
	__be16 port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct svc_key);
	__type(value, struct svc_value);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct rev_key);
	__type(value, struct rev_value);
} rev_nat SEC(".maps");

static __always_inline int translate(struct bpf_sock_addr *ctx)
{
	struct svc_key key = { .vip = ctx->user_ip4, .port = (__be16)ctx->user_port };
	struct svc_value *be = bpf_map_lookup_elem(&services, &key);
	if (!be)
		return 1;
	struct rev_key rk = { .cookie = bpf_get_socket_cookie(ctx), .addr = be->backend, .port = be->backend_port };
	struct rev_value rv = { .vip = key.vip, .port = key.port };
	bpf_map_update_elem(&rev_nat, &rk, &rv, BPF_ANY);
	ctx->user_ip4 = be->backend;
	ctx->user_port = be->backend_port;
	return 1;
}

static __always_inline int reverse(struct bpf_sock_addr *ctx)
{
	struct rev_key rk = { .cookie = bpf_get_socket_cookie(ctx), .addr = ctx->user_ip4, .port = (__be16)ctx->user_port };
	struct rev_value *rv = bpf_map_lookup_elem(&rev_nat, &rk);
	if (rv) {
		ctx->user_ip4 = rv->vip;
		ctx->user_port = rv->port;
	}
	return 1;
}

SEC("cgroup/connect4")
int sock4_connect(struct bpf_sock_addr *ctx)
{
	return translate(ctx);
}

SEC("cgroup/sendmsg4")
int sock4_sendmsg(struct bpf_sock_addr *ctx)
{
	return translate(ctx);
}

SEC("cgroup/recvmsg4")
int sock4_recvmsg(struct bpf_sock_addr *ctx)
{
	return reverse(ctx);
}

SEC("cgroup/getpeername4")
int sock4_getpeername(struct bpf_sock_addr *ctx)
{
	return reverse(ctx);
}

char LICENSE[] SEC("license") = "GPL";
