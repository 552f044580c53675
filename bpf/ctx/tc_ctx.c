// Test programs for src/ctx/skb.ts and src/helpers/packet-helpers.ts, compared with
// BPF_PROG_TEST_RUN by test/ctx (see test/ctx/kernel-cases.ts for the recorded answers).
//
// tc_fields: copies __sk_buff fields into the packet after the Ethernet header and writes the
// writable ones, so data_out and ctx_out show what the program saw and left.
// tc_ops: one packet helper per run, chosen by cb[0] (args in cb[1], flags in cb[2]/cb[3]);
// returns 1000 + the helper's return value and stores data_end - data in cb[4].
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("tc")
int tc_fields(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 *out = data + 14;

	if ((void *)(out + 20) > data_end)
		return TC_ACT_SHOT;
	out[0] = skb->len;
	out[1] = skb->pkt_type;
	out[2] = skb->mark;
	out[3] = skb->queue_mapping;
	out[4] = skb->protocol;
	out[5] = skb->vlan_present;
	out[6] = skb->priority;
	out[7] = skb->ingress_ifindex;
	out[8] = skb->ifindex;
	out[9] = skb->tc_index;
	out[10] = skb->cb[0];
	out[11] = skb->hash;
	out[12] = skb->tc_classid;
	out[13] = skb->wire_len;
	out[14] = skb->gso_segs;
	out[15] = skb->gso_size;
	out[16] = (__u32)skb->tstamp;
	out[17] = (__u32)skb->hwtstamp;
	out[18] = (__u32)(skb->data_end - skb->data);
	out[19] = *(volatile __u8 *)((void *)skb + 17); // a narrow load of protocol's second byte

	skb->mark = skb->mark + 0x11;
	skb->priority = 7;
	skb->tc_index = 0x12345;
	skb->tc_classid = 0xabcdef;
	skb->queue_mapping = 3;
	skb->cb[1] = 0xdeadbeef;
	skb->cb[4] = skb->len;
	skb->tstamp = 123456789;
	return TC_ACT_OK;
}

SEC("tc")
int tc_ops(struct __sk_buff *skb)
{
	__u32 op = skb->cb[0];
	__s32 arg = skb->cb[1];
	__u64 flags = ((__u64)skb->cb[3] << 32) | skb->cb[2];
	long rc = -1;
	__u8 buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };

	switch (op) {
	case 1:
		rc = bpf_skb_change_tail(skb, arg, flags);
		break;
	case 2:
		rc = bpf_skb_change_head(skb, arg, flags);
		break;
	case 3:
		rc = bpf_skb_adjust_room(skb, arg, BPF_ADJ_ROOM_MAC, flags);
		break;
	case 4:
		rc = bpf_skb_adjust_room(skb, arg, BPF_ADJ_ROOM_NET, flags);
		break;
	case 5:
		rc = bpf_skb_change_proto(skb, bpf_htons(arg), flags);
		break;
	case 6:
		rc = bpf_skb_pull_data(skb, arg);
		break;
	case 7:
		rc = bpf_skb_change_type(skb, arg);
		break;
	case 8:
		rc = bpf_skb_store_bytes(skb, arg, buf, sizeof(buf), flags);
		break;
	case 9:
		rc = bpf_skb_load_bytes(skb, arg, buf, sizeof(buf));
		skb->cb[2] = buf[0] | buf[1] << 8 | buf[2] << 16 | buf[3] << 24;
		break;
	case 10:
		rc = bpf_redirect(arg, flags);
		break;
	case 11:
		rc = bpf_redirect_peer(arg, flags);
		break;
	case 12: {
		/* the uapi layout: nh_family first, then the address (10.0.0.1) */
		struct bpf_redir_neigh nh = { .nh_family = 2, .ipv4_nh = 0x0100000a };
		if (flags & 1)
			rc = bpf_redirect_neigh(arg, (void *)&nh, sizeof(nh), flags >> 1);
		else
			rc = bpf_redirect_neigh(arg, 0, 0, flags >> 1);
		break;
	}
	case 13:
		rc = bpf_skb_adjust_room(skb, arg, flags >> 32, flags & 0xffffffff);
		break;
	case 14:
		rc = bpf_skb_change_tail(skb, arg, 0);
		if (!rc)
			rc = bpf_skb_change_head(skb, 4, 0);
		break;
	case 15:
		rc = bpf_l3_csum_replace(skb, arg, 0x0100000a, 0x0200000a, flags);
		break;
	case 16:
		rc = bpf_l4_csum_replace(skb, arg, 0x0100000a, 0x0200000a, flags);
		break;
	case 17:
		rc = bpf_get_socket_cookie(skb) != 0;
		break;
	case 18:
		rc = bpf_get_cgroup_classid(skb);
		break;
	case 19:
		rc = bpf_clone_redirect(skb, arg, flags);
		break;
	case 21:
		// Two pushes: the first tag goes out of band, the second push writes it into the packet.
		rc = bpf_skb_vlan_push(skb, bpf_htons(0x8100), 100);
		if (!rc)
			rc = bpf_skb_vlan_push(skb, bpf_htons(arg), 200);
		skb->cb[2] = skb->vlan_present | skb->vlan_tci << 8;
		skb->cb[3] = skb->vlan_proto | skb->protocol << 16;
		break;
	case 22:
		rc = bpf_skb_vlan_pop(skb);
		skb->cb[2] = skb->vlan_present | skb->vlan_tci << 8;
		skb->cb[3] = skb->vlan_proto | skb->protocol << 16;
		break;
	case 23:
		rc = bpf_skb_vlan_push(skb, bpf_htons(0x88a8), 300);
		if (!rc)
			rc = bpf_skb_vlan_pop(skb);
		skb->cb[2] = skb->vlan_present | skb->vlan_tci << 8;
		skb->cb[3] = skb->vlan_proto | skb->protocol << 16;
		break;
	case 24:
		rc = bpf_set_hash(skb, arg);
		skb->cb[2] = bpf_get_hash_recalc(skb);
		skb->cb[3] = skb->hash;
		break;
	case 25:
		bpf_set_hash(skb, arg);
		bpf_set_hash_invalid(skb); // returns void in bpf_helper_defs.h
		rc = 0;
		skb->cb[2] = skb->hash;
		break;
	case 26:
		// load_bytes_relative: flags = the start header (0 MAC, 1 NET, 2 invalid).
		if (flags == 0)
			rc = bpf_skb_load_bytes_relative(skb, arg, buf, sizeof(buf), BPF_HDR_START_MAC);
		else if (flags == 1)
			rc = bpf_skb_load_bytes_relative(skb, arg, buf, sizeof(buf), BPF_HDR_START_NET);
		else
			rc = bpf_skb_load_bytes_relative(skb, arg, buf, sizeof(buf), 2);
		skb->cb[2] = buf[0] | buf[1] << 8 | buf[2] << 16 | buf[3] << 24;
		break;
	case 20: {
		// The flow hash is random per boot: check only that it is set and that skb->hash shows it.
		__u32 h = bpf_get_hash_recalc(skb);
		rc = (h != 0) + 2 * (skb->hash == h);
		break;
	}
	}
	skb->cb[4] = (__u32)(skb->data_end - skb->data);
	return 1000 + rc;
}

