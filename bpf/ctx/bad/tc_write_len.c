// A context access the kernel's verifier refuses (len is read-only); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_write_len(struct __sk_buff *skb)
{
	*(volatile __u32 *)&skb->len = 1; return 0;
}

char _license[] SEC("license") = "GPL";
