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

// bpf_skb_load_bytes_relative from the MAC and the network header: returns the Ethernet type
// (MAC offset 12) * 65536 + the IPv4 protocol (NET offset 9) * 256 + the helper results.
SEC("socket")
int sockfilter_relative(struct __sk_buff *skb)
{
	__u8 mac[2] = {}, net[1] = {}, tail[2] = {};
	long r1 = bpf_skb_load_bytes_relative(skb, 12, mac, 2, BPF_HDR_START_MAC);
	long r2 = bpf_skb_load_bytes_relative(skb, 9, net, 1, BPF_HDR_START_NET);
	long r3 = bpf_skb_load_bytes_relative(skb, skb->len - 1, tail, 2, BPF_HDR_START_NET);

	return ((mac[0] << 8 | mac[1]) << 16) + (net[0] << 8) + (r1 == 0) + 2 * (r2 == 0) + 4 * (r3 == -14);
}

char _license[] SEC("license") = "GPL";
