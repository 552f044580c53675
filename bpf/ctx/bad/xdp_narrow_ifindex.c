// A context access the kernel's verifier refuses (xdp_md has no narrow loads); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_narrow_ifindex(struct xdp_md *ctx)
{
	return *(volatile __u8 *)&ctx->ingress_ifindex;
}

char _license[] SEC("license") = "GPL";
