// The bundled example until the datapath lands: programs that read a packet from the memory
// they are handed (r1 = the buffer, as BPF_PROG_TYPE_SYSCALL programs get their context) and
// compute what a datapath would: the IPv4 header checksum, a flow hash, a protocol count.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct packet {
	__u32 len;
	__u8 bytes[128];
};

// Global data (.rodata), read by the programs.
const volatile __u32 hash_seed = 0x9747b28c;

// Per-run counters (.bss).
__u64 packets_seen;

static __noinline __u16 fold_csum(__u32 sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

// Returns the IPv4 header checksum the packet should carry, as a number in network byte order
// (what Wireshark shows as ip.checksum), or 0 if it is not IPv4. The one's complement sum is
// byte-order independent (RFC 1071 §2(B)), so summing little-endian loads and swapping at the
// end gives the same value.
SEC("syscall")
int ipv4_checksum(struct packet *pkt)
{
	struct ethhdr *eth = (void *)pkt->bytes;
	__u32 sum = 0;

	packets_seen++;
	if (pkt->len < sizeof(*eth) + sizeof(struct iphdr) || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	struct iphdr *ip = (void *)(eth + 1);
	__u16 *words = (__u16 *)ip;
	for (int i = 0; i < (int)(sizeof(*ip) / 2); i++)
		if (i != 5) // skip the checksum field itself
			sum += words[i];
	return bpf_ntohs(fold_csum(sum));
}

// A flow hash over (saddr, daddr, protocol) with the seed from .rodata: FNV-1a.
SEC("syscall")
int flow_hash(struct packet *pkt)
{
	struct ethhdr *eth = (void *)pkt->bytes;
	__u32 hash = 2166136261u ^ hash_seed;

	packets_seen++;
	if (pkt->len < sizeof(*eth) + sizeof(struct iphdr) || eth->h_proto != bpf_htons(ETH_P_IP))
		return 0;
	struct iphdr *ip = (void *)(eth + 1);
	__u8 *p = (__u8 *)&ip->saddr;
	for (int i = 0; i < 8; i++) {
		hash ^= p[i];
		hash *= 16777619u;
	}
	hash ^= ip->protocol;
	hash *= 16777619u;
	return hash;
}

char LICENSE[] SEC("license") = "GPL";
