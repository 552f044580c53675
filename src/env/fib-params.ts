// struct bpf_fib_lookup (include/uapi/linux/bpf.h, Linux 6.10+ layout with the tbid and mark
// unions), 64 bytes:
//   0 family u8 | 1 l4_protocol u8 | 2 sport __be16 | 4 dport __be16 | 6 tot_len/mtu_result u16
//   8 ifindex u32 | 12 tos u8 / flowinfo __be32 / rt_metric u32
//   16 ipv4_src __be32 / ipv6_src[16] | 32 ipv4_dst / ipv6_dst[16]
//   48 h_vlan_proto __be16, 50 h_vlan_TCI __be16 / tbid u32
//   52 mark u32 (+ 2 4-byte holes) / smac[6] at 52, dmac[6] at 58
// Host-order fields (u16/u32) are little-endian as on x86-64 and arm64; __be fields are bytes in
// network order. The object form gives ports and VLAN fields as host numbers and addresses as
// text; unions appear under each of their names.
import { AF_INET, AF_INET6, formatIPv4, formatIPv6, formatMac, parseIPv4, parseIPv6 } from './addr.js';

export const BPF_FIB_LOOKUP_SIZE = 64;

/** include/uapi/linux/bpf.h flags of bpf_fib_lookup. */
export const BPF_FIB_LOOKUP_DIRECT = 1 << 0;
export const BPF_FIB_LOOKUP_OUTPUT = 1 << 1;
export const BPF_FIB_LOOKUP_SKIP_NEIGH = 1 << 2;
export const BPF_FIB_LOOKUP_TBID = 1 << 3;
export const BPF_FIB_LOOKUP_SRC = 1 << 4;
export const BPF_FIB_LOOKUP_MARK = 1 << 5;

/** include/uapi/linux/bpf.h return codes of bpf_fib_lookup. */
export const BPF_FIB_LKUP_RET_SUCCESS = 0;
export const BPF_FIB_LKUP_RET_BLACKHOLE = 1;
export const BPF_FIB_LKUP_RET_UNREACHABLE = 2;
export const BPF_FIB_LKUP_RET_PROHIBIT = 3;
export const BPF_FIB_LKUP_RET_NOT_FWDED = 4;
export const BPF_FIB_LKUP_RET_FWD_DISABLED = 5;
export const BPF_FIB_LKUP_RET_UNSUPP_LWT = 6;
export const BPF_FIB_LKUP_RET_NO_NEIGH = 7;
export const BPF_FIB_LKUP_RET_FRAG_NEEDED = 8;
export const BPF_FIB_LKUP_RET_NO_SRC_ADDR = 9;

export const FIB_LKUP_RET_NAMES = [
  'BPF_FIB_LKUP_RET_SUCCESS',
  'BPF_FIB_LKUP_RET_BLACKHOLE',
  'BPF_FIB_LKUP_RET_UNREACHABLE',
  'BPF_FIB_LKUP_RET_PROHIBIT',
  'BPF_FIB_LKUP_RET_NOT_FWDED',
  'BPF_FIB_LKUP_RET_FWD_DISABLED',
  'BPF_FIB_LKUP_RET_UNSUPP_LWT',
  'BPF_FIB_LKUP_RET_NO_NEIGH',
  'BPF_FIB_LKUP_RET_FRAG_NEEDED',
  'BPF_FIB_LKUP_RET_NO_SRC_ADDR',
] as const;

/** struct bpf_fib_lookup decoded; every union member is present. */
export interface BpfFibLookup {
  family: number;
  l4_protocol: number;
  /** Host-order port numbers (the struct holds them big-endian). */
  sport: number;
  dport: number;
  tot_len: number;
  mtu_result: number;
  ifindex: number;
  tos: number;
  /** The 4 bytes read as a big-endian number (flow label + traffic class as on the wire). */
  flowinfo: number;
  rt_metric: number;
  ipv4_src: string;
  ipv4_dst: string;
  ipv6_src: string;
  ipv6_dst: string;
  h_vlan_proto: number;
  h_vlan_TCI: number;
  tbid: number;
  mark: number;
  smac: string;
  dmac: string;
}

/** Input fields a program sets; `src`/`dst` take either family's text form. */
export interface BpfFibLookupInput {
  family?: number;
  l4_protocol?: number;
  sport?: number;
  dport?: number;
  tot_len?: number;
  ifindex?: number;
  tos?: number;
  flowinfo?: number;
  src?: string;
  dst?: string;
  tbid?: number;
  mark?: number;
}

export function encodeFibLookup(input: BpfFibLookupInput): Uint8Array {
  const b = new Uint8Array(BPF_FIB_LOOKUP_SIZE);
  const v = new DataView(b.buffer);
  const family = input.family ?? (input.dst?.includes(':') ? AF_INET6 : AF_INET);
  b[0] = family;
  b[1] = input.l4_protocol ?? 0;
  v.setUint16(2, input.sport ?? 0, false);
  v.setUint16(4, input.dport ?? 0, false);
  v.setUint16(6, input.tot_len ?? 0, true);
  v.setUint32(8, input.ifindex ?? 0, true);
  if (input.flowinfo !== undefined) v.setUint32(12, input.flowinfo, false);
  else b[12] = input.tos ?? 0;
  const put = (off: number, text: string | undefined, what: string) => {
    if (text === undefined) return;
    b.set(text.includes(':') ? parseIPv6(text, what) : parseIPv4(text, what), off);
  };
  put(16, input.src, 'bpf_fib_lookup src');
  put(32, input.dst, 'bpf_fib_lookup dst');
  v.setUint32(48, input.tbid ?? 0, true);
  v.setUint32(52, input.mark ?? 0, true);
  return b;
}

export function decodeFibLookup(b: Uint8Array): BpfFibLookup {
  if (b.length < BPF_FIB_LOOKUP_SIZE) throw new RangeError(`struct bpf_fib_lookup needs ${BPF_FIB_LOOKUP_SIZE} bytes, got ${b.length}`);
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return {
    family: b[0],
    l4_protocol: b[1],
    sport: v.getUint16(2, false),
    dport: v.getUint16(4, false),
    tot_len: v.getUint16(6, true),
    mtu_result: v.getUint16(6, true),
    ifindex: v.getUint32(8, true),
    tos: b[12],
    flowinfo: v.getUint32(12, false),
    rt_metric: v.getUint32(12, true),
    ipv4_src: formatIPv4(b, 16),
    ipv4_dst: formatIPv4(b, 32),
    ipv6_src: formatIPv6(b, 16),
    ipv6_dst: formatIPv6(b, 32),
    h_vlan_proto: v.getUint16(48, false),
    h_vlan_TCI: v.getUint16(50, false),
    tbid: v.getUint32(48, true),
    mark: v.getUint32(52, true),
    smac: formatMac(b, 52),
    dmac: formatMac(b, 58),
  };
}

/** The MACs as bytes, for the helper layer (parseMac of decodeFibLookup's text is the same). */
export function fibMacs(b: Uint8Array): { smac: Uint8Array; dmac: Uint8Array } {
  return { smac: b.slice(52, 58), dmac: b.slice(58, 64) };
}

