// bpfbed-cflags: -mcpu=v4
// Loader fixture built with -mcpu=v4 (sign-extending loads, movsx, sdiv,
// gotol and bswap may appear).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__s8 small = -5;

static __noinline long widen(long a, long b)
{
	return a / b + (long)small;
}

SEC("tc")
int v4prog(struct __sk_buff *skb)
{
	int x = (signed char)skb->mark;
	return widen(x, skb->len | 1) + __builtin_bswap32(skb->priority);
}

char _license[] SEC("license") = "GPL";
