/* Source NAT for NodePort traffic to a backend on another node (Cilium's bpf/lib/nat.h,
 * snat_v4_*): the node rewrites the client's address and port to its own address and a port it
 * allocates, so that the backend's reply comes back through this node. Each translation is two
 * entries of one LRU hash: the outgoing tuple -> the address and port it was given, and the
 * reply tuple -> the client's address and port.
 *
 * Port allocation follows Cilium's snat_v4_new_mapping(): the first candidate is a hash of the
 * tuple folded into the configured range (so a given connection tends to get the same port),
 * on a collision with an existing mapping a random port from bpf_get_prandom_u32(), up to
 * SNAT_COLLISION_RETRIES times; then the packet is dropped (DROP_NAT_NO_MAPPING).
 */
#ifndef BPFBED_KPR_NAT_H
#define BPFBED_KPR_NAT_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "lb.h" /* union v6addr */

#ifndef SNAT_MAP_MAX_ENTRIES
#define SNAT_MAP_MAX_ENTRIES 65536
#endif
#define SNAT_COLLISION_RETRIES 32 /* Cilium: 128; fewer keeps the verifier's work small */

/* nat4_key.dir */
#define NAT_DIR_EGRESS 1  /* client -> backend as it leaves: value = node address and port */
#define NAT_DIR_INGRESS 2 /* backend -> node address and port: value = client address and port */

struct nat4_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir; /* NAT_DIR_* */
	__u8 pad[2];
};

struct nat4_entry {
	__be32 to_addr;
	__be16 to_port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SNAT_MAP_MAX_ENTRIES);
	__type(key, struct nat4_key);
	__type(value, struct nat4_entry);
} snat4 SEC(".maps");

/* IPv6 (Cilium's snat_v6_*, cilium_snat_v6_external): the same two entries per translation, the
 * same port allocation, in a map of its own. */
struct nat6_key {
	union v6addr saddr;
	union v6addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir; /* NAT_DIR_* */
	__u8 pad[2];
};

struct nat6_entry {
	union v6addr to_addr;
	__be16 to_port;
	__u16 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, SNAT_MAP_MAX_ENTRIES);
	__type(key, struct nat6_key);
	__type(value, struct nat6_entry);
} snat6 SEC(".maps");

#endif /* BPFBED_KPR_NAT_H */
