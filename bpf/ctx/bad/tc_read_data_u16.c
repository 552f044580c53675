// A context access the kernel's verifier refuses (data: 4-byte loads only); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_read_data_u16(struct __sk_buff *skb)
{
	return *(volatile __u16 *)&skb->data;
}

char _license[] SEC("license") = "GPL";
