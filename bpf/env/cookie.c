// Kernel oracle for src/env/cookies.ts: reports the netns cookie of the namespace the test run
// happens in (bpf_get_netns_cookie, helper 122, allowed for tc since Linux 6.3).
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} cookie_io SEC(".maps");

SEC("tc")
int netns_cookie_tc(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *out = bpf_map_lookup_elem(&cookie_io, &key);

	if (out)
		*out = bpf_get_netns_cookie(skb);
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
