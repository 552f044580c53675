// bpf_redirect_map on an empty DEVMAP (test/ctx): byte 6 of the frame = the key, byte 9 = the
// flags; returns 1000 + the helper's result.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

SEC("xdp")
int xdp_redirect_map(struct xdp_md *ctx)
{
	__u8 *p = (void *)(long)ctx->data;

	if ((void *)(p + 14) > (void *)(long)ctx->data_end)
		return XDP_ABORTED;
	return 1000 + bpf_redirect_map(&tx_ports, p[6], p[9]);
}

char _license[] SEC("license") = "GPL";
