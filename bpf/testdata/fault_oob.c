// Playground fixture: a tc program that reads a byte past the end of the packet without the
// bounds check the verifier demands (`data + off < data_end`). The kernel verifier rejects it
// ("invalid access to packet ... R2 offset is outside of the packet", kernel/bpf/verifier.c
// check_packet_access; checked with bpftool prog load on 6.18); bpfbed runs it and the
// VM faults on the read, naming this C line. Used by the playground's engine and E2E tests.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

SEC("tc")
int fault_oob(struct __sk_buff *skb)
{
	unsigned char *data = (unsigned char *)(long)skb->data;
	/* The byte just after the packet: skb->len is the frame's length, and nothing checks data_end. */
	volatile unsigned char past_end = data[skb->len];
	if (past_end == 0x42)
		return TC_ACT_SHOT;
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
