// Map-heavy benchmark programs for `npm run bench` (bench/map-workloads.ts): the map lookups a
// datapath does per packet. tc programs (SEC("tc")) so that the kernel can BPF_PROG_TEST_RUN
// them with `repeat`; they ignore their context. The bench fills the maps identically in bpfbed
// (host API) and in the kernel (bench/kernel/maprun.c) before the timed runs: FLOWS entries
// with key flow_key_of(i) and value {packets = i * 7 + 1, bytes = i}, BACKENDS array entries
// {packets = i + 100}. Each program returns a sum that depends on every lookup's result, so
// both engines must agree on it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define MAX_FLOWS 1024
#define LOOKUPS 16

// 16 bytes, no padding: the same layout in the kernel and in bpfbed's host API.
struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
	__u32 proto;
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, MAX_FLOWS);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
} lru_flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct flow_stats);
} backends SEC(".maps");

// Flow i of the filled maps (bench/map-workloads.ts flowKey builds the same bytes).
static __always_inline void flow_key_of(struct flow_key *key, __u32 i)
{
	key->saddr = 0x0a000001 + i;
	key->daddr = 0xc0a80001;
	key->sport = 1024 + i;
	key->dport = 80;
	key->proto = 6;
}

static __always_inline __u64 sum_lookups(void *map)
{
	struct flow_key key;
	__u64 sum = 0;

	for (__u32 i = 0; i < LOOKUPS; i++) {
		flow_key_of(&key, i);
		struct flow_stats *v = bpf_map_lookup_elem(map, &key);
		if (v)
			sum += v->packets;
	}
	return sum;
}

// 16 lookups of flows 0..15 in a 1024-entry HASH map, summing `packets`.
SEC("tc")
int hash_lookups(struct __sk_buff *skb)
{
	return sum_lookups(&flows);
}

// The same on an LRU_HASH map (each hit also sets the entry's reference bit).
SEC("tc")
int lru_lookups(struct __sk_buff *skb)
{
	return sum_lookups(&lru_flows);
}

// 16 lookups of indices 0..15 in a 1024-entry ARRAY map.
SEC("tc")
int array_lookups(struct __sk_buff *skb)
{
	__u64 sum = 0;

	for (__u32 i = 0; i < LOOKUPS; i++) {
		__u32 index = i;
		struct flow_stats *v = bpf_map_lookup_elem(&backends, &index);
		if (v)
			sum += v->packets;
	}
	return sum;
}

// Update of a flow-like key (BPF_ANY, an existing entry), then a lookup of it.
SEC("tc")
int hash_update(struct __sk_buff *skb)
{
	struct flow_key key;
	struct flow_stats value = { .packets = 3, .bytes = 1500 };

	flow_key_of(&key, 7);
	if (bpf_map_update_elem(&flows, &key, &value, BPF_ANY))
		return -1;
	struct flow_stats *v = bpf_map_lookup_elem(&flows, &key);
	return v ? v->packets + v->bytes : -2;
}

// What a datapath does per packet: a connection-tracking lookup and a service lookup (hash), a
// backend lookup (array), and an LRU update recording the flow (an existing entry: no eviction).
SEC("tc")
int per_packet(struct __sk_buff *skb)
{
	struct flow_key key;
	__u64 sum = 0;

	flow_key_of(&key, 3);
	struct flow_stats *ct = bpf_map_lookup_elem(&flows, &key);
	if (ct)
		sum += ct->packets;
	flow_key_of(&key, 9);
	struct flow_stats *svc = bpf_map_lookup_elem(&flows, &key);
	if (!svc)
		return -1;
	__u32 backend = svc->bytes;
	struct flow_stats *be = bpf_map_lookup_elem(&backends, &backend);
	if (!be)
		return -2;
	sum += be->packets;
	struct flow_stats seen = { .packets = sum, .bytes = 64 };
	flow_key_of(&key, 5);
	if (bpf_map_update_elem(&lru_flows, &key, &seen, BPF_ANY))
		return -3;
	return sum;
}

char LICENSE[] SEC("license") = "GPL";
