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

/** A dotted quad as its four bytes (the error every kpr helper gives for a bad one). */
export function parseIpv4(addr: string): number[] {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: '${addr}'`);
  return parts;
}

function need(bytes: Uint8Array, size: number, what: string): void {
  if (bytes.length < size) throw new Error(`${what}: ${bytes.length} bytes, the struct has ${size}`);
}

/**
 * What differs between the IPv4 and IPv6 structs: the address's size and text. Every other field
 * follows the addresses in the same order (ct.h, nat.h), so its offset follows from addrLen.
 */
interface AddressFamily {
  addrLen: number;
  keySize: number;
  ctEntrySize: number;
  natEntrySize: number;
  names: { key: string; ct: string; nat: string };
  format: (b: Uint8Array, off: number) => string;
  parse: (addr: string) => ArrayLike<number>;
}

const V4: AddressFamily = { addrLen: 4, keySize: CT_KEY_SIZE, ctEntrySize: CT_ENTRY_SIZE, natEntrySize: NAT_ENTRY_SIZE, names: { key: 'ct4_key/nat4_key', ct: 'ct_entry', nat: 'nat4_entry' }, format: ipv4, parse: parseIpv4 };

/** struct ct{4,6}_key / nat{4,6}_key: saddr, daddr, sport, dport (network order), proto, dir. */
function decodeKey(f: AddressFamily, bytes: Uint8Array): Tuple4Key {
  need(bytes, f.keySize, f.names.key);
  const v = dv(bytes);
  const ports = 2 * f.addrLen;
  return { saddr: f.format(bytes, 0), daddr: f.format(bytes, f.addrLen), sport: v.getUint16(ports), dport: v.getUint16(ports + 2), proto: bytes[ports + 4], dir: bytes[ports + 5] };
}

function encodeKey(f: AddressFamily, k: Tuple4Key): Uint8Array {
  const out = new Uint8Array(f.keySize);
  const v = dv(out);
  const ports = 2 * f.addrLen;
  out.set(f.parse(k.saddr), 0);
  out.set(f.parse(k.daddr), f.addrLen);
  v.setUint16(ports, k.sport);
  v.setUint16(ports + 2, k.dport);
  out[ports + 4] = k.proto;
  out[ports + 5] = k.dir;
  return out;
}

/** struct ct_entry / ct6_entry: the frontend's address at 24, its port after it, packets 8-aligned after that. */
function decodeCt(f: AddressFamily, bytes: Uint8Array): CtEntry {
  need(bytes, f.ctEntrySize, f.names.ct);
  const v = dv(bytes);
  const port = 24 + f.addrLen;
  return {
    expiresNs: v.getBigUint64(0, true),
    createdNs: v.getBigUint64(8, true),
    backendId: v.getUint32(16, true),
    revNatIndex: v.getUint16(20, true),
    flags: bytes[22],
    tcpFlagsSeen: bytes[23],
    frontendAddr: f.format(bytes, 24),
    frontendPort: v.getUint16(port),
    packets: v.getBigUint64((port + 2 + 7) & ~7, true),
  };
}

/** struct nat4_entry / nat6_entry: the address, then the port. */
function decodeNat(f: AddressFamily, bytes: Uint8Array): NatEntry {
  need(bytes, f.natEntrySize, f.names.nat);
  return { toAddr: f.format(bytes, 0), toPort: dv(bytes).getUint16(f.addrLen) };
}

export function decodeTupleKey(bytes: Uint8Array): Tuple4Key {
  return decodeKey(V4, bytes);
}
export function encodeTupleKey(k: Tuple4Key): Uint8Array {
  return encodeKey(V4, k);
}
export function decodeCtEntry(bytes: Uint8Array): CtEntry {
  return decodeCt(V4, bytes);
}
export function decodeNatEntry(bytes: Uint8Array): NatEntry {
  return decodeNat(V4, bytes);
}

// ---- IPv6: struct ct6_key / nat6_key, ct6_entry, nat6_entry ----------------------------------

export const CT6_KEY_SIZE = 40;
export const CT6_ENTRY_SIZE = 56;
export const NAT6_KEY_SIZE = 40;
export const NAT6_ENTRY_SIZE = 20;

/** struct ct6_key and struct nat6_key share this shape (Tuple4Key with IPv6 text). */
export type Tuple6Key = Tuple4Key;

const V6: AddressFamily = { addrLen: 16, keySize: CT6_KEY_SIZE, ctEntrySize: CT6_ENTRY_SIZE, natEntrySize: NAT6_ENTRY_SIZE, names: { key: 'ct6_key/nat6_key', ct: 'ct6_entry', nat: 'nat6_entry' }, format: formatIPv6, parse: parseIPv6 };

export function decodeTuple6Key(bytes: Uint8Array): Tuple6Key {
  return decodeKey(V6, bytes);
}
export function encodeTuple6Key(k: Tuple6Key): Uint8Array {
  return encodeKey(V6, k);
}
/** struct ct6_entry (the fields of CtEntry; frontendAddr in IPv6 text). */
export function decodeCt6Entry(bytes: Uint8Array): CtEntry {
  return decodeCt(V6, bytes);
}
export function decodeNat6Entry(bytes: Uint8Array): NatEntry {
  return decodeNat(V6, bytes);
}

/** The decoders for a CT or NAT map by its key size: 16 bytes IPv4 (ct4, snat4), 40 IPv6 (ct6, snat6). */
export function layoutForKeySize(keySize: number): { key: (b: Uint8Array) => Tuple4Key; ct: (b: Uint8Array) => CtEntry; nat: (b: Uint8Array) => NatEntry } {
  if (keySize === CT_KEY_SIZE) return { key: decodeTupleKey, ct: decodeCtEntry, nat: decodeNatEntry };
  if (keySize === CT6_KEY_SIZE) return { key: decodeTuple6Key, ct: decodeCt6Entry, nat: decodeNat6Entry };
  throw new Error(`a CT/NAT map key of ${keySize} bytes is neither ct4_key/nat4_key (${CT_KEY_SIZE}) nor ct6_key/nat6_key (${CT6_KEY_SIZE})`);
}