struct tun_out {
	__u32 w[11];
};

// Sets a tunnel key from cb[] and reads it back with the flags in cb[3] (get_tunnel_key), then
// copies the key into the packet after the Ethernet header.
SEC("tc")
int tc_tunnel(struct __sk_buff *skb)
{
	struct bpf_tunnel_key key = {};
	struct bpf_tunnel_key back = {};
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	long rc, rc2, rc3;
	__u8 opt[8] = { 0, 1, 2, 3, 4, 5, 6, 7 };

	key.tunnel_id = 0x123456;
	key.remote_ipv4 = 0x0a000001;
	key.local_ipv4 = 0x0a000002;
	key.tunnel_tos = 4;
	key.tunnel_ttl = 64;
	// cb[0] picks the key size: 0 = sizeof, 1 = the pre-IPv6-local layout (28), 2 = a bad size (30).
	if (skb->cb[0] == 1)
		rc = bpf_skb_set_tunnel_key(skb, &key, 28, skb->cb[1]);
	else if (skb->cb[0] == 2)
		rc = bpf_skb_set_tunnel_key(skb, &key, 30, skb->cb[1]);
	else
		rc = bpf_skb_set_tunnel_key(skb, &key, sizeof(key), skb->cb[1]);
	// cb[2] picks the option size: 0 = no call (999), 1 = 8 bytes, 2 = 6 bytes (not a multiple of 4).
	rc2 = 999;
	if (skb->cb[2] == 1)
		rc2 = bpf_skb_set_tunnel_opt(skb, opt, 8);
	else if (skb->cb[2] == 2)
		rc2 = bpf_skb_set_tunnel_opt(skb, opt, 6);
	rc3 = bpf_skb_get_tunnel_key(skb, &back, sizeof(back), skb->cb[3]);
	skb->cb[0] = rc;
	skb->cb[1] = rc2;
	skb->cb[2] = rc3;
	if (data + 14 + sizeof(back) > data_end)
		return TC_ACT_SHOT;
	__builtin_memcpy(data + 14, &back, sizeof(back));
	return TC_ACT_OK;
}

// skb->sk: NULL or the socket's family, addresses, ports and state, copied into the packet.
SEC("tc")
int tc_sk(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u32 *out = data + 14;

	if (!sk)
		return 0;
	if ((void *)(out + 6) > data_end)
		return TC_ACT_SHOT;
	out[0] = sk->family;
	out[1] = sk->src_ip4;
	out[2] = sk->dst_ip4;
	out[3] = sk->src_port;
	out[4] = sk->dst_port;
	out[5] = sk->state;
	return 1;
}

// tcx: returns cb[0] as the verdict.
SEC("tcx/ingress")
int tcx_verdict(struct __sk_buff *skb)
{
	return skb->cb[0];
}

char _license[] SEC("license") = "GPL";
