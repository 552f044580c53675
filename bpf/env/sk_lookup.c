// Kernel oracle for src/env/sockets.ts: looks a tuple up with bpf_sk_lookup_tcp / _udp /
// bpf_skc_lookup_tcp as a host tool asks through `sk_io`, and reports which socket came back.
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct sk_case {
	__u8 tuple[36];
	__u32 len;
	__u32 pad0;
	__u64 netns;
	__u64 flags;
	// out
	__u32 found;
	__u32 family;
	__u32 pad;
	__u32 state;
	__u32 src_ip4;
	__u32 src_port;
	__u32 dst_ip4;
	__u32 dst_port;
	__u32 src_ip6[4];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct sk_case);
} sk_io SEC(".maps");

// One program per helper: the verifier does not let one load instruction read both a
// socket and a sock_common pointer.
#define SK_LOOKUP_PROG(name, helper)							\
SEC("tc")										\
int name(struct __sk_buff *skb)								\
{											\
	__u32 key = 0;									\
	struct sk_case *c = bpf_map_lookup_elem(&sk_io, &key);				\
	struct bpf_sock *sk;								\
	__u32 len;									\
											\
	if (!c)										\
		return TC_ACT_SHOT;							\
	len = c->len;									\
	if (len < 1 || len > sizeof(c->tuple))						\
		return TC_ACT_SHOT;							\
	sk = helper(skb, (struct bpf_sock_tuple *)c->tuple, len, c->netns, c->flags);	\
	c->found = sk != 0;								\
	if (!sk)									\
		return TC_ACT_OK;							\
	c->family = sk->family;								\
	c->state = sk->state;								\
	c->src_ip4 = sk->src_ip4;							\
	c->src_port = sk->src_port;							\
	c->dst_ip4 = sk->dst_ip4;							\
	c->dst_port = sk->dst_port;							\
	c->src_ip6[0] = sk->src_ip6[0];							\
	c->src_ip6[1] = sk->src_ip6[1];							\
	c->src_ip6[2] = sk->src_ip6[2];							\
	c->src_ip6[3] = sk->src_ip6[3];							\
	bpf_sk_release(sk);								\
	return TC_ACT_OK;								\
}

SK_LOOKUP_PROG(sk_tcp, bpf_sk_lookup_tcp)
SK_LOOKUP_PROG(sk_udp, bpf_sk_lookup_udp)
SK_LOOKUP_PROG(skc_tcp, bpf_skc_lookup_tcp)

char _license[] SEC("license") = "GPL";
