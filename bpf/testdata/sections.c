// Loader fixture: program types from libbpf's section names.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/connect4")
int connect4(struct bpf_sock_addr *ctx)
{
	return ctx->user_port == 0 ? 0 : 1;
}

SEC("xdp.frags")
int xdp_frags(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp")
int xdp_plain(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("socket")
int sock(struct __sk_buff *skb)
{
	return skb->len;
}

SEC("tc/ingress")
int tc_ingress(struct __sk_buff *skb)
{
	return 0;
}

SEC("tcx/egress")
int tcx_egress(struct __sk_buff *skb)
{
	return 0;
}

SEC("cgroup/recvmsg4")
int recvmsg4(struct bpf_sock_addr *ctx)
{
	return 1;
}

char _license[] SEC("license") = "GPL";
__u32 _version SEC("version") = 0x060100;
