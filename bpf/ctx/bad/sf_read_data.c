// A context access the kernel's verifier refuses (no direct packet access for socket filters); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int sf_read_data(struct __sk_buff *skb)
{
	return *(volatile __u32 *)&skb->data;
}

char _license[] SEC("license") = "GPL";
