// Loader fixture: CO-RE relocations (preserve_access_index field offsets, field
// existence and type size), which the loader records per program.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct pkt_meta {
	__u32 mark;
	__u16 proto;
	__u16 flags;
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pkt_meta);
} metas SEC(".maps");

SEC("tc")
int core_reader(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct pkt_meta *m = bpf_map_lookup_elem(&metas, &key);

	if (!m)
		return 0;
	if (bpf_core_field_exists(m->flags))
		return m->proto + bpf_core_type_size(struct pkt_meta);
	return m->mark;
}

char _license[] SEC("license") = "GPL";
