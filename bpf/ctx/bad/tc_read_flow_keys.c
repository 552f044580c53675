// A context access the kernel's verifier refuses (flow_keys is for flow dissectors); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_read_flow_keys(struct __sk_buff *skb)
{
	return *(volatile __u64 *)&skb->flow_keys != 0;
}

char _license[] SEC("license") = "GPL";
