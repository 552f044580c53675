// Parity fixture: a tc program that reads the context fields BPF_PROG_TEST_RUN takes in ctx_in
// (mark, priority, cb, ifindex, ingress_ifindex) and writes every field it copies back in
// ctx_out (net/bpf/test_run.c convert_skb_to___skb: mark, priority, cb, tstamp), plus tc_index
// and queue_mapping, which a test run does not copy back. Packets marked 0x200 are dropped, so the
// scenario's per-packet metadata decides verdicts too (fixtures/scenarios/parity-ctx.yaml).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} seen_in SEC(".maps");

static __always_inline void add(__u32 slot, __u64 value)
{
	__u64 *v = bpf_map_lookup_elem(&seen_in, &slot);

	if (v)
		*v += value;
}

SEC("tc")
int set_fields(struct __sk_buff *skb)
{
	__u32 mark = skb->mark;

	add(0, mark);
	add(1, skb->priority);
	add(2, (__u64)skb->ifindex << 32 | skb->ingress_ifindex);
	add(3, skb->cb[0] + skb->cb[1] + skb->cb[2] + skb->cb[3] + skb->cb[4]);

	skb->mark = (mark ^ 0x5a5a0000) + skb->len;
	skb->priority = skb->priority * 2 + skb->protocol;
	skb->cb[0] = skb->cb[0] + 1;
	skb->cb[1] = skb->ifindex;
	skb->cb[2] = skb->ingress_ifindex;
	skb->cb[3] = skb->len;
	skb->cb[4] = skb->cb[4] ^ 0xffffffff;
	skb->tstamp = (__u64)skb->len * 1000;
	skb->tc_index = 7;
	skb->queue_mapping = 1;
	if (mark & 0x200)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
