// A context access the kernel's verifier refuses (an IPv6 field at an IPv4 hook); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/connect4")
int sa_read_ip6(struct bpf_sock_addr *ctx)
{
	return *(volatile __u32 *)&ctx->user_ip6[0] != 0;
}

char _license[] SEC("license") = "GPL";
