// Loader fixture: string literals that clang puts in a mergeable .rodata.str1.1
// section, referenced through a section symbol plus an addend.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("socket")
int printer(struct __sk_buff *skb)
{
	bpf_trace_printk("first %d\n", 10, skb->len);
	bpf_trace_printk("second\n", 8);
	return 0;
}

char _license[] SEC("license") = "GPL";
