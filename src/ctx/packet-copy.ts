// Copies of packet bytes handed out per run (the frame an skb is built from, the packet a run
// leaves). A Uint8Array of more than 64 bytes gets a backing store of its own outside the JS heap
// (V8's on-heap limit for typed arrays), which costs several times the copy itself: ~0.7 us
// against ~0.08 us for 64 bytes (bench/packets measured it; it made a 17-instruction program on
// a 123-byte UDP frame slower than a 94-instruction one on a 54-byte TCP ACK). Copies of
// ordinary packet sizes are therefore views into shared 16 KiB slabs, handed out once each and
// never reused: every copy is still its own bytes, only `.buffer` is shared (use byteOffset with
// it, as with any view). A copy kept alive keeps its slab alive, at most 16 KiB per copy.
const SLAB_SIZE = 16 * 1024;
/** On-heap arrays are cheap already; large packets get a buffer of their own. */
const ON_HEAP_MAX = 64;
const SLAB_MAX = 2048;

let slab = new ArrayBuffer(SLAB_SIZE);
let top = 0;

/** A copy of src[from, to) (as src.slice(from, to)). */
export function copyPacket(src: Uint8Array, from = 0, to = src.length): Uint8Array {
  const len = to - from;
  if (len <= ON_HEAP_MAX || len > SLAB_MAX) return src.slice(from, to);
  if (top + len > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    top = 0;
  }
  const out = new Uint8Array(slab, top, len);
  out.set(src.subarray(from, to));
  top += (len + 7) & ~7; // each copy 8-byte aligned, as a fresh buffer is
  return out;
}
