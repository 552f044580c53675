// A context access the kernel's verifier refuses (family..local_port are not for tc); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_read_family(struct __sk_buff *skb)
{
	return *(volatile __u32 *)&skb->family;
}

char _license[] SEC("license") = "GPL";
