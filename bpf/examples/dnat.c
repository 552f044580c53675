// A small tc ingress DNAT, the shape of a NodePort/ClusterIP translation: look the destination
// (address, port, protocol) up in a service map, rewrite it to the backend with the checksum
// helpers, and redirect to the backend's device. Telnet is dropped; the rest goes to the stack.
// Run by fixtures/scenarios/dnat.yaml.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <stddef.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct svc_key {
	__be32 vip;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct backend {
	__be32 addr;
	__be16 port;
	__u16 pad;
	__u32 ifindex;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, struct svc_key);
	__type(value, struct backend);
} services SEC(".maps");

enum { STAT_PASS, STAT_DNAT, STAT_DROP, STAT_MAX };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

#define IP_CSUM_OFF (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_DST_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))

static __always_inline void count(__u32 what)
{
	__u64 *n = bpf_map_lookup_elem(&stats, &what);
	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("tc")
int dnat_ingress(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);

	if ((void *)(ip + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5)
		goto pass;
	if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
		goto pass;
	/* tcphdr and udphdr both start with source and dest ports */
	struct udphdr *l4 = (void *)(ip + 1);
	if ((void *)(l4 + 1) > data_end)
		goto pass;
	if (ip->protocol == IPPROTO_TCP && l4->dest == bpf_htons(23)) {
		bpf_printk("dropping telnet from %pI4", &ip->saddr);
		count(STAT_DROP);
		return TC_ACT_SHOT;
	}

	struct svc_key key = { .vip = ip->daddr, .port = l4->dest, .proto = ip->protocol };
	struct backend *be = bpf_map_lookup_elem(&services, &key);
	if (!be)
		goto pass;

	__be32 old_addr = ip->daddr, new_addr = be->addr;
	__be16 old_port = l4->dest, new_port = be->port;
	__u32 ifindex = be->ifindex;
	__u32 l4_csum_off = ETH_HLEN + sizeof(struct iphdr) +
			    (ip->protocol == IPPROTO_TCP ? offsetof(struct tcphdr, check) : offsetof(struct udphdr, check));
	__u32 l4_dport_off = ETH_HLEN + sizeof(struct iphdr) + offsetof(struct udphdr, dest);
	__u64 udp = ip->protocol == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	bpf_l4_csum_replace(skb, l4_csum_off, old_addr, new_addr, BPF_F_PSEUDO_HDR | sizeof(new_addr) | udp);
	bpf_l4_csum_replace(skb, l4_csum_off, old_port, new_port, sizeof(new_port) | udp);
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, new_addr, sizeof(new_addr));
	bpf_skb_store_bytes(skb, IP_DST_OFF, &new_addr, sizeof(new_addr), 0);
	bpf_skb_store_bytes(skb, l4_dport_off, &new_port, sizeof(new_port), 0);
	count(STAT_DNAT);
	return bpf_redirect(ifindex, 0);
pass:
	count(STAT_PASS);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
