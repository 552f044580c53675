// Minimal ELF64 editing for tests: locates sections without the code under test, so
// broken variants can be made from the good fixtures.

export interface RawSection {
  index: number;
  name: string;
  /** Byte offset of this section's header in the file. */
  header: number;
  type: number;
  offset: number;
  size: number;
  info: number;
}

export function rawSections(bytes: Uint8Array): RawSection[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(v.getBigUint64(40, true));
  const shnum = v.getUint16(60, true);
  const shstrndx = v.getUint16(62, true);
  const strOff = Number(v.getBigUint64(shoff + shstrndx * 64 + 24, true));
  const out: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = shoff + i * 64;
    const nameOff = v.getUint32(h, true);
    let end = strOff + nameOff;
    while (bytes[end] !== 0) end++;
    out.push({
      index: i,
      name: new TextDecoder().decode(bytes.subarray(strOff + nameOff, end)),
      header: h,
      type: v.getUint32(h + 4, true),
      offset: Number(v.getBigUint64(h + 24, true)),
      size: Number(v.getBigUint64(h + 32, true)),
      info: v.getUint32(h + 44, true),
    });
  }
  return out;
}

export function section(bytes: Uint8Array, name: string): RawSection {
  const s = rawSections(bytes).find((x) => x.name === name);
  if (!s) throw new Error(`fixture has no section ${name}`);
  return s;
}

/** A copy of `bytes` with `edit` applied through a DataView. */
export function edited(bytes: Uint8Array, edit: (v: DataView, b: Uint8Array) => void): Uint8Array {
  const copy = bytes.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}

/** Deterministic PRNG (mulberry32), so fuzz failures reproduce from their seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
