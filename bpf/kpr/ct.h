/* Connection tracking for the NodePort datapath, in the shape of Cilium's (bpf/lib/conntrack.h):
 * an LRU hash keyed by the 5-tuple and a direction, whose value says which backend the
 * connection was given, which service to translate replies back to, and until when the entry
 * lives. It is kept apart from the NAT map (nat.h): CT says what a connection is, NAT which
 * address and port it was given, so either can be changed or flushed without the other.
 *
 * Lifetimes are absolute bpf_ktime_get_ns() deadlines (CLOCK_MONOTONIC); nothing in the datapath
 * deletes an expired entry (an expired entry found by a lookup is treated as new); the host-side
 * sweep (src/kpr/ct-gc.ts) removes them, as Cilium's agent GC does (pkg/maps/ctmap/gc).
 */
#ifndef BPFBED_KPR_CT_H
#define BPFBED_KPR_CT_H

#include <linux/bpf.h>
#include <linux/in.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "lb.h" /* union v6addr */

#ifndef CT_MAP_MAX_ENTRIES
#define CT_MAP_MAX_ENTRIES 65536
#endif

#define NSEC_PER_SEC 1000000000ULL
/* Cilium's defaults (bpf/lib/conntrack.h, pkg/option/config.go): */
#define CT_SYN_TIMEOUT (60 * NSEC_PER_SEC)		/* TCP until the reply is seen */
#define CT_CONNECTION_LIFETIME_TCP (21600 * NSEC_PER_SEC) /* TCP established: 6 h */
#define CT_CLOSE_TIMEOUT (10 * NSEC_PER_SEC)		/* after FIN or RST */
#define CT_CONNECTION_LIFETIME_NONTCP (60 * NSEC_PER_SEC) /* UDP */

/* ct4_key.dir */
#define CT_DIR_SERVICE 1 /* client -> frontend (node address, node port): which backend */
#define CT_DIR_FORWARD 2 /* client -> backend after DNAT: replies are looked up by this */

/* ct_entry.flags */
#define CT_F_SEEN_REPLY (1 << 0)
#define CT_F_CLOSING (1 << 1)   /* FIN or RST seen */
#define CT_F_REMOTE (1 << 2)    /* the backend is on another node (SNAT applies) */

struct ct4_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir; /* CT_DIR_* */
	__u8 pad[2];
};

struct ct_entry {
	__u64 expires_ns;     /* bpf_ktime_get_ns() deadline */
	__u64 created_ns;     /* when the connection was first seen */
	__u32 backend_id;     /* lb4_backends key */
	__u16 rev_nat_index;  /* lb4_reverse_nat key */
	__u8 flags;	      /* CT_F_* */
	__u8 tcp_flags_seen;  /* TCP flags seen in either direction (OR) */
	__be32 frontend_addr; /* the address the client sent to: replies leave from it */
	__be16 frontend_port;
	__u16 pad;
	__u64 packets;	      /* both directions */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CT_MAP_MAX_ENTRIES);
	__type(key, struct ct4_key);
	__type(value, struct ct_entry);
} ct4 SEC(".maps");

/* IPv6: the same tracking in a map of its own (Cilium: cilium_ct6_global beside cilium_ct4_global),
 * keyed by the 5-tuple with 128-bit addresses; the frontend in the entry is an IPv6 address. */
struct ct6_key {
	union v6addr saddr;
	union v6addr daddr;
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir; /* CT_DIR_* */
	__u8 pad[2];
};

struct ct6_entry {
	__u64 expires_ns;
	__u64 created_ns;
	__u32 backend_id;     /* lb6_backends key */
	__u16 rev_nat_index;  /* lb6_reverse_nat key */
	__u8 flags;	      /* CT_F_* */
	__u8 tcp_flags_seen;
	union v6addr frontend_addr;
	__be16 frontend_port;
	__u16 pad;
	__u32 pad2;
	__u64 packets;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, CT_MAP_MAX_ENTRIES);
	__type(key, struct ct6_key);
	__type(value, struct ct6_entry);
} ct6 SEC(".maps");

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_ACK 0x10

/* The lifetime a connection gets after a packet with these flags: Cilium's ct_update_timeout()
 * (bpf/lib/conntrack.h) — closing after FIN/RST, short until the reply was seen, long after. */
static __always_inline __u64 ct_lifetime(__u8 proto, __u8 entry_flags)
{
	if (proto != IPPROTO_TCP)
		return CT_CONNECTION_LIFETIME_NONTCP;
	if (entry_flags & CT_F_CLOSING)
		return CT_CLOSE_TIMEOUT;
	if (entry_flags & CT_F_SEEN_REPLY)
		return CT_CONNECTION_LIFETIME_TCP;
	return CT_SYN_TIMEOUT;
}

/* Records a packet of the connection: flags, closing state, a new deadline. A closing
 * connection stays closing (Cilium re-opens only on a new SYN, handled by the caller).
 * A macro over the entry's fields, not a function over field pointers, so that every entry
 * layout (ct_entry, ct6_entry and dsr.h's dsr4_entry, dsr6_entry, whose fields sit at other
 * offsets) shares this one body and compiles exactly as a per-type copy did (through u8
 * pointers clang must assume the fields may alias and orders the stores differently). */
#define CT_TOUCH_ENTRY(e, proto, tcp_flags, reply, now)                       \
	do {                                                                  \
		__u8 ct_touch_flags_ = (e)->flags;                            \
		if (reply)                                                    \
			ct_touch_flags_ |= CT_F_SEEN_REPLY;                   \
		if ((tcp_flags) & (TCP_FLAG_FIN | TCP_FLAG_RST))              \
			ct_touch_flags_ |= CT_F_CLOSING;                      \
		(e)->flags = ct_touch_flags_;                                 \
		(e)->tcp_flags_seen |= (tcp_flags);                           \
		(e)->expires_ns = (now) + ct_lifetime(proto, ct_touch_flags_); \
		(e)->packets += 1;                                            \
	} while (0)

static __always_inline void ct_touch(struct ct_entry *e, __u8 proto, __u8 tcp_flags, int reply, __u64 now)
{
	CT_TOUCH_ENTRY(e, proto, tcp_flags, reply, now);
}

static __always_inline void ct6_touch(struct ct6_entry *e, __u8 proto, __u8 tcp_flags, int reply, __u64 now)
{
	CT_TOUCH_ENTRY(e, proto, tcp_flags, reply, now);
}

#endif /* BPFBED_KPR_CT_H */
