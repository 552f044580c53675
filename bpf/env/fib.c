// Kernel oracle for src/env/fib.ts: calls bpf_fib_lookup with the params, flags and length a
// host tool wrote into `fib_io`, and stores the return code and the params as the kernel left
// them. Run by test/env/oracle/run-fib-oracle.sh through BPF_PROG_TEST_RUN inside a netns.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct fib_case {
	struct bpf_fib_lookup params; // 64 bytes, uapi layout (mark overlays smac[0..3])
	__u32 flags;
	__u32 pad;
	__s64 ret;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fib_case);
} fib_io SEC(".maps");

SEC("tc")
int fib_tc(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct fib_case *c = bpf_map_lookup_elem(&fib_io, &key);

	if (!c)
		return TC_ACT_SHOT;
	c->ret = bpf_fib_lookup(skb, &c->params, sizeof(c->params), c->flags);
	return TC_ACT_OK;
}

SEC("xdp")
int fib_xdp(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct fib_case *c = bpf_map_lookup_elem(&fib_io, &key);

	if (!c)
		return XDP_ABORTED;
	c->ret = bpf_fib_lookup(ctx, &c->params, sizeof(c->params), c->flags);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
