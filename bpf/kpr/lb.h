/* The load-balancer maps shared by the socket-level (cgroup hooks) and the tc/XDP NodePort
 * datapath, in the shape Cilium gives them (bpf/lib/lb.h, bpf/lib/common.h): a service map keyed
 * by (VIP, port, protocol, backend slot) whose slot 0 is the service itself and slots 1..count
 * name backends; a backend map by backend id; a reverse-NAT map by service index; a socket
 * reverse-NAT map by socket cookie for unconnected UDP. The control plane (TypeScript) fills them
 * from Kubernetes Services and EndpointSlices.
 */
#ifndef BPFBED_KPR_LB_H
#define BPFBED_KPR_LB_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#define LB_SERVICE_MAP_MAX_ENTRIES 65536
#define LB_BACKENDS_MAP_MAX_ENTRIES 65536
#define LB_REV_NAT_MAP_MAX_ENTRIES 65536
#define LB_SOCK_REV_NAT_MAX_ENTRIES 262144

/* lb4_service.flags */
#define SVC_FLAG_EXTERNAL_IP (1 << 0)
#define SVC_FLAG_NODEPORT (1 << 1)
#define SVC_FLAG_LOCAL_SCOPE (1 << 2) /* externalTrafficPolicy: Local */
#define SVC_FLAG_HOSTPORT (1 << 3)
#define SVC_FLAG_AFFINITY (1 << 4) /* sessionAffinity: ClientIP */
#define SVC_FLAG_LOADBALANCER (1 << 5)
#define SVC_FLAG_ROUTABLE (1 << 6) /* reachable from outside the node (not ClusterIP-only) */
#define SVC_FLAG_DSR (1 << 7)

/* lb4_service.flags2 */
#define SVC_FLAG2_MAGLEV (1 << 0) /* backends by the service's Maglev table (maglev.h), not its slots */

/* lb4_key.scope */
#define LB_LOOKUP_SCOPE_EXT 0
#define LB_LOOKUP_SCOPE_INT 1

/* lb4_backend.flags */
#define BE_STATE_ACTIVE 0
#define BE_STATE_TERMINATING 1
#define BE_STATE_QUARANTINED 2
#define BE_STATE_MAINTENANCE 3

union v6addr {
	struct {
		__u32 p1;
		__u32 p2;
		__u32 p3;
		__u32 p4;
	};
	struct {
		__u64 d1;
		__u64 d2;
	};
	__u8 addr[16];
} __attribute__((packed));

struct lb4_key {
	__be32 address;	    /* service VIP, NodePort address, or 0.0.0.0 for "any local address" */
	__be16 dport;	    /* service port */
	__u16 backend_slot; /* 0: the service itself; 1..count: its backends */
	__u8 proto;	    /* IPPROTO_TCP / IPPROTO_UDP (0: any) */
	__u8 scope;	    /* LB_LOOKUP_SCOPE_* */
	__u8 pad[2];
};

struct lb4_service {
	__u32 backend_id;    /* slot > 0: the backend; slot 0: the affinity timeout (seconds) */
	__u16 count;	     /* slot 0: number of backends */
	__u16 rev_nat_index; /* the service's index in lb4_reverse_nat */
	__u8 flags;	     /* SVC_FLAG_* */
	__u8 flags2;
	__u8 pad[2];
};

struct lb4_backend {
	__be32 address;
	__be16 port;
	__u8 proto;
	__u8 flags; /* BE_STATE_* */
	__u32 ifindex; /* the backend's device on this node, 0 when it is on another node */
};

struct lb4_reverse_nat {
	__be32 address;
	__be16 port;
	__u16 pad;
};

struct lb6_key {
	union v6addr address;
	__be16 dport;
	__u16 backend_slot;
	__u8 proto;
	__u8 scope;
	__u8 pad[2];
};

struct lb6_service {
	__u32 backend_id;
	__u16 count;
	__u16 rev_nat_index;
	__u8 flags;
	__u8 flags2;
	__u8 pad[2];
};

struct lb6_backend {
	union v6addr address;
	__be16 port;
	__u8 proto;
	__u8 flags;
	__u32 ifindex;
};

struct lb6_reverse_nat {
	union v6addr address;
	__be16 port;
	__u16 pad;
};

/* Socket-level reverse NAT (Cilium's cilium_lb4_reverse_sk): what recvmsg / getpeername turn a
 * backend address back into, for the socket with this cookie. */
struct sock4_rev_key {
	__u64 cookie;
	__be32 address; /* backend */
	__be16 port;
	__u16 pad;
};

struct sock4_rev_value {
	__be32 address; /* service VIP */
	__be16 port;
	__u16 rev_nat_index;
};

struct sock6_rev_key {
	__u64 cookie;
	union v6addr address;
	__be16 port;
	__u16 pad;
};

struct sock6_rev_value {
	union v6addr address;
	__be16 port;
	__u16 rev_nat_index;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_SERVICE_MAP_MAX_ENTRIES);
	__type(key, struct lb4_key);
	__type(value, struct lb4_service);
} lb4_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_BACKENDS_MAP_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct lb4_backend);
} lb4_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_REV_NAT_MAP_MAX_ENTRIES);
	__type(key, __u16);
	__type(value, struct lb4_reverse_nat);
} lb4_reverse_nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_SERVICE_MAP_MAX_ENTRIES);
	__type(key, struct lb6_key);
	__type(value, struct lb6_service);
} lb6_services SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_BACKENDS_MAP_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, struct lb6_backend);
} lb6_backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, LB_REV_NAT_MAP_MAX_ENTRIES);
	__type(key, __u16);
	__type(value, struct lb6_reverse_nat);
} lb6_reverse_nat SEC(".maps");

/* Session affinity (sessionAffinity: ClientIP), as Cilium's cilium_lb4_affinity /
 * cilium_lb6_affinity (bpf/lib/lb.h, lb4_affinity_backend_id / lb4_update_affinity): which backend
 * a client address was last given for a service (rev_nat_id), and when. The datapath writes it;
 * an entry older than the service's affinity timeout (slot 0's backend_id, seconds) is ignored
 * and deleted. Cilium's key also carries a netns-cookie union for the socket path; this one is
 * keyed by the client address only (the tc path). The maps themselves (lb4_affinity,
 * lb6_affinity, lb_affinity_match) are defined by the program that uses them (nodeport.c), so
 * that objects without affinity (sock.c) do not carry them. */
struct lb4_affinity_key {
	__be32 address;	    /* the client */
	__u16 rev_nat_id;   /* the service (lb4_reverse_nat key) */
	__u16 pad;
};

struct lb6_affinity_key {
	union v6addr address;
	__u16 rev_nat_id;
	__u16 pad;
};

struct lb_affinity_val {
	__u64 last_used;    /* bpf_ktime_get_ns() of the last packet that used it */
	__u32 backend_id;
	__u32 pad;
};

/* (backend, service) pairs that are currently valid (Cilium's cilium_lb_affinity_match, filled
 * by the control plane: src/k8s/lb-maps.ts affinityMatchEntries): an affinity entry naming a
 * backend the service no longer has is dropped instead of followed. */
struct lb_affinity_match {
	__u32 backend_id;
	__u16 rev_nat_id;
	__u16 pad;
};

#define LB_AFFINITY_MAP_MAX_ENTRIES 65536

#endif /* BPFBED_KPR_LB_H */
