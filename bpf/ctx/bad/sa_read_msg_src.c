// A context access the kernel's verifier refuses (msg_src_ip4 is for sendmsg4 only); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("cgroup/connect4")
int sa_read_msg_src(struct bpf_sock_addr *ctx)
{
	return *(volatile __u32 *)&ctx->msg_src_ip4 != 0;
}

char _license[] SEC("license") = "GPL";
