// Programs exercising the core helpers: printk formats, bpf_loop, tail calls, spin locks,
// clocks and randomness. Run by test/helpers/core.test.ts. The syscall programs get a struct
// args buffer as their context (r1); tail calls need a non-sleepable program type, so those are
// tc programs that only pass their context on.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct args {
	__u64 a;
	__u64 b;
	__u32 ip4;
	__u8 ip6[16];
	char name[16];
};

struct locked {
	struct bpf_spin_lock lock;
	__u32 count;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct locked);
} locks SEC(".maps");

int tail_target(struct __sk_buff *skb);
int tail_loop(struct __sk_buff *skb);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
	__array(values, int(struct __sk_buff *));
} jumps SEC(".maps") = {
	.values = { [0] = (void *)&tail_target, [1] = (void *)&tail_loop },
};

__u64 loop_sum;
__u32 tail_hops;

SEC("syscall")
int printk_formats(struct args *a)
{
	bpf_printk("d=%d u=%u x=%x", (int)a->a, (unsigned)a->a, (unsigned)a->a);
	bpf_printk("lld=%lld llx=%llx", (long long)a->b, a->b);
	bpf_printk("ip4=%pI4 ip6=%pI6", &a->ip4, a->ip6);
	bpf_printk("s=%s pad=[%5d] [%-5d] [%05d]", a->name, 42, 42, 42);
	return 0;
}

static long add_index(__u64 index, void *ctx)
{
	__u64 *sum = ctx;
	*sum += index;
	return index == 9 ? 1 : 0; /* stop after index 9 */
}

SEC("syscall")
int loop_until_nine(struct args *a)
{
	__u64 sum = 0;
	long n = bpf_loop(100, add_index, &sum, 0);
	loop_sum = sum;
	return n; /* 10 iterations: 0..9 */
}

SEC("syscall")
int loop_bad_flags(struct args *a)
{
	__u64 sum = 0;
	return bpf_loop(3, add_index, &sum, 1); /* -EINVAL */
}

SEC("tc")
int tail_target(struct __sk_buff *ctx)
{
	tail_hops++;
	return 7;
}

SEC("tc")
int tail_loop(struct __sk_buff *ctx)
{
	tail_hops++;
	bpf_tail_call(ctx, &jumps, 1); /* itself, until the kernel's limit */
	return 99;
}

SEC("tc")
int tail_call_hit(struct __sk_buff *a)
{
	bpf_tail_call(a, &jumps, 0);
	return 1; /* not reached */
}

SEC("tc")
int tail_call_miss(struct __sk_buff *a)
{
	bpf_tail_call(a, &jumps, 2); /* empty slot */
	bpf_tail_call(a, &jumps, 100); /* out of range */
	return 3;
}

SEC("tc")
int tail_call_limit(struct __sk_buff *a)
{
	tail_hops = 0;
	bpf_tail_call(a, &jumps, 1);
	return 5;
}

SEC("syscall")
int spin_count(struct args *a)
{
	__u32 key = 0;
	struct locked *v = bpf_map_lookup_elem(&locks, &key);
	if (!v)
		return -1;
	bpf_spin_lock(&v->lock);
	v->count++;
	bpf_spin_unlock(&v->lock);
	return v->count;
}

SEC("syscall")
int clocks(struct args *a)
{
	a->a = bpf_ktime_get_ns();
	a->b = bpf_ktime_get_boot_ns();
	a->ip4 = bpf_get_prandom_u32();
	return bpf_get_smp_processor_id();
}

char LICENSE[] SEC("license") = "GPL";
