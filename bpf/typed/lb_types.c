// Map key and value types shaped like Cilium's load-balancer maps, for the typed map API
// (test/typed/). The program only exists so that the maps are referenced.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct lb4_key {
	__be32 address;
	__be16 dport;
	__u16 backend_slot;
	__u8 proto;
	__u8 scope;
	__u8 pad[2];
};

struct lb4_backend {
	__be32 address;
	__be16 port;
	__u8 proto;
	__u8 flags;
};

union v6addr {
	struct {
		__u32 p1;
		__u32 p2;
		__u32 p3;
		__u32 p4;
	};
	__u8 addr[16];
};

struct ct_key6 {
	union v6addr saddr;
	union v6addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 nexthdr;
	__u8 flags;
};

struct nat_entry {
	__u8 to_mac[6];
	__be32 to_saddr;
	__be16 to_sport;
	__u64 created;
	char name[8];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, struct lb4_key);
	__type(value, struct lb4_backend);
} services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 64);
	__type(key, struct ct_key6);
	__type(value, struct nat_entry);
} ct6 SEC(".maps");

SEC("tc")
int touch(struct __sk_buff *skb)
{
	struct lb4_key k = {};
	struct ct_key6 k6 = {};
	return bpf_map_lookup_elem(&services, &k) != 0 || bpf_map_lookup_elem(&ct6, &k6) != 0;
}

char LICENSE[] SEC("license") = "GPL";
