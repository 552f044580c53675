// Loader fixture: global data in .data, .rodata, .bss and a custom .data.*
// section, subprograms in .text called from two programs, two programs in one
// section, and a bpf_loop callback (BPF_PSEUDO_FUNC).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

int counter = 7;
volatile const __u32 threshold = 42;
const char greeting[] = "hello";
__u64 scratch;
__u64 zeroed_array[4];
int custom_value SEC(".data.custom") = 0x11223344;

static __noinline int add_static(int a, int b)
{
	return a + b + threshold;
}

__noinline int add_global(int a)
{
	counter += a;
	return add_static(a, counter);
}

static int loop_cb(__u32 index, void *ctx)
{
	scratch += index;
	return 0;
}

SEC("tc")
int first(struct __sk_buff *skb)
{
	return add_global(skb->len) + greeting[1];
}

SEC("tc")
int second(struct __sk_buff *skb)
{
	zeroed_array[2] = custom_value;
	return add_static(skb->mark, 3);
}

SEC("xdp")
int looper(struct xdp_md *ctx)
{
	bpf_loop(4, loop_cb, 0, 0);
	return scratch > 3 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
