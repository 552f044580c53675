// A context access the kernel's verifier refuses (user_family is read-only); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/connect4")
int sa_write_family(struct bpf_sock_addr *ctx)
{
	*(volatile __u32 *)&ctx->user_family = 10; return 1;
}

char _license[] SEC("license") = "GPL";
