// A context access the kernel's verifier refuses (a load past the checked range); bpfbed must fault on it
// (test/ctx/access.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int tc_past_data_end(struct __sk_buff *skb)
{
	__u8 *data = (void *)(long)skb->data; __u8 *end = (void *)(long)skb->data_end; if (data + 14 > end) return 0; return data[20];
}

char _license[] SEC("license") = "GPL";
