// Loader fixture: a legacy `maps` section with two struct bpf_map_def definitions
// (libbpf < 1.0, iproute2 and cilium/ebpf still read them; libbpf 1.x refuses them).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def_legacy {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def_legacy legacy_hash SEC("maps") = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = 4,
	.value_size = 8,
	.max_entries = 16,
	.map_flags = BPF_F_NO_PREALLOC,
};

struct bpf_map_def_legacy legacy_array SEC("maps") = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = 4,
	.value_size = 4,
	.max_entries = 2,
};

SEC("socket")
int use_legacy(struct __sk_buff *skb)
{
	__u32 zero = 0;
	__u64 *v = bpf_map_lookup_elem(&legacy_hash, &zero);

	if (!bpf_map_lookup_elem(&legacy_array, &zero))
		return 0;
	return v ? *v : 1;
}

char _license[] SEC("license") = "GPL";
