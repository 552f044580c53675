// The first SNAT port candidate bpf/kpr/nodeport.c tries for a tuple (tuple_hash() folded into
// the configured range; Cilium's snat_v4_new_mapping hashes first too), computed on the host so
// tests and fixture scripts can say which port a connection must get. The C side works on
// network-order values loaded into little-endian registers; so does this. IPv6 addresses are
// folded to 32 bits first (nodeport.c v6_fold: the four words XORed). Browser-safe.
import { parseIPv6 } from '../env/addr.js';
import { parseIpv4 } from './layout.js';

/** tuple_hash() of nodeport.c: the MurmurHash3 finaliser over two addresses and the ports. */
export function tupleHash(a: number, b: number, ports: number, seed: number): number {
  let h = (seed ^ a) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = (h ^ b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  h = (h ^ ports) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  return (h ^ (h >>> 13)) >>> 0;
}

/** A dotted quad as a __be32 read by a little-endian machine. */
function be32AsLe(addr: string): number {
  const p = parseIpv4(addr);
  return (p[0] | (p[1] << 8) | (p[2] << 16) | (p[3] << 24)) >>> 0;
}

/** A host-order port as a __be16 read by a little-endian machine. */
const be16AsLe = (port: number) => ((port & 0xff) << 8) | (port >> 8);

export interface Tuple4 {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  proto: number;
}

const hashOf = (t: Tuple4) => tupleHash(be32AsLe(t.saddr), be32AsLe(t.daddr), ((be16AsLe(t.sport) << 16) | be16AsLe(t.dport)) >>> 0, t.proto);

/** The SNAT port nodeport.c tries first for the tuple after DNAT (client -> backend). */
export function firstSnatPort(afterDnat: Tuple4, portMin: number, portMax: number): number {
  return portMin + (hashOf(afterDnat) % (portMax - portMin + 1));
}

/** The backend slot (1..count) nodeport.c picks for a new connection to the frontend tuple. */
export function backendSlot(frontend: Tuple4, count: number): number {
  return (hashOf(frontend) % count) + 1;
}

/** v6_fold() of nodeport.c: the four __u32 words of the address (read little-endian) XORed. */
function fold6(addr: string): number {
  const b = parseIPv6(addr);
  const v = new DataView(b.buffer, b.byteOffset, 16);
  return (v.getUint32(0, true) ^ v.getUint32(4, true) ^ v.getUint32(8, true) ^ v.getUint32(12, true)) >>> 0;
}

const hashOf6 = (t: Tuple4) => tupleHash(fold6(t.saddr), fold6(t.daddr), ((be16AsLe(t.sport) << 16) | be16AsLe(t.dport)) >>> 0, t.proto);

/** The SNAT port nodeport.c tries first for an IPv6 tuple after DNAT (tuple6_hash). */
export function firstSnatPort6(afterDnat: Tuple4, portMin: number, portMax: number): number {
  return portMin + (hashOf6(afterDnat) % (portMax - portMin + 1));
}

/** The backend slot (1..count) nodeport.c picks for a new IPv6 connection to the frontend tuple. */
export function backendSlot6(frontend: Tuple4, count: number): number {
  return (hashOf6(frontend) % count) + 1;
}
