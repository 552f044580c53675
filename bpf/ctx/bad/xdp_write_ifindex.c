// A context access the kernel's verifier refuses (xdp_md is read-only); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_write_ifindex(struct xdp_md *ctx)
{
	*(volatile __u32 *)&ctx->ingress_ifindex = 1; return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
