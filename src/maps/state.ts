// Saving and restoring a map's state (its values and the kernel structures around them:
// hash chains, LRU lists and reference bits, trie nodes, queue and ring positions) as plain data
// of numbers and typed arrays, which msgpackr packs as is. A state restores into a map created
// from the same definition on a machine with the same CPU count, anywhere in VM memory (a fresh
// map, or one that has run on since): slots keep their indices, and pointers are recomputed.

/** Plain data: numbers, strings, typed arrays, arrays and objects of those. */
export type MapState = { [field: string]: unknown };

type IntArray = Int32Array | Uint32Array | Uint8Array | Uint16Array;

/**
 * A copy of a typed array's bytes. States hold only Uint8Arrays so that any msgpack encoder
 * keeps them exactly (msgpackr needs an option for other typed arrays). Byte order is the
 * host's, little-endian on every platform bpfbed runs on.
 */
export function copyOf(a: IntArray): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** Restores bytes saved by copyOf into `into`, checking the size (a state from another definition). */
export function restoreInto(what: string, into: IntArray, saved: unknown): void {
  if (!(saved instanceof Uint8Array) || saved.byteLength !== into.byteLength) {
    const got = saved instanceof Uint8Array ? `${saved.byteLength} bytes` : 'nothing';
    throw new Error(`map state: ${what}: got ${got}, expected ${into.byteLength} bytes`);
  }
  new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(saved);
}

// ---- sparse encodings (snapshot format 2) ----
//
// A snapshot keeps what decides a map's future behaviour and nothing else: live elements, the
// order of free and LRU lists, and non-zero bytes. Maps of tens of thousands of preallocated
// entries that hold a handful then save a few kilobytes instead of their whole memory.

/** The bytes of an Int32Array (a state holds only Uint8Arrays, see copyOf). */
export function int32Bytes(values: ArrayLike<number>): Uint8Array {
  return copyOf(Int32Array.from(values));
}

/** The Int32Array a state's bytes (int32Bytes, copyOf) hold; `what` names it in errors. */
export function int32sOf(what: string, saved: unknown): Int32Array {
  if (!(saved instanceof Uint8Array) || saved.byteLength % 4 !== 0) throw new Error(`map state: ${what}: not a list of 32-bit numbers`);
  // A copy: an unpacked field may be a view at any byte offset of the snapshot (in Node a
  // Buffer, whose slice() is such a view too).
  return new Int32Array(new Uint8Array(saved).buffer);
}

/**
 * A sequence of integers as runs of consecutive values: pairs (first, length), a negative length
 * for a descending run. A free list that was never disturbed (n-1, n-2, ..., 0) is one pair.
 * Built value by value (push), so a long list costs no intermediate array.
 */
export class RunWriter {
  private readonly pairs: number[] = [];
  private first = 0;
  private last = 0;
  /** Values in the current run (0: none yet); its direction once it has two. */
  private len = 0;
  private step = 0;

  push(v: number): void {
    if (this.len === 1 && (v === this.last + 1 || v === this.last - 1)) {
      this.step = v - this.last;
    } else if (this.len === 0 || v !== this.last + this.step || this.len === 1) {
      this.flush();
      this.first = v;
      this.step = 0;
      this.len = 0;
    }
    this.last = v;
    this.len++;
  }

  private flush(): void {
    if (this.len > 0) this.pairs.push(this.first, this.step < 0 ? -this.len : this.len);
  }

  bytes(): Uint8Array {
    this.flush();
    this.len = 0;
    return int32Bytes(this.pairs);
  }
}

export function encodeRuns(seq: ArrayLike<number>): Uint8Array {
  const w = new RunWriter();
  for (let i = 0; i < seq.length; i++) w.push(seq[i]);
  return w.bytes();
}

/**
 * Calls fn with each value encodeRuns encoded, in order; at most `limit` values (a corrupt
 * state is an error, not a hang).
 */
export function forEachRun(what: string, saved: unknown, limit: number, fn: (v: number) => void): void {
  const pairs = int32sOf(what, saved);
  if (pairs.length % 2 !== 0) throw new Error(`map state: ${what}: odd number of run fields`);
  let count = 0;
  for (let p = 0; p < pairs.length; p += 2) {
    const first = pairs[p];
    const len = pairs[p + 1];
    const n = Math.abs(len);
    count += n;
    if (len === 0 || count > limit) throw new Error(`map state: ${what}: more than ${limit} values`);
    const step = len < 0 ? -1 : 1;
    for (let k = 0; k < n; k++) fn(first + k * step);
  }
}

/** The values encodeRuns encoded, as an array (see forEachRun). */
export function decodeRuns(what: string, saved: unknown, limit: number): number[] {
  const out: number[] = [];
  forEachRun(what, saved, limit, (v) => out.push(v));
  return out;
}

/** Zero gaps shorter than this stay inside a range: a range costs two numbers. */
const MIN_ZERO_GAP = 16;

/**
 * The non-zero ranges of `bytes` (offsets and lengths, and their bytes one after another): what
 * arrays, ring buffers and other zero-initialised memory save.
 */
export function saveNonZero(bytes: Uint8Array): MapState {
  const ranges: number[] = [];
  const chunks: Uint8Array[] = [];
  let total = 0;
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    while (i < n && bytes[i] === 0) i++;
    if (i >= n) break;
    const start = i;
    let end = i + 1; // just past the last non-zero byte of the range
    for (let j = i + 1; j < n && j - end < MIN_ZERO_GAP; j++) if (bytes[j] !== 0) end = j + 1;
    ranges.push(start, end - start);
    chunks.push(bytes.subarray(start, end));
    total += end - start;
    i = end;
  }
  const data = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.length;
  }
  return { length: n, ranges: int32Bytes(ranges), data };
}

/** Writes a saveNonZero state into `into` (zeroing the rest), checking it fits. */
export function restoreNonZero(what: string, into: Uint8Array, saved: unknown): void {
  const s = saved as MapState | undefined;
  if (!s || s.length !== into.length || !(s.data instanceof Uint8Array)) {
    throw new Error(`map state: ${what}: got ${typeof s?.length === 'number' ? `${s.length} bytes` : 'nothing'}, expected ${into.length} bytes`);
  }
  const ranges = int32sOf(what, s.ranges);
  const data = s.data;
  into.fill(0);
  let o = 0;
  for (let r = 0; r + 1 < ranges.length; r += 2) {
    const off = ranges[r];
    const len = ranges[r + 1];
    if (off < 0 || len < 0 || off + len > into.length || o + len > data.length) throw new Error(`map state: ${what}: a range lies outside ${into.length} bytes`);
    into.set(data.subarray(o, o + len), off);
    o += len;
  }
}
