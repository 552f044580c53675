// Test programs for src/ctx/xdp.ts and the XDP helpers, compared with BPF_PROG_TEST_RUN by
// test/ctx. xdp_ops reads an operation from the Ethernet source address (byte 6 = op, bytes 7-8
// = a little-endian s16 argument, byte 9 = flags) and returns 1000 + the helper's result.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_ops(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 *p = data;
	long rc = -1;

	if (data + 14 > data_end)
		return XDP_ABORTED;
	__u8 op = p[6];
	__s16 arg = (__s16)(p[7] | p[8] << 8);
	__u8 flags = p[9];

	switch (op) {
	case 1:
		rc = bpf_xdp_adjust_head(ctx, arg);
		break;
	case 2:
		rc = bpf_xdp_adjust_meta(ctx, arg);
		break;
	case 3:
		rc = bpf_xdp_adjust_tail(ctx, arg);
		break;
	case 4:
		rc = bpf_redirect(arg, flags);
		break;
	case 6: {
		// adjust_meta then write the metadata and read it back through data_meta.
		rc = bpf_xdp_adjust_meta(ctx, arg);
		if (rc)
			break;
		__u32 *meta = (void *)(long)ctx->data_meta;
		if ((void *)(meta + 1) > (void *)(long)ctx->data)
			break;
		*meta = 0xa1b2c3d4;
		break;
	}
	case 8: {
		__u8 buf[4] = { 0xaa, 0xbb, 0xcc, 0xdd };
		rc = bpf_xdp_store_bytes(ctx, arg, buf, sizeof(buf));
		break;
	}
	case 9: {
		__u8 buf[4] = {};
		rc = bpf_xdp_load_bytes(ctx, arg, buf, sizeof(buf));
		if (!rc)
			rc = buf[0] | buf[3] << 8;
		break;
	}
	case 7:
		rc = ctx->ingress_ifindex * 100 + ctx->rx_queue_index;
		break;
	}
	return 1000 + rc;
}

char _license[] SEC("license") = "GPL";
