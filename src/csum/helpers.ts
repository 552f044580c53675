// The checksum helpers' semantics (net/core/filter.c: bpf_csum_diff, bpf_l3_csum_replace,
// bpf_l4_csum_replace; net/core/utils.c: inet_proto_csum_replace4/_by_diff) as pure functions
// over the packet bytes. The helper layer passes the register values r2..r5 unchanged.
import {
  csumAdd,
  csumFold,
  csumFrom32to16,
  csumPartial,
  csumReplace2,
  csumReplace4,
  csumReplaceByDiff,
  csumSub,
  csumUnfold,
  readSum16,
  writeSum16,
} from './arith.js';

/** include/uapi/linux/bpf.h flags of bpf_l3_csum_replace / bpf_l4_csum_replace. */
export const BPF_F_HDR_FIELD_MASK = 0xf;
export const BPF_F_PSEUDO_HDR = 1 << 4;
export const BPF_F_MARK_MANGLED_0 = 1 << 5;
export const BPF_F_MARK_ENFORCE = 1 << 6;
export const BPF_F_IPV6 = 1 << 7;

/** include/net/checksum.h: written instead of 0 when BPF_F_MARK_MANGLED_0 asks for it (UDP). */
export const CSUM_MANGLED_0 = 0xffff;

export const EINVAL = 22;
export const EFAULT = 14;

/**
 * skb->ip_summed as it matters to the helpers (include/linux/skbuff.h). A packet read from a
 * pcap is taken as received without hardware help: `none` (CHECKSUM_NONE). `complete` also
 * keeps skb->csum (the sum over the whole packet) up to date; `partial` (a locally generated
 * packet whose L4 checksum the NIC fills) only folds pseudo-header changes into the field.
 */
export type IpSummed = 'none' | 'complete' | 'partial';

export interface SkbCsumState {
  ipSummed: IpSummed;
  /** skb->csum, the 32-bit sum a CHECKSUM_COMPLETE packet carries. */
  csum: number;
}

/**
 * bpf_csum_diff(from, from_size, to, to_size, seed), Linux >= 6.13 (helper 28): the sum of the
 * `to` bytes plus seed minus the sum of the `from` bytes, folded to 16 bits (not complemented).
 * Sizes are not checked by the helper (the verifier bounds the memory); a size that is not a
 * multiple of 4 sums a zero-padded last word. Measured on Linux 6.18, see test/csum.
 */
export function csumDiff(from: Uint8Array, to: Uint8Array, seed: number): number {
  let ret = seed >>> 0;
  if (from.length && to.length) {
    ret = csumSub(csumPartial(to, 0, to.length, ret), csumPartial(from, 0, from.length, 0));
  } else if (to.length) {
    ret = csumPartial(to, 0, to.length, ret);
  } else if (from.length) {
    ret = ~csumPartial(from, 0, from.length, ~ret >>> 0) >>> 0;
  }
  return csumFrom32to16(ret);
}

/** Where the helper checks fail (mirrors bpf_try_make_writable and the offset checks). */
function checkOffset(pktLen: number, offset: number): number {
  // filter.c: `offset > 0xffff || offset & 1` -> -EFAULT, then bpf_try_make_writable(skb,
  // offset + 2) fails past the packet's end -> -EFAULT.
  if (offset > 0xffff || offset & 1) return -EFAULT;
  if (offset + 2 > pktLen) return -EFAULT;
  return 0;
}

/** Low 32 bits of a 64-bit register argument given as number or bigint. */
function low32(v: number | bigint): number {
  return typeof v === 'bigint' ? Number(BigInt.asUintN(32, v)) : v >>> 0;
}

/** The flags register as an unsigned 32-bit number, or -1 when a higher bit is set (always invalid). */
function flags32(flags: number | bigint): number {
  if (typeof flags === 'bigint') return BigInt.asUintN(64, flags) >> 32n ? -1 : Number(flags);
  return Number.isInteger(flags) && flags >= 0 && flags <= 0xffffffff ? flags >>> 0 : -1;
}

function isZero(v: number | bigint): boolean {
  return typeof v === 'bigint' ? v === 0n : v === 0;
}

/**
 * bpf_l3_csum_replace(skb, offset, from, to, flags) (helper 10): updates the 16-bit checksum at
 * `offset` in place after a field changed from `from` to `to` (flags & 0xf = 2 or 4 bytes), or by
 * the precomputed difference `to` (size 0, `from` must be 0). Returns 0 or -EINVAL / -EFAULT.
 */
export function l3CsumReplace(
  pkt: Uint8Array,
  offset: number,
  from: number | bigint,
  to: number | bigint,
  flags: number | bigint,
): number {
  return l3CsumReplaceIn(pkt, 0, pkt.length, offset, from, to, flags);
}

/**
 * l3CsumReplace on a packet of `pktLen` bytes starting at `pktStart` inside `mem` (the VM's
 * memory: the helpers update the packet in place, without a view or a copy per call).
 */
