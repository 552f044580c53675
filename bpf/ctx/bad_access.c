// Programs the kernel's verifier refuses for their context accesses; bpfbed must fault on the
// same accesses instead of succeeding (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_write_len(struct __sk_buff *skb)
{
	*(volatile __u32 *)&skb->len = 1; // len is read-only
	return 0;
}

SEC("tc")
int tc_read_family(struct __sk_buff *skb)
{
	return *(volatile __u32 *)&skb->family; // family..local_port: not for tc
}

SEC("tc")
int tc_read_data_u16(struct __sk_buff *skb)
{
	return *(volatile __u16 *)&skb->data; // data: 4-byte loads only
}

SEC("tc")
int tc_past_data_end(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data;
	return data[skb->len + 8]; // past data_end
}

SEC("xdp")
int xdp_write_ifindex(struct xdp_md *ctx)
{
	*(volatile __u32 *)&ctx->ingress_ifindex = 1; // xdp_md is read-only
	return XDP_PASS;
}

SEC("xdp")
int xdp_read_egress(struct xdp_md *ctx)
{
	return *(volatile __u32 *)&ctx->egress_ifindex; // only for BPF_XDP_DEVMAP
}

SEC("socket")
int sf_read_data(struct __sk_buff *skb)
{
	return *(volatile __u32 *)&skb->data; // no direct packet access for socket filters
}

SEC("socket")
int sf_write_mark(struct __sk_buff *skb)
{
	*(volatile __u32 *)&skb->mark = 1; // socket filters may only write cb[]
	return 0;
}

SEC("cgroup/connect4")
int sa_read_ip6(struct bpf_sock_addr *ctx)
{
	return *(volatile __u32 *)&ctx->user_ip6[0] != 0; // IPv6 field at an IPv4 hook
}

SEC("cgroup/connect4")
int sa_write_family(struct bpf_sock_addr *ctx)
{
	*(volatile __u32 *)&ctx->user_family = 10; // read-only
	return 1;
}

SEC("cgroup/connect4")
int sa_read_msg_src(struct bpf_sock_addr *ctx)
{
	return *(volatile __u32 *)&ctx->msg_src_ip4 != 0; // sendmsg4 only
}

char _license[] SEC("license") = "GPL";
