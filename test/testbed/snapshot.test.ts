import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadObject } from '../../src/loader/object.js';
import { Testbed } from '../../src/testbed/testbed.js';

const obj = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/obj', name)));
const core = loadObject(obj('helpers/core.o'), { name: 'core.o' });
const args = () => new Uint8Array(56);

describe('snapshots', () => {
  it('a Testbed restored from a snapshot continues where the first one stopped', async () => {
    const first = await Testbed.create(core, { environment: { seed: 7 } });
    first.runWithMemory('spin_count', args());
    first.runWithMemory('spin_count', args());
    first.env.advance(5_000_000);
    const snap = first.snapshot();

    const second = await Testbed.fromSnapshot(core, snap);
    // the same continuation from both: map values, the clock and the random generator
    for (const bed of [first, second]) expect(Number(bed.runWithMemory('spin_count', args()).r0)).toBe(3);
    const a = first.runWithMemory('clocks', args()).memory!;
    const b = second.runWithMemory('clocks', args()).memory!;
    expect(b).toEqual(a);
    expect(new DataView(a.buffer).getBigUint64(0, true)).toBe(1_005_000_000n);
  });

  it('keeps LRU order, so the same entry is evicted after a restore', async () => {
    const spec = loadObject(obj('typed/lb_types.o'), { name: 'lb_types.o' });
    const bed = await Testbed.create(spec);
    const ct = bed.typedMap('ct6');
    for (let port = 1; port <= 64; port++) ct.set({ saddr: 'fd00::1', daddr: 'fd00::2', sport: port, dport: 80, nexthdr: 6 }, { to_sport: port });
    const restored = await Testbed.fromSnapshot(spec, bed.snapshot());
    for (const b of [bed, restored]) {
      b.typedMap('ct6').set({ saddr: 'fd00::1', daddr: 'fd00::2', sport: 1000, dport: 80, nexthdr: 6 }, { to_sport: 1000 });
    }
    const survivors = (b: Testbed) => b.typedMap('ct6').entries().map((e) => (e.key as { sport: number }).sport).sort((x, y) => x - y);
    expect(survivors(restored)).toEqual(survivors(bed));
    expect(survivors(bed)).toContain(1000);
  });

  it('refuses a snapshot of another object, or bytes that are not one', async () => {
    const bed = await Testbed.create(core);
    const other = loadObject(obj('typed/lb_types.o'), { name: 'lb_types.o' });
    await expect(Testbed.fromSnapshot(other, bed.snapshot())).rejects.toThrow(/taken from object core, not lb_types/);
    await expect(Testbed.fromSnapshot(core, Uint8Array.of(1, 2, 3))).rejects.toThrow(/not a bpfbed snapshot/);
  });
});
