// A context access the kernel's verifier refuses (stores are 4 bytes wide); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_write_mark_u16(struct __sk_buff *skb)
{
	*(volatile __u16 *)&skb->mark = 1; return 0;
}

char _license[] SEC("license") = "GPL";