export function l3CsumReplaceIn(
  mem: Uint8Array,
  pktStart: number,
  pktLen: number,
  offset: number,
  from: number | bigint,
  to: number | bigint,
  flags: number | bigint,
): number {
  const f = flags32(flags);
  if (f < 0 || (f & ~BPF_F_HDR_FIELD_MASK) !== 0) return -EINVAL;
  const bad = checkOffset(pktLen, offset);
  if (bad) return bad;
  const at = pktStart + offset;
  const sum = readSum16(mem, at);
  switch (f & BPF_F_HDR_FIELD_MASK) {
    case 0:
      if (!isZero(from)) return -EINVAL;
      writeSum16(mem, at, csumReplaceByDiff(sum, low32(to)));
      return 0;
    case 2:
      writeSum16(mem, at, csumReplace2(sum, low32(from) & 0xffff, low32(to) & 0xffff));
      return 0;
    case 4:
      writeSum16(mem, at, csumReplace4(sum, low32(from), low32(to)));
      return 0;
    default:
      return -EINVAL;
  }
}

/**
 * bpf_l4_csum_replace(skb, offset, from, to, flags) (helper 11). Like l3CsumReplace, plus:
 * BPF_F_PSEUDO_HDR (the field is part of the pseudo-header: matters for CHECKSUM_COMPLETE and
 * CHECKSUM_PARTIAL), BPF_F_MARK_MANGLED_0 (leave a 0 checksum alone unless BPF_F_MARK_ENFORCE,
 * and write CSUM_MANGLED_0 for a result of 0, as UDP needs), BPF_F_IPV6 (with a precomputed
 * diff: do not fold it into skb->csum). `skb` defaults to a received packet (CHECKSUM_NONE);
 * when given it is updated in place as the kernel updates skb->csum.
 */
export function l4CsumReplace(
  pkt: Uint8Array,
  offset: number,
  from: number | bigint,
  to: number | bigint,
  flags: number | bigint,
  skb: SkbCsumState = { ipSummed: 'none', csum: 0 },
): number {
  return l4CsumReplaceIn(pkt, 0, pkt.length, offset, from, to, flags, skb);
}

/** l4CsumReplace on a packet inside `mem` (see l3CsumReplaceIn). */
export function l4CsumReplaceIn(
  mem: Uint8Array,
  pktStart: number,
  pktLen: number,
  offset: number,
  from: number | bigint,
  to: number | bigint,
  flags: number | bigint,
  skb: SkbCsumState,
): number {
  const flagBits = flags32(flags);
  const allowed = BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE | BPF_F_PSEUDO_HDR | BPF_F_HDR_FIELD_MASK | BPF_F_IPV6;
  if (flagBits < 0 || (flagBits & ~allowed) !== 0) return -EINVAL;
  const bad = checkOffset(pktLen, offset);
  if (bad) return bad;
  const at = pktStart + offset;
  const isPseudo = (flagBits & BPF_F_PSEUDO_HDR) !== 0;
  const isMmzero = (flagBits & BPF_F_MARK_MANGLED_0) !== 0;
  const doMforce = (flagBits & BPF_F_MARK_ENFORCE) !== 0;
  const isIpv6 = (flagBits & BPF_F_IPV6) !== 0;
  const sum = readSum16(mem, at);
  if (isMmzero && !doMforce && sum === 0) return 0;

  let next: number;
  switch (flagBits & BPF_F_HDR_FIELD_MASK) {
    case 0: {
      if (!isZero(from)) return -EINVAL;
      next = protoReplaceByDiff(sum, skb, low32(to), isPseudo, isIpv6);
      break;
    }
    case 2:
      // inet_proto_csum_replace2() widens both values to 32 bits and calls ..._replace4().
      next = protoReplace4(sum, skb, low32(from) & 0xffff, low32(to) & 0xffff, isPseudo);
      break;
    case 4:
      next = protoReplace4(sum, skb, low32(from), low32(to), isPseudo);
      break;
    default:
      return -EINVAL;
  }
  if (isMmzero && next === 0) next = CSUM_MANGLED_0;
  writeSum16(mem, at, next);
  return 0;
}

/** inet_proto_csum_replace4() (net/core/utils.c): returns the new field value. */
function protoReplace4(sum: number, skb: SkbCsumState, from: number, to: number, pseudo: boolean): number {
  if (skb.ipSummed !== 'partial') {
    if (skb.ipSummed === 'complete' && pseudo) {
      skb.csum = ~csumAdd(csumSub(~skb.csum >>> 0, from), to) >>> 0;
    }
    return csumReplace4(sum, from, to);
  }
  if (pseudo) return ~csumFold(csumAdd(csumSub(csumUnfold(sum), from), to)) & 0xffff;
  return sum;
}

/** inet_proto_csum_replace_by_diff() (net/core/utils.c). */
function protoReplaceByDiff(sum: number, skb: SkbCsumState, diff: number, pseudo: boolean, ipv6: boolean): number {
  if (skb.ipSummed !== 'partial') {
    if (skb.ipSummed === 'complete' && pseudo && !ipv6) skb.csum = ~csumSub(diff, skb.csum) >>> 0;
    return csumReplaceByDiff(sum, diff);
  }
  if (pseudo) return ~csumFold(csumAdd(diff, csumUnfold(sum))) & 0xffff;
  return sum;
}
