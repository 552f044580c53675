/* Maglev backend selection for services with SVC_FLAG2_MAGLEV (lb.h), as Cilium's
 * --bpf-lb-algorithm=maglev (bpf/lib/lb.h lb4_select_backend_id_maglev /
 * lb6_select_backend_id_maglev, bpf/lib/hash.h): the control plane (src/k8s/maglev.ts, Cilium's
 * pkg/maglev) computes per service a lookup table of LB_MAGLEV_LUT_SIZE backend ids and puts it
 * in an inner array map (one entry, key 0, the whole table as its value) held by lb4_maglev /
 * lb6_maglev under the service's rev_nat_index; the datapath hashes the tuple WITHOUT the
 * destination address (so every frontend of a service, and every node, picks the same backend
 * for a client: bpf/lib/hash.h) and reads table[hash % LB_MAGLEV_LUT_SIZE].
 *
 * LB_MAGLEV_LUT_SIZE is fixed at compile time as in Cilium (its default 16381; this project's
 * 251, src/k8s/maglev.ts MAGLEV_DEFAULT_TABLE_SIZE); the inner map's value size says it to the
 * control plane.
 */
#ifndef BPFBED_KPR_MAGLEV_H
#define BPFBED_KPR_MAGLEV_H

#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

#include "lb.h"

#ifndef LB_MAGLEV_LUT_SIZE
#define LB_MAGLEV_LUT_SIZE 251
#endif
#ifndef LB_MAGLEV_MAP_MAX_ENTRIES
#define LB_MAGLEV_MAP_MAX_ENTRIES 65536
#endif
/* The jhash seeds Cilium's agent derives from its default --bpf-lb-maglev-hash-seed
 * "JLfvgnHc2kaSUFaI" (pkg/maglev maglev.Init: SeedJhash0 / SeedJhash1, bytes 4..7 and 8..11 big
 * endian), its HASH_INIT4_SEED / HASH_INIT6_SEED. */
#ifndef LB_MAGLEV_HASH_SEED4
#define LB_MAGLEV_HASH_SEED4 0x71dcda46
#endif
#ifndef LB_MAGLEV_HASH_SEED6
#define LB_MAGLEV_HASH_SEED6 0x92505688
#endif

/* The inner map: Cilium's, one element holding the whole table. */
struct lb_maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32) * LB_MAGLEV_LUT_SIZE);
	__uint(max_entries, 1);
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, LB_MAGLEV_MAP_MAX_ENTRIES);
	__type(key, __u32); /* rev_nat_index */
	__type(value, __u32);
	__array(values, struct lb_maglev_inner);
} lb4_maglev SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, LB_MAGLEV_MAP_MAX_ENTRIES);
	__type(key, __u32);
	__type(value, __u32);
	__array(values, struct lb_maglev_inner);
} lb6_maglev SEC(".maps");

/* include/linux/jhash.h */
static __always_inline __u32 mg_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define mg_jhash_mix(a, b, c)                                                                                                                        \
	{                                                                                                                                            \
		a -= c; a ^= mg_rol32(c, 4); c += b;                                                                                                 \
		b -= a; b ^= mg_rol32(a, 6); a += c;                                                                                                 \
		c -= b; c ^= mg_rol32(b, 8); b += a;                                                                                                 \
		a -= c; a ^= mg_rol32(c, 16); c += b;                                                                                                \
		b -= a; b ^= mg_rol32(a, 19); a += c;                                                                                                \
		c -= b; c ^= mg_rol32(b, 4); b += a;                                                                                                 \
	}

#define mg_jhash_final(a, b, c)                                                                                                                      \
	{                                                                                                                                            \
		c ^= b; c -= mg_rol32(b, 14);                                                                                                        \
		a ^= c; a -= mg_rol32(c, 11);                                                                                                        \
		b ^= a; b -= mg_rol32(a, 25);                                                                                                        \
		c ^= b; c -= mg_rol32(b, 16);                                                                                                        \
		a ^= c; a -= mg_rol32(c, 4);                                                                                                         \
		b ^= a; b -= mg_rol32(a, 14);                                                                                                        \
		c ^= b; c -= mg_rol32(b, 24);                                                                                                        \
	}

/* jhash_3words (include/linux/jhash.h: initval + JHASH_INITVAL + (3 << 2) added to each word). */
static __always_inline __u32 mg_jhash_3words(__u32 a, __u32 b, __u32 c, __u32 initval)
{
	initval += 0xdeadbeef + (3 << 2);
	a += initval;
	b += initval;
	c += initval;
	mg_jhash_final(a, b, c);
	return c;
}

/* Cilium's __hash_from_tuple_v4 on a little-endian machine (HASH_WORD*_LE are the loaded
 * values): client address, (service port << 16) | client port, protocol. Ports in network
 * order as loaded, like the addresses. */
static __always_inline __u32 maglev_hash4(__be32 saddr, __be16 sport, __be16 dport, __u8 proto)
{
	return mg_jhash_3words(saddr, ((__u32)dport << 16) | sport, proto, LB_MAGLEV_HASH_SEED4);
}

/* Cilium's __hash_from_tuple_v6: two jhash mixing rounds over the client address, the ports
 * and the protocol, the seed added before the final round. */
static __always_inline __u32 maglev_hash6(const union v6addr *saddr, __be16 sport, __be16 dport, __u8 proto)
{
	__u32 a = saddr->p1, b = saddr->p2, c = saddr->p3;
	mg_jhash_mix(a, b, c);
	a += saddr->p4;
	b += ((__u32)dport << 16) | sport;
	c += proto;
	mg_jhash_mix(a, b, c);
	a += LB_MAGLEV_HASH_SEED6;
	mg_jhash_final(a, b, c);
	return c;
}

/* The backend id at table[hash % LB_MAGLEV_LUT_SIZE] of the service `rev_nat` in `outer`, 0 when
 * the service has no table (Cilium returns 0 too: the caller drops, DROP_NO_SERVICE). One u32
 * on the stack serves as both keys (the rev_nat index, then 0). */
static __always_inline __u32 maglev_backend_id(void *outer, __u32 rev_nat, __u32 hash)
{
	__u32 key = rev_nat;
	void *inner = bpf_map_lookup_elem(outer, &key);
	if (!inner)
		return 0;
	key = 0;
	__u32 *backend_ids = bpf_map_lookup_elem(inner, &key);
	if (!backend_ids)
		return 0;
	__u32 index = hash % LB_MAGLEV_LUT_SIZE;
	/* The verifier does not carry the bound of a modulo; clang would drop a check it can prove,
	 * so the index goes through an empty asm first (Cilium: map_array_get_32's asm bound). */
	asm volatile("" : "+r"(index));
	if (index >= LB_MAGLEV_LUT_SIZE)
		return 0;
	return backend_ids[index];
}

#endif /* BPFBED_KPR_MAGLEV_H */
