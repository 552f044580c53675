// Helpers called from a BPF-to-BPF subprogram with pointers into that subprogram's own stack
// frame, or into its caller's: the verifier accepts both (kernel/bpf/verifier.c,
// check_stack_range_initialized on any active frame), so the helpers must too. bpfbed used to
// know only frame 0 when checking a helper's pointer (test/helpers/subprog-stack.test.ts).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} values SEC(".maps");

static __noinline int lookup_own_frame(__u32 which)
{
	__u32 key = which;
	__u32 *v = bpf_map_lookup_elem(&values, &key);
	return v ? *v : -1;
}

static __noinline int lookup_callers_frame(__u32 *key)
{
	__u32 *v = bpf_map_lookup_elem(&values, key);
	return v ? *v : -1;
}

static __noinline int update_own_frame(__u32 which, __u32 value)
{
	__u32 key = which, val = value;
	return bpf_map_update_elem(&values, &key, &val, BPF_ANY);
}

SEC("syscall")
int subprog_stack(void *ctx)
{
	__u32 key = 2;
	if (update_own_frame(1, 41) != 0)
		return -100;
	return lookup_own_frame(1) * 1000 + lookup_callers_frame(&key);
}

static __noinline int fib_in_subprog(struct xdp_md *ctx)
{
	struct bpf_fib_lookup fib = {};
	fib.family = 2; /* AF_INET */
	fib.ifindex = ctx->ingress_ifindex;
	fib.ipv4_dst = __builtin_bswap32(0x0a000005); /* 10.0.0.5 */
	return bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
}

SEC("xdp")
int fib_subprog(struct xdp_md *ctx)
{
	return fib_in_subprog(ctx) == BPF_FIB_LKUP_RET_SUCCESS ? XDP_TX : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
