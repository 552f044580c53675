// Loader fixture: BTF-defined maps of several types, static PROG_ARRAY and
// map-in-map values. (Legacy `maps` definitions are in legacy_maps.c, which
// libbpf 1.x refuses to open, so that this object stays loadable by bpftool.)
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct flow_key {
	__u32 saddr;
	__u32 daddr;
	__u16 sport;
	__u16 dport;
};

struct flow_stats {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct flow_key);
	__type(value, struct flow_stats);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 128);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} lru SEC(".maps");

struct lpm_v4_key {
	__u32 prefixlen;
	__u8 addr[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 64);
	__type(key, struct lpm_v4_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} routes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u64));
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct inner_array {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, struct inner_array);
} outer SEC(".maps") = {
	.values = { [0] = &inner_a, [2] = &inner_b },
};

int tail_a(struct __sk_buff *skb);
int tail_b(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 3);
	__uint(key_size, sizeof(__u32));
	__array(values, int(struct __sk_buff *));
} jump SEC(".maps") = {
	.values = { [1] = (void *)&tail_b, [0] = (void *)&tail_a },
};

SEC("tc")
int tail_a(struct __sk_buff *skb)
{
	return 1;
}

SEC("tc")
int tail_b(struct __sk_buff *skb)
{
	return 2;
}

SEC("tc")
int use_maps(struct __sk_buff *skb)
{
	struct flow_key key = { .saddr = skb->remote_ip4, .sport = 1 };
	struct flow_stats *st = bpf_map_lookup_elem(&flows, &key);
	__u32 zero = 0;
	__u64 *cnt;
	void *inner;

	if (st)
		st->packets++;
	cnt = bpf_map_lookup_elem(&counters, &zero);
	if (cnt)
		(*cnt)++;
	inner = bpf_map_lookup_elem(&outer, &zero);
	if (inner)
		bpf_map_lookup_elem(inner, &zero);
	bpf_map_lookup_elem(&lru, &zero);
	bpf_map_lookup_elem(&routes, &zero);
	bpf_ringbuf_output(&events, &zero, sizeof(zero), 0);
	bpf_tail_call(skb, &jump, 0);
	return 0;
}

char _license[] SEC("license") = "GPL";
