// Internet checksum arithmetic (RFC 1071 one's complement sums, RFC 1624 incremental update)
// exactly as the kernel computes it, including which of the two one's complement zeros
// (0x0000 / 0xffff) comes out. All values are plain numbers holding unsigned 32- or 16-bit
// integers.
//
// Byte order: the kernel sums memory as native words (__wsum / __sum16 are host-order views of
// network-order bytes). BPF and bpfbed's targets are little-endian (x86-64, arm64), so a word
// is read little-endian here; one's complement sums are byte-order independent (RFC 1071 §2(B)),
// so the bytes written back are the ones a big-endian reading would give too.

/** csum_add() (include/net/checksum.h): 32-bit add with end-around carry. */
export function csumAdd(csum: number, addend: number): number {
  const res = (csum >>> 0) + (addend >>> 0);
  return res > 0xffffffff ? res - 0xffffffff : res;
}

/** csum_sub(): adds the one's complement of `addend`. */
export function csumSub(csum: number, addend: number): number {
  return csumAdd(csum, ~addend >>> 0);
}

/** csum16_add(): 16-bit add with end-around carry. */
export function csum16Add(csum: number, addend: number): number {
  const res = (csum & 0xffff) + (addend & 0xffff);
  return res > 0xffff ? res - 0xffff : res;
}

/** csum16_sub(). */
export function csum16Sub(csum: number, addend: number): number {
  return csum16Add(csum, ~addend & 0xffff);
}

/**
 * csum_fold(): folds a 32-bit partial sum to 16 bits and complements it (the value that goes
 * into a header). Same result as the generic and the x86 versions (arch/x86/include/asm/checksum_32.h).
 */
export function csumFold(csum: number): number {
  let s = csum >>> 0;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** csum_unfold(): a 16-bit header checksum viewed as a 32-bit partial sum. */
export function csumUnfold(sum16: number): number {
  return sum16 & 0xffff;
}

/**
 * csum_from32to16() (include/net/checksum.h): folds to 16 bits without complementing; 0 only
 * for 0. This is what bpf_csum_diff returns since Linux 6.13 on every architecture.
 */
export function csumFrom32to16(sum: number): number {
  let s = sum >>> 0;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s;
}

/**
 * csum_partial() (arch/x86/lib/csum-partial_64.c): the 32-bit one's complement sum of `len`
 * bytes at `off` plus `seed`, as little-endian 32-bit words, a trailing partial word padded
 * with zero bytes. The x86 code accumulates 64-bit words with carry and folds to 32 bits; the
 * result is the same number: congruent to the sum modulo 2^32-1, 0 only when seed and data
 * are all zero.
 */
export function csumPartial(bytes: Uint8Array, off: number, len: number, seed: number): number {
  let acc = seed >>> 0;
  const end = off + len;
  let i = off;
  for (; i + 4 <= end; i += 4) {
    acc += (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0;
    if (acc > 0xffffffff) acc -= 0xffffffff;
  }
  if (i < end) {
    let w = 0;
    for (let k = 0; i + k < end; k++) w |= bytes[i + k] << (8 * k);
    acc += w >>> 0;
    if (acc > 0xffffffff) acc -= 0xffffffff;
  }
  return acc;
}

/** Reads the 16-bit checksum field at `off` as the kernel's __sum16 (native little-endian). */
export function readSum16(pkt: Uint8Array, off: number): number {
  return pkt[off] | (pkt[off + 1] << 8);
}

/** Writes a __sum16 back at `off`. */
export function writeSum16(pkt: Uint8Array, off: number, sum: number): void {
  pkt[off] = sum & 0xff;
  pkt[off + 1] = (sum >>> 8) & 0xff;
}

/**
 * csum_replace2() (include/net/checksum.h), RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), on 16-bit
 * values as the program holds them (the register value of a __be16 field).
 */
export function csumReplace2(sum16: number, from: number, to: number): number {
  return ~csum16Add(csum16Sub(~sum16 & 0xffff, from), to) & 0xffff;
}

/** csum_replace4(): the same update for a 32-bit field (an IPv4 address). */
export function csumReplace4(sum16: number, from: number, to: number): number {
  const tmp = csumSub(~csumUnfold(sum16) >>> 0, from >>> 0);
  return csumFold(csumAdd(tmp, to >>> 0));
}

/** csum_replace_by_diff(): applies a precomputed 32-bit difference (e.g. from bpf_csum_diff). */
export function csumReplaceByDiff(sum16: number, diff: number): number {
  return csumFold(csumAdd(diff >>> 0, ~csumUnfold(sum16) >>> 0));
}
