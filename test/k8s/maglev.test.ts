// Maglev lookup tables (src/k8s/maglev.ts) against the properties of the paper and the fixed
// cases of Cilium's own tests (pkg/maglev/maglev_test.go, pkg/murmur3).
import { describe, expect, it } from 'vitest';
import { MaglevError, maglevSeeds, maglevTable, murmur3Hash128 } from '../../src/k8s/maglev.js';

const counts = (table: number[]) => table.reduce((m, id) => m.set(id, (m.get(id) ?? 0) + 1), new Map<number, number>());
const backends = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `10.244.${i >> 8}.${i & 255}:8080/TCP`, id: i + 1 }));

describe('murmur3Hash128', () => {
  it('gives the published MurmurHash3_x64_128 values', () => {
    // smhasher's x64_128 of "" with seed 0 is 0; "hello" with seed 0 is cbd8a7b341bd9b02 5b1e906a48ae1d19
    // (h1, h2 as printed by the reference implementation's little-endian output).
    expect(murmur3Hash128(new Uint8Array(0), 0)).toEqual([0n, 0n]);
    const [h1, h2] = murmur3Hash128(new TextEncoder().encode('hello'), 0);
    expect(h1.toString(16)).toBe('cbd8a7b341bd9b02');
    expect(h2.toString(16)).toBe('5b1e906a48ae1d19');
  });
});

describe('maglevTable', () => {
  it('reproduces the weighted table of Cilium TestWeightedBackendWithRemoval (M 1021, default seed)', () => {
    const table = maglevTable(
      [
        { name: 'one', weight: 2, id: 0 },
        { name: 'three', weight: 13, id: 1 },
        { name: 'two', weight: 111, id: 2 },
        { name: 'tzwe', weight: 10, id: 3 },
      ],
      1021,
    );
    const c = counts(table);
    expect([c.get(0), c.get(1), c.get(2), c.get(3)]).toEqual([16, 98, 832, 75]);
  });

  it('gives every backend about M/N slots', () => {
    for (const n of [1, 2, 3, 7]) {
      const table = maglevTable(backends(n), 251);
      expect(table).toHaveLength(251);
      for (const [, slots] of counts(table)) expect(Math.abs(slots - 251 / n)).toBeLessThanOrEqual(1);
      expect(counts(table).size).toBe(n);
    }
  });

  it('moves few other slots when one backend goes (minimal disruption)', () => {
    const all = backends(5);
    const before = maglevTable(all, 1021);
    const after = maglevTable(all.filter((b) => b.id !== 3), 1021);
    let moved = 0;
    let freed = 0;
    before.forEach((id, slot) => {
      if (id === 3) {
        freed++;
        expect(after[slot]).not.toBe(3);
      } else if (after[slot] !== id) moved++;
    });
    expect(freed).toBeGreaterThan(0);
    expect(moved).toBeLessThan(freed * 0.1);
  });

  it('passes Cilium TestBackendRemoval: under 1% of M moves among the remaining backends', () => {
    const three = [
      { name: 'one', weight: 1, id: 0 },
      { name: 'three', weight: 1, id: 1 },
      { name: 'two', weight: 1, id: 2 },
    ];
    const before = maglevTable(three, 1021);
    const after = maglevTable(three.filter((b) => b.name !== 'two'), 1021);
    const moved = before.filter((id, slot) => id !== 2 && after[slot] !== id).length;
    expect(after.every((id) => id === 0 || id === 1)).toBe(true);
    expect(moved / 1021).toBeLessThan(0.01);
  });

  it('is the same whatever order the backends come in', () => {
    const all = backends(4);
    expect(maglevTable([...all].reverse(), 251)).toEqual(maglevTable(all, 251));
  });

  it('refuses a table size that is not prime and a bad seed', () => {
    expect(() => maglevTable(backends(2), 250)).toThrow(MaglevError);
    expect(() => maglevSeeds('short')).toThrow(/12 bytes/);
  });

  it('derives Cilium\'s seeds from the default base64 seed', () => {
    expect(maglevSeeds()).toEqual({ murmur: 0x24b7ef82, jhash0: 0x71dcda46, jhash1: 0x92505688 });
  });
});
