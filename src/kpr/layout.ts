// The byte layouts of bpf/kpr/ct.h and bpf/kpr/nat.h (x86-64/BPF little-endian hosts, the
// structs' natural alignment), decoded for the host side: the GC sweep, tests, and reports.
// Addresses come as dotted quads (IPv6: RFC 5952 text) and ports in host order, as people read
// them. Browser-safe.
import { formatIPv6, parseIPv6 } from '../env/addr.js';

export const CT_DIR_SERVICE = 1;
export const CT_DIR_FORWARD = 2;
export const NAT_DIR_EGRESS = 1;
export const NAT_DIR_INGRESS = 2;

export const CT_F_SEEN_REPLY = 1 << 0;
export const CT_F_CLOSING = 1 << 1;
export const CT_F_REMOTE = 1 << 2;

export const CT_KEY_SIZE = 16;
export const CT_ENTRY_SIZE = 40;
export const NAT_KEY_SIZE = 16;
export const NAT_ENTRY_SIZE = 8;

/** struct ct4_key and struct nat4_key share this shape. */
export interface Tuple4Key {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  proto: number;
  dir: number;
}

/** struct ct_entry. */
export interface CtEntry {
  expiresNs: bigint;
  createdNs: bigint;
  backendId: number;
  revNatIndex: number;
  flags: number;
  tcpFlagsSeen: number;
  frontendAddr: string;
  frontendPort: number;
  packets: bigint;
}

/** struct nat4_entry. */
export interface NatEntry {
  toAddr: string;
  toPort: number;
}

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const ipv4 = (b: Uint8Array, off: number) => `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;

function need(bytes: Uint8Array, size: number, what: string): void {
  if (bytes.length < size) throw new Error(`${what}: ${bytes.length} bytes, the struct has ${size}`);
}

export function decodeTupleKey(bytes: Uint8Array): Tuple4Key {
  need(bytes, CT_KEY_SIZE, 'ct4_key/nat4_key');
  const v = dv(bytes);
  return { saddr: ipv4(bytes, 0), daddr: ipv4(bytes, 4), sport: v.getUint16(8), dport: v.getUint16(10), proto: bytes[12], dir: bytes[13] };
}

export function encodeTupleKey(k: Tuple4Key): Uint8Array {
  const out = new Uint8Array(CT_KEY_SIZE);
  const v = dv(out);
  const put = (addr: string, off: number) => {
    const parts = addr.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: '${addr}'`);
    out.set(parts, off);
  };
  put(k.saddr, 0);
  put(k.daddr, 4);
  v.setUint16(8, k.sport);
  v.setUint16(10, k.dport);
  out[12] = k.proto;
  out[13] = k.dir;
  return out;
}

export function decodeCtEntry(bytes: Uint8Array): CtEntry {
  need(bytes, CT_ENTRY_SIZE, 'ct_entry');
  const v = dv(bytes);
  return {
    expiresNs: v.getBigUint64(0, true),
    createdNs: v.getBigUint64(8, true),
    backendId: v.getUint32(16, true),
    revNatIndex: v.getUint16(20, true),
    flags: bytes[22],
    tcpFlagsSeen: bytes[23],
    frontendAddr: ipv4(bytes, 24),
    frontendPort: v.getUint16(28),
    packets: v.getBigUint64(32, true),
  };
}

export function decodeNatEntry(bytes: Uint8Array): NatEntry {
  need(bytes, NAT_ENTRY_SIZE, 'nat4_entry');
  return { toAddr: ipv4(bytes, 0), toPort: dv(bytes).getUint16(4) };
}

// ---- IPv6: struct ct6_key / nat6_key, ct6_entry, nat6_entry ----------------------------------

export const CT6_KEY_SIZE = 40;
export const CT6_ENTRY_SIZE = 56;
export const NAT6_KEY_SIZE = 40;
export const NAT6_ENTRY_SIZE = 20;

/** struct ct6_key and struct nat6_key share this shape (Tuple4Key with IPv6 text). */
export type Tuple6Key = Tuple4Key;

export function decodeTuple6Key(bytes: Uint8Array): Tuple6Key {
  need(bytes, CT6_KEY_SIZE, 'ct6_key/nat6_key');
  const v = dv(bytes);
  return { saddr: formatIPv6(bytes, 0), daddr: formatIPv6(bytes, 16), sport: v.getUint16(32), dport: v.getUint16(34), proto: bytes[36], dir: bytes[37] };
}

export function encodeTuple6Key(k: Tuple6Key): Uint8Array {
  const out = new Uint8Array(CT6_KEY_SIZE);
  const v = dv(out);
  out.set(parseIPv6(k.saddr), 0);
  out.set(parseIPv6(k.daddr), 16);
  v.setUint16(32, k.sport);
  v.setUint16(34, k.dport);
  out[36] = k.proto;
  out[37] = k.dir;
  return out;
}

/** struct ct6_entry (the fields of CtEntry; frontendAddr in IPv6 text). */
export function decodeCt6Entry(bytes: Uint8Array): CtEntry {
  need(bytes, CT6_ENTRY_SIZE, 'ct6_entry');
  const v = dv(bytes);
  return {
    expiresNs: v.getBigUint64(0, true),
    createdNs: v.getBigUint64(8, true),
    backendId: v.getUint32(16, true),
    revNatIndex: v.getUint16(20, true),
    flags: bytes[22],
    tcpFlagsSeen: bytes[23],
    frontendAddr: formatIPv6(bytes, 24),
    frontendPort: v.getUint16(40),
    packets: v.getBigUint64(48, true),
  };
}

export function decodeNat6Entry(bytes: Uint8Array): NatEntry {
  need(bytes, NAT6_ENTRY_SIZE, 'nat6_entry');
  return { toAddr: formatIPv6(bytes, 0), toPort: dv(bytes).getUint16(16) };
}

/** The decoders for a CT or NAT map by its key size: 16 bytes IPv4 (ct4, snat4), 40 IPv6 (ct6, snat6). */
export function layoutForKeySize(keySize: number): { key: (b: Uint8Array) => Tuple4Key; ct: (b: Uint8Array) => CtEntry; nat: (b: Uint8Array) => NatEntry } {
  if (keySize === CT_KEY_SIZE) return { key: decodeTupleKey, ct: decodeCtEntry, nat: decodeNatEntry };
  if (keySize === CT6_KEY_SIZE) return { key: decodeTuple6Key, ct: decodeCt6Entry, nat: decodeNat6Entry };
  throw new Error(`a CT/NAT map key of ${keySize} bytes is neither ct4_key/nat4_key (${CT_KEY_SIZE}) nor ct6_key/nat6_key (${CT6_KEY_SIZE})`);
}
