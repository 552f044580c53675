// A context access the kernel's verifier refuses (socket filters may only write cb[]); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int sf_write_mark(struct __sk_buff *skb)
{
	*(volatile __u32 *)&skb->mark = 1; return 0;
}

char _license[] SEC("license") = "GPL";
