// Saving and restoring a map's whole state (its values and the kernel structures around them:
// hash chains, LRU lists and reference bits, trie nodes, queue and ring positions) as plain data
// of numbers and typed arrays, which msgpackr packs as is. A state restores into a map created
// from the same definition on a machine with the same CPU count, anywhere in VM memory: slots
// keep their indices, and pointers are recomputed.

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
