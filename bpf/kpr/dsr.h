/* Direct Server Return for NodePort services with SVC_FLAG_DSR (lb.h), in the shape of Cilium's
 * "opt" dispatch mode (bpf/lib/nodeport.h: dsr_set_opt4 / nodeport_extract_dsr_v4, the constants
 * in bpf/lib/common.h): the load-balancing node DNATs the client's packet to a backend on another
 * node WITHOUT SNAT and carries the address and port the client used (the frontend) to the
 * backend's node in an IPv4 option; that node remembers them per connection and rewrites the
 * backend's replies to come from the frontend, so they go straight to the client.
 *
 * IPv4: an 8-byte option right after the base header: type, length, port, address, network
 * order. TCP carries it on SYN only (later packets are known by the backend node's DSR CT);
 * UDP on every packet (Cilium: dsr_set_opt4). IPv6 (Cilium: dsr_set_ext6): a Destination
 * Options extension header right after the IPv6 header, holding option type 0x1B with the
 * address and port, on the same packets.
 */
#ifndef BPFBED_KPR_DSR_H
#define BPFBED_KPR_DSR_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "lb.h"

/* Cilium bpf/lib/common.h: copied flag (IPOPT_COPY, 0x80: kept in every fragment), class 0
 * (control), number 26, unassigned by IANA. */
#define DSR_IPV4_OPT_TYPE (0x80 | 0x1a)
/* Cilium bpf/lib/common.h: "skip over this option" (top bits 00), not changed en route, 0x1B. */
#define DSR_IPV6_OPT_TYPE 0x1B

struct dsr_opt_v4 {
	__u8 type;   /* DSR_IPV4_OPT_TYPE */
	__u8 len;    /* 8: the whole option */
	__be16 port; /* the frontend port the client sent to */
	__be32 addr; /* the frontend address the client sent to */
};

/* RFC 8200 section 4.6: next header, length in 8-octet units not counting the first 8. */
struct dsr_opt_v6 {
	__u8 nexthdr;
	__u8 hdrlen;
	__u8 opt_type; /* DSR_IPV6_OPT_TYPE */
	__u8 opt_len;  /* option data bytes: sizeof - 4 */
	union v6addr addr;
	__be16 port;
	__u16 pad;
};
#define DSR_IPV6_OPT_LEN (sizeof(struct dsr_opt_v6) - 4)
#define DSR_IPV6_EXT_LEN ((sizeof(struct dsr_opt_v6) - 8) / 8)

_Static_assert(sizeof(struct dsr_opt_v4) == 8, "the DSR IPv4 option is 8 bytes");
_Static_assert(sizeof(struct dsr_opt_v6) == 24, "the DSR IPv6 destination options header is 24 bytes");

/* A CT entry of a connection sent with DSR (ct_entry.flags). ct.h uses bits 0..2; the top bit
 * is taken here so that additions there do not collide. */
#define CT_F_DSR (1 << 7)

/* The backend node's record of a DSR connection (Cilium keeps it as a CT entry with .dsr set
 * plus a NAT entry, snat_v4_create_dsr): keyed by the tuple as the backend receives it (client
 * -> backend, dir CT_DIR_FORWARD), the frontend its replies must come from. */
struct dsr4_entry {
	__u64 expires_ns; /* bpf_ktime_get_ns() deadline, ct.h's lifetimes */
	__u64 created_ns; /* when the option was first seen */
	__u64 packets;	  /* both directions */
	__be32 frontend_addr;
	__be16 frontend_port;
	__u8 flags;	     /* CT_F_* of ct.h */
	__u8 tcp_flags_seen; /* TCP flags seen in either direction (OR) */
};

/* The same for IPv6 (Cilium: the CT entry of cilium_ct6_global with .dsr, snat_v6_create_dsr). */
struct dsr6_key {
	union v6addr saddr; /* the client */
	union v6addr daddr; /* the backend */
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 dir; /* CT_DIR_FORWARD */
	__u8 pad[2];
};

struct dsr6_entry {
	__u64 expires_ns;
	__u64 created_ns;
	__u64 packets;
	union v6addr frontend_addr;
	__be16 frontend_port;
	__u8 flags;
	__u8 tcp_flags_seen;
	__u32 pad;
};

#ifndef DSR_CT_MAP_MAX_ENTRIES
#define DSR_CT_MAP_MAX_ENTRIES 65536
#endif

#endif /* BPFBED_KPR_DSR_H */
