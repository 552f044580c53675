// A context access the kernel's verifier refuses (family: 4-byte loads only); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/connect4")
int sa_narrow_family(struct bpf_sock_addr *ctx)
{
	return *(volatile __u8 *)&ctx->family == 2;
}

char _license[] SEC("license") = "GPL";
