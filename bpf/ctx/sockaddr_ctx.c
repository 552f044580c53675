// cgroup socket address test programs for src/ctx/sock-addr.ts: a ClusterIP translation at
// connect4 / sendmsg4 and its reverse at recvmsg4 / getpeername4 (the service address the
// application must keep seeing), a bind4 guard, and set_retval.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SVC_IP 0x0a60000a    /* 10.96.0.10 */
#define BACKEND_IP 0x0a000105 /* 10.0.1.5 */
#define SVC_PORT 80
#define BACKEND_PORT 8080

__u64 last_cookie;

static int to_backend(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip4 == bpf_htonl(SVC_IP) && ctx->user_port == bpf_htons(SVC_PORT)) {
		ctx->user_ip4 = bpf_htonl(BACKEND_IP);
		ctx->user_port = bpf_htons(BACKEND_PORT);
	}
	last_cookie = bpf_get_socket_cookie(ctx);
	return 1;
}

static int to_service(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip4 == bpf_htonl(BACKEND_IP) && ctx->user_port == bpf_htons(BACKEND_PORT)) {
		ctx->user_ip4 = bpf_htonl(SVC_IP);
		ctx->user_port = bpf_htons(SVC_PORT);
	}
	return 1;
}

SEC("cgroup/connect4")
int svc_connect4(struct bpf_sock_addr *ctx)
{
	return to_backend(ctx);
}

SEC("cgroup/sendmsg4")
int svc_sendmsg4(struct bpf_sock_addr *ctx)
{
	return to_backend(ctx);
}

SEC("cgroup/recvmsg4")
int svc_recvmsg4(struct bpf_sock_addr *ctx)
{
	return to_service(ctx);
}

SEC("cgroup/getpeername4")
int svc_getpeername4(struct bpf_sock_addr *ctx)
{
	return to_service(ctx);
}

// Rejects binds to ports below 1024 with EACCES through bpf_set_retval, allows others with the
// "no CAP_NET_BIND_SERVICE check" bit.
SEC("cgroup/bind4")
int guard_bind4(struct bpf_sock_addr *ctx)
{
	if (bpf_ntohs(ctx->user_port) < 1024) {
		bpf_set_retval(-13);
		return 0;
	}
	return 3;
}

// IPv6: reads user_ip6 with 8-byte loads and rewrites it with 4-byte stores.
SEC("cgroup/connect6")
int svc_connect6(struct bpf_sock_addr *ctx)
{
	__u64 hi = *(volatile __u64 *)&ctx->user_ip6[0];
	if (hi == 0 && ctx->user_ip6[2] == 0 && ctx->user_ip6[3] == bpf_htonl(1)) {
		ctx->user_ip6[0] = bpf_htonl(0xfd000000);
		ctx->user_ip6[3] = bpf_htonl(5);
	}
	return ctx->type == 1 ? 1 : 0;
}

char _license[] SEC("license") = "GPL";
