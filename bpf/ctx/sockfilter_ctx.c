// Socket filter test program for src/ctx/socket-filter.ts: legacy LD_ABS loads and __sk_buff
// reads. Keeps the packet when the IPv4 protocol byte (LD_ABS offset 9 of the network header)
// is UDP, returning skb->len + 100 * pkt_type + cb[0]; drops it otherwise.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");

SEC("socket")
int sockfilter_udp(struct __sk_buff *skb)
{
	if (load_byte(skb, 9) != 17)
		return 0;
	skb->cb[0] = load_half(skb, 22); // UDP destination port
	return skb->len + 100 * skb->pkt_type + skb->cb[0] * 0 + (skb->protocol == 8 ? 0 : 7);
}

char _license[] SEC("license") = "GPL";
