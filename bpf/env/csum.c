// Kernel oracle for src/csum: applies bpf_l3_csum_replace / bpf_l4_csum_replace to the test
// packet, or bpf_csum_diff to two buffers, with the arguments a host tool wrote into `csum_io`,
// and stores the helper's return value. Run by test/env/oracle/run-csum-oracle.sh.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

#define BUF 1024

struct csum_case {
	__u32 op; // 1 = l3_csum_replace, 2 = l4_csum_replace, 3 = csum_diff
	__u32 offset;
	__u64 from;
	__u64 to;
	__u64 flags;
	__u32 from_size;
	__u32 to_size;
	__u32 seed;
	__u32 pad;
	__s64 ret;
	__u8 from_buf[BUF];
	__u8 to_buf[BUF];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct csum_case);
} csum_io SEC(".maps");

SEC("tc")
int csum_tc(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct csum_case *c = bpf_map_lookup_elem(&csum_io, &key);

	if (!c)
		return TC_ACT_SHOT;
	if (c->op == 1) {
		c->ret = bpf_l3_csum_replace(skb, c->offset, c->from, c->to, c->flags);
	} else if (c->op == 2) {
		c->ret = bpf_l4_csum_replace(skb, c->offset, c->from, c->to, c->flags);
	} else if (c->op == 3) {
		__u32 fs = c->from_size, ts = c->to_size;

		if (fs > BUF)
			fs = BUF;
		if (ts > BUF)
			ts = BUF;
		c->ret = bpf_csum_diff((__be32 *)c->from_buf, fs, (__be32 *)c->to_buf, ts, c->seed);
	}
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
