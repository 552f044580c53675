/* Maps of the socket-level load balancer (bpf/kpr/sock.c) beside the shared ones in lb.h:
 * the socket reverse-NAT maps (Cilium's cilium_lb4_reverse_sk / cilium_lb6_reverse_sk, LRU
 * because an entry lives as long as its socket and nothing tells the datapath when that ends),
 * and the node's own addresses. Cilium asks its ipcache whether an address has the host
 * identity (bpf/bpf_sock.c sock4_wildcard_lookup); we have no ipcache, so the control plane
 * lists the node's addresses here instead.
 */
#ifndef BPFBED_KPR_SOCK_MAPS_H
#define BPFBED_KPR_SOCK_MAPS_H

#include "lb.h"

#define LB_NODE_ADDRS_MAX_ENTRIES 256

/* The value of lb4_node_addrs / lb6_node_addrs: any entry means "a local address". */
struct lb_node_addr {
	__u32 flags; /* reserved, 0 */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_SOCK_REV_NAT_MAX_ENTRIES);
	__type(key, struct sock4_rev_key);
	__type(value, struct sock4_rev_value);
} lb4_reverse_sk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, LB_SOCK_REV_NAT_MAX_ENTRIES);
	__type(key, struct sock6_rev_key);
	__type(value, struct sock6_rev_value);
} lb6_reverse_sk SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_NODE_ADDRS_MAX_ENTRIES);
	__type(key, __be32);
	__type(value, struct lb_node_addr);
} lb4_node_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_NODE_ADDRS_MAX_ENTRIES);
	__type(key, union v6addr);
	__type(value, struct lb_node_addr);
} lb6_node_addrs SEC(".maps");

#endif /* BPFBED_KPR_SOCK_MAPS_H */
