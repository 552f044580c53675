// A small seeded random number generator for the differential program generator: the same
// (seed, index) always gives the same program, on any machine, so a mismatch is reproduced from
// the two numbers a failing run prints. sfc32 (Chris Doty-Humphrey's Small Fast Counter), seeded
// through splitmix32 so that neighbouring seeds and indices give unrelated streams.

function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  /** A stream for program `index` of run `seed` (both unsigned 32-bit integers). */
  constructor(seed: number, index = 0) {
    const mix = splitmix32((seed >>> 0) ^ Math.imul(index >>> 0, 0x27d4eb2d));
    this.a = mix();
    this.b = mix() ^ (index >>> 0);
    this.c = mix();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** The next unsigned 32-bit value. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** A signed 32-bit value (an instruction's imm). */
  s32(): number {
    return this.u32() | 0;
  }

  /** An unsigned 64-bit value. */
  u64(): bigint {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }

  /** An integer in [0, n). */
  below(n: number): number {
    return Math.floor((this.u32() / 0x1_0000_0000) * n);
  }

  /** An integer in [lo, hi]. */
  between(lo: number, hi: number): number {
    return lo + this.below(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() / 0x1_0000_0000 < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
}
