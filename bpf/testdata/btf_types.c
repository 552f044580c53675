// Loader fixture: BTF kinds beyond the basics (bitfields, anonymous unions, enums
// with 64-bit values, floats, decl and type tags) in a map value, for the BTF tests.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum color { RED = 1, GREEN = 2, BLUE = -3 };
enum big { BIG_SMALL = 1, BIG_HUGE = 0x1234567890ULL };

typedef __u32 __attribute__((btf_decl_tag("counter_id"))) counter_t;

struct inner {
	__u16 port;
	__u8 proto;
};

struct record {
	__u32 flags : 3;
	__s32 level : 5;
	__u32 rest : 24;
	union {
		__u32 addr4;
		__u8 addr6[16];
	};
	struct inner in;
	enum color color;
	enum big big;
	counter_t id;
	float ratio;
	double mean;
	char name[8];
	const volatile __u64 stamp;
	int __attribute__((btf_type_tag("user"))) *uptr;
} __attribute__((btf_decl_tag("record_tag")));

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, struct record);
} records SEC(".maps");

SEC("tc")
int use_records(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct record *r = bpf_map_lookup_elem(&records, &key);

	if (!r)
		return 0;
	return r->in.port + r->level;
}

char _license[] SEC("license") = "GPL";
