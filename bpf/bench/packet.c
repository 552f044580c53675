// The per-packet workload of `npm run bench` (bench/packets/): a tc ingress load balancer in the
// shape of a Kubernetes service datapath. It parses Ethernet/IPv4/TCP, looks the destination up
// in a service map and the 5-tuple in a connection-tracking map, rewrites the destination to the
// backend with the checksum helpers and redirects to the backend's device.
//
//   not IPv4 + TCP, or no service           -> TC_ACT_OK (to the stack untouched)
//   service, tracked connection             -> DNAT to the tracked backend, bpf_redirect
//   service, untracked SYN                  -> DNAT to the service's backend, bpf_redirect
//   service, untracked mid-stream packet    -> TC_ACT_SHOT
//
// The maps are filled by bench/packets/maps.ts. The `micro_*` programs each make one kind of
// helper call 32 times, to measure what one call costs (bench/packets/breakdown.ts).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <stddef.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct svc_key {
	__be32 vip;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct svc_backend {
	__be32 addr;
	__be16 port;
	__u16 pad;
	__u32 ifindex;
};

struct ct_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct ct_entry {
	__be32 addr;
	__be16 port;
	__u16 pad;
	__u64 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct svc_key);
	__type(value, struct svc_backend);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ct_key);
	__type(value, struct ct_entry);
} conntrack SEC(".maps");

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))
#define TCP_CSUM_OFF (ETH_HLEN + sizeof(struct iphdr) + offsetof(struct tcphdr, check))
#define TCP_DPORT_OFF (ETH_HLEN + sizeof(struct iphdr) + offsetof(struct tcphdr, dest))

SEC("tc")
int packet_lb(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);

	if ((void *)(tcp + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	if (ip->ihl != 5 || ip->protocol != IPPROTO_TCP)
		return TC_ACT_OK;

	struct svc_key sk = { .vip = ip->daddr, .port = tcp->dest, .proto = IPPROTO_TCP };
	struct svc_backend *svc = bpf_map_lookup_elem(&services, &sk);
	if (!svc)
		return TC_ACT_OK;

	struct ct_key ck = {
		.saddr = ip->saddr, .daddr = ip->daddr, .sport = tcp->source, .dport = tcp->dest, .proto = IPPROTO_TCP,
	};
	struct ct_entry *ct = bpf_map_lookup_elem(&conntrack, &ck);
	__be32 old_addr = ip->daddr, new_addr;
	__be16 old_port = tcp->dest, new_port;
	if (ct) {
		new_addr = ct->addr;
		new_port = ct->port;
		__sync_fetch_and_add(&ct->packets, 1);
	} else if (tcp->syn && !tcp->ack) {
		new_addr = svc->addr;
		new_port = svc->port;
	} else {
		return TC_ACT_SHOT;
	}
	__u32 ifindex = svc->ifindex;

	bpf_l4_csum_replace(skb, TCP_CSUM_OFF, old_addr, new_addr, BPF_F_PSEUDO_HDR | sizeof(new_addr));
	bpf_l4_csum_replace(skb, TCP_CSUM_OFF, old_port, new_port, sizeof(new_port));
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, sizeof(new_addr));
	bpf_skb_store_bytes(skb, IP_DST_OFF, &new_addr, sizeof(new_addr), 0);
	bpf_skb_store_bytes(skb, TCP_DPORT_OFF, &new_port, sizeof(new_port), 0);
	return bpf_redirect(ifindex, 0);
}

// Helper micro-benchmarks: 32 calls that leave the packet as it was (checksum replace of a value
// by itself, storing the bytes already there), so every call does the full work of a call.
#define MICRO_CALLS 32

SEC("tc")
int micro_none(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

SEC("tc")
int micro_lookup(struct __sk_buff *skb)
{
	struct svc_key sk = { .vip = bpf_htonl(0x0a600001), .port = bpf_htons(80), .proto = IPPROTO_TCP };
	int hits = 0;
#pragma unroll
	for (int i = 0; i < MICRO_CALLS; i++)
		hits += bpf_map_lookup_elem(&services, &sk) != 0;
	return hits;
}

SEC("tc")
int micro_l3_csum(struct __sk_buff *skb)
{
#pragma unroll
	for (int i = 0; i < MICRO_CALLS; i++)
		bpf_l3_csum_replace(skb, IP_CSUM_OFF, 0x01020304, 0x01020304, 4);
	return TC_ACT_OK;
}

SEC("tc")
int micro_l4_csum(struct __sk_buff *skb)
{
#pragma unroll
	for (int i = 0; i < MICRO_CALLS; i++)
		bpf_l4_csum_replace(skb, TCP_CSUM_OFF, 0x01020304, 0x01020304, BPF_F_PSEUDO_HDR | 4);
	return TC_ACT_OK;
}

SEC("tc")
int micro_store(struct __sk_buff *skb)
{
	__be32 zero = 0;
#pragma unroll
	for (int i = 0; i < MICRO_CALLS; i++)
		bpf_skb_store_bytes(skb, 0, &zero, sizeof(zero), 0);
	return TC_ACT_OK;
}

SEC("tc")
int micro_redirect(struct __sk_buff *skb)
{
	long r = 0;
#pragma unroll
	for (int i = 0; i < MICRO_CALLS; i++)
		r = bpf_redirect(3, 0);
	return r;
}

char LICENSE[] SEC("license") = "GPL";
