// Byte helpers for keys and values read straight from VM memory (no allocation per call).

/**
 * 32-bit MurmurHash3 of len bytes at buf[off]. The kernel hashes keys with jhash and a random
 * seed (htab_map_hash in kernel/bpf/hashtab.c), so bucket order is not reproducible there either;
 * any good non-cryptographic hash gives the same semantics.
 */
export function hashBytes(buf: Uint8Array, off: number, len: number): number {
  let h = 0x9747b28c ^ len;
  let i = 0;
  for (; i + 4 <= len; i += 4) {
    const p = off + i;
    let k = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len - i;
  if (rest > 0) {
    let k = buf[off + i];
    if (rest > 1) k ^= buf[off + i + 1] << 8;
    if (rest > 2) k ^= buf[off + i + 2] << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Whether typed-array words are little-endian here, as BPF memory is (false: word paths unused). */
export const HOST_LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/**
 * hashBytes for a key at a 4-byte aligned offset, reading whole words: the same value (the words
 * are the little-endian bytes hashBytes assembles), in half the time. `words` views the same
 * buffer as `buf` from its start; only valid where HOST_LITTLE_ENDIAN.
 */
export function hashAligned(words: Int32Array, buf: Uint8Array, off: number, len: number): number {
  let h = 0x9747b28c ^ len;
  let i = 0;
  const w = off >> 2;
  for (; i + 4 <= len; i += 4) {
    let k = words[w + (i >> 2)];
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  const rest = len - i;
  if (rest > 0) {
    let k = buf[off + i];
    if (rest > 1) k ^= buf[off + i + 1] << 8;
    if (rest > 2) k ^= buf[off + i + 2] << 16;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= len;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** bytesEqual of two 4-byte aligned ranges of one buffer (`words` and `buf` view it from its start). */
export function equalAligned(words: Int32Array, buf: Uint8Array, ao: number, bo: number, len: number): boolean {
  const aw = ao >> 2;
  const bw = bo >> 2;
  const n = len >> 2;
  for (let i = 0; i < n; i++) if (words[aw + i] !== words[bw + i]) return false;
  for (let i = n << 2; i < len; i++) if (buf[ao + i] !== buf[bo + i]) return false;
  return true;
}

export function bytesEqual(a: Uint8Array, ao: number, b: Uint8Array, bo: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (a[ao + i] !== b[bo + i]) return false;
  return true;
}

/** Below this many bytes a loop beats copyWithin/fill (their call costs tens of ns). */
const SMALL_COPY = 64;

/**
 * dst[dOff..] = src[sOff, sOff + len), as memmove. Keys and values of a program's map call are
 * in VM memory, which the helpers and the maps see through one view object (Machine.bytes()):
 * then a plain loop (or copyWithin), without the subarray a set() needs.
 */
export function copyBytes(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, len: number): void {
  if (src !== dst) {
    dst.set(src.subarray(sOff, sOff + len), dOff);
  } else if (len > SMALL_COPY) {
    dst.copyWithin(dOff, sOff, sOff + len);
  } else if (dOff > sOff) {
    for (let i = len - 1; i >= 0; i--) dst[dOff + i] = dst[sOff + i];
  } else {
    for (let i = 0; i < len; i++) dst[dOff + i] = dst[sOff + i];
  }
}

/** dst[off, off + len) = 0 */
function zeroBytes(dst: Uint8Array, off: number, len: number): void {
  if (len > SMALL_COPY) dst.fill(0, off, off + len);
  else for (let i = 0; i < len; i++) dst[off + i] = 0;
}

/**
 * copy_map_value (include/linux/bpf.h): copies a value but never the bpf_spin_lock inside it.
 * `lockOff` < 0 when the value has none.
 */
export function copyValue(dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, len: number, lockOff: number): void {
  if (lockOff < 0) {
    copyBytes(dst, dOff, src, sOff, len);
    return;
  }
  copyBytes(dst, dOff, src, sOff, lockOff);
  copyBytes(dst, dOff + lockOff + 4, src, sOff + lockOff + 4, len - lockOff - 4);
}

/** zero_map_value: zeroes a value except its bpf_spin_lock. */
export function zeroValue(dst: Uint8Array, dOff: number, len: number, lockOff: number): void {
  if (lockOff < 0) {
    zeroBytes(dst, dOff, len);
    return;
  }
  zeroBytes(dst, dOff, lockOff);
  zeroBytes(dst, dOff + lockOff + 4, len - lockOff - 4);
}

export function readU32(buf: Uint8Array, off: number): number {
  return (buf[off] | (buf[off + 1] << 8) | (buf[off + 2] << 16) | (buf[off + 3] << 24)) >>> 0;
}

export function u32Key(index: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, index, true);
  return k;
}
