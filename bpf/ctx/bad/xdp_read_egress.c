// A context access the kernel's verifier refuses (egress_ifindex only for BPF_XDP_DEVMAP); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_read_egress(struct xdp_md *ctx)
{
	return *(volatile __u32 *)&ctx->egress_ifindex;
}

char _license[] SEC("license") = "GPL";
