// Kernel oracle for src/env/clock.ts: samples the time helpers back to back, so a host test can
// check how jiffies64 relates to ktime_get_ns (INITIAL_JIFFIES, HZ) and boot time to monotonic.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct clock_sample {
	__u64 mono;
	__u64 jiffies;
	__u64 boot;
	__u64 tai;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct clock_sample);
} clock_io SEC(".maps");

SEC("tc")
int clock_tc(struct __sk_buff *skb)
{
	__u32 key = 0;
	struct clock_sample *s = bpf_map_lookup_elem(&clock_io, &key);

	if (!s)
		return TC_ACT_SHOT;
	s->mono = bpf_ktime_get_ns();
	s->jiffies = bpf_jiffies64();
	s->boot = bpf_ktime_get_boot_ns();
	s->tai = bpf_ktime_get_tai_ns();
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
