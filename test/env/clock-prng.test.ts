import { describe, expect, it } from 'vitest';
import { createClock, jiffies64, ktimeGetBootNs, ktimeGetNs, ktimeGetRealNs, ktimeGetTaiNs, advanceClock, suspendClock } from '../../src/env/clock.js';
import { createPrng, prandomU32 } from '../../src/env/prng.js';

describe('virtual clock', () => {
  it('starts jiffies_64 at INITIAL_JIFFIES, 300 s before the 32-bit wrap, and ticks at HZ', () => {
    const c = createClock({ monotonicNs: 0n, hz: 250 });
    expect(jiffies64(c)).toBe(2n ** 32n - 300n * 250n);
    advanceClock(c, 1_000_000_000n);
    expect(jiffies64(c) - (2n ** 32n - 75_000n)).toBe(250n);
    const k = createClock({ monotonicNs: 3_000_000_000n, hz: 1000 });
    expect(jiffies64(k) - (2n ** 32n - 300_000n)).toBe(3000n);
  });

  it('moves every clock together when time passes', () => {
    const c = createClock({ monotonicNs: 10n, realtimeNs: 1_700_000_000_000_000_000n, taiOffsetSec: 37 });
    const before = [ktimeGetNs(c), ktimeGetBootNs(c), ktimeGetRealNs(c), ktimeGetTaiNs(c)];
    advanceClock(c, 123n);
    expect([ktimeGetNs(c), ktimeGetBootNs(c), ktimeGetRealNs(c), ktimeGetTaiNs(c)].map((v, i) => v - before[i])).toEqual([123n, 123n, 123n, 123n]);
    expect(ktimeGetTaiNs(c) - ktimeGetRealNs(c)).toBe(37_000_000_000n);
  });

  it('keeps monotonic time and jiffies still across a suspend while boot and wall time move', () => {
    const c = createClock();
    const [mono, boot, real, jif] = [ktimeGetNs(c), ktimeGetBootNs(c), ktimeGetRealNs(c), jiffies64(c)];
    suspendClock(c, 60_000_000_000n);
    expect([ktimeGetNs(c) - mono, ktimeGetBootNs(c) - boot, ktimeGetRealNs(c) - real, jiffies64(c) - jif]).toEqual([0n, 60_000_000_000n, 60_000_000_000n, 0n]);
  });

  it('rejects an HZ the kernel cannot be built with', () => {
    expect(() => createClock({ hz: 128 })).toThrow(/hz must be one of/);
  });
});

describe('get_prandom_u32 generator', () => {
  // Outputs of the reference C code (xoshiro128starstar.c 1.1, seeded by splitmix32) for seeds 1, 42, 2^32-1.
  const reference: Record<number, number[]> = {
    1: [0x9190299e, 0xc1017b27, 0xe3af522f, 0x7d71fb05, 0x787816c2, 0xfbbe0c00],
    42: [0xa91e1cac, 0x207b36e9, 0x1c987ffa, 0xd09fde9e, 0x14404494, 0x06bee32a],
    4294967295: [0x31d28326, 0x728481f8, 0x8c70d5d1, 0x7066baf4, 0x3a707f2c, 0x3ed16aa6],
  };
  for (const [seed, values] of Object.entries(reference)) {
    it(`matches the reference xoshiro128** stream for seed ${seed}`, () => {
      const p = createPrng(Number(seed));
      expect(values.map(() => prandomU32(p))).toEqual(values);
    });
  }

  it('rejects a seed that is not an unsigned 32-bit integer', () => {
    expect(() => createPrng(-1)).toThrow(/seed/);
  });
});

describe('Environment time and randomness', () => {
  it('reproduces the same helper values for the same seed and clock', async () => {
    const { Environment } = await import('../../src/env/environment.js');
    const run = () => {
      const env = Environment.fromSpec({ seed: 99, clock: { monotonicNs: 5_000_000_000n, hz: 1000 } });
      const out: bigint[] = [];
      for (let i = 0; i < 3; i++) {
        out.push(BigInt(env.prandomU32()), env.ktimeGetNs(), env.jiffies64(), env.ktimeGetBootNs());
        env.advance(1_500_000n);
      }
      return out;
    };
    expect(run()).toEqual(run());
    const env = Environment.fromSpec({ seed: 99, clock: { monotonicNs: 5_000_000_000n, hz: 1000 } });
    expect(env.jiffies64() - (2n ** 32n - 300_000n)).toBe(5000n);
  });
});
