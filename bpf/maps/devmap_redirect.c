// bpf_redirect_map on the four redirect map types (kernel/bpf/devmap.c, cpumap.c,
// net/xdp/xskmap.c; net/core/filter.c __bpf_xdp_redirect_map), for
// fixtures/scenarios/xdp-devmap.yaml and test/maps/devmap.test.ts. The UDP destination port of
// an IPv4 frame picks the case; everything else passes. devmap_egress and cpumap_stack are programs
// for DEVMAP and CPUMAP entries (bpfbed runs them where the frame goes; a kernel test run does
// not get that far).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
} tx_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u32);
} tx_by_ifindex SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_CPUMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bpf_cpumap_val);
} cpus SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

// What the program saw: [0] frames, [1] ifindex and [2] program id of the DEVMAP entry it looked
// up, [3] DEVMAP lookups that found nothing, [4] ifindex of the DEVMAP_HASH entry it looked up,
// [5] XSKMAP lookups that found a socket.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 6);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void count(__u32 slot, __u64 add)
{
	__u64 *v = bpf_map_lookup_elem(&seen, &slot);

	if (v)
		*v += add;
}

SEC("xdp")
int devmap_redirect(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + sizeof(*eth);
	struct udphdr *udp = data + sizeof(*eth) + sizeof(*ip);
	__u32 key;

	count(0, 1);
	if ((void *)(udp + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP) || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	switch (bpf_ntohs(udp->dest)) {
	case 1: /* a DEVMAP entry */
		return bpf_redirect_map(&tx_ports, 1, 0);
	case 2: /* an empty DEVMAP slot: the low flag bits */
		return bpf_redirect_map(&tx_ports, 2, XDP_PASS);
	case 3: /* a DEVMAP_HASH entry, keyed by ifindex */
		return bpf_redirect_map(&tx_by_ifindex, 4, 0);
	case 4: /* a DEVMAP_HASH miss */
		return bpf_redirect_map(&tx_by_ifindex, 9, XDP_DROP);
	case 5: /* a CPUMAP entry */
	case 12:
		return bpf_redirect_map(&cpus, 1, 0);
	case 6: /* every device of the map but the ingress one */
		return bpf_redirect_map(&tx_ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
	case 7: /* every device of the map */
		return bpf_redirect_map(&tx_ports, 0, BPF_F_BROADCAST);
	case 8: /* a flag the map type does not take */
		return bpf_redirect_map(&cpus, 1, BPF_F_BROADCAST);
	case 9: { /* lookups from the program */
		struct bpf_devmap_val *v;
		__u32 *ifindex;

		key = 1;
		v = bpf_map_lookup_elem(&tx_ports, &key);
		if (v) {
			count(1, v->ifindex);
			count(2, v->bpf_prog.id);
		}
		key = 5;
		if (!bpf_map_lookup_elem(&tx_ports, &key))
			count(3, 1);
		key = 4;
		ifindex = bpf_map_lookup_elem(&tx_by_ifindex, &key);
		if (ifindex)
			count(4, *ifindex);
		return XDP_PASS;
	}
	case 10: /* an empty CPUMAP slot */
		return bpf_redirect_map(&cpus, 0, XDP_TX);
	case 11: /* an AF_XDP socket, if slot 0 has one */
		key = 0;
		if (bpf_map_lookup_elem(&xsks, &key))
			count(5, 1);
		return bpf_redirect_map(&xsks, 0, XDP_PASS);
	}
	return XDP_PASS;
}

// A program for DEVMAP entries (BPF_XDP_DEVMAP): runs on the frame at the target's egress, marks
// the source MAC's last byte with the egress ifindex, and drops what goes to ifindex 4.
SEC("xdp/devmap")
int devmap_egress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	if (ctx->egress_ifindex == 4)
		return XDP_DROP;
	eth->h_source[5] = ctx->egress_ifindex;
	return XDP_PASS;
}

// A program for CPUMAP entries (BPF_XDP_CPUMAP): runs on the frame on the target CPU before the
// skb is built; marks the source MAC's fifth byte with the CPU, drops frames to UDP port 12.
SEC("xdp/cpumap")
int cpumap_stack(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct udphdr *udp = data + sizeof(*eth) + sizeof(struct iphdr);

	if ((void *)(udp + 1) > end)
		return XDP_PASS;
	if (udp->dest == bpf_htons(12))
		return XDP_DROP;
	eth->h_source[4] = 0xc0 | bpf_get_smp_processor_id();
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
