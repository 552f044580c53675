// Map snapshots: a state saved from one machine, packed with msgpackr, restored into a map of the
// same definition on another machine, continues exactly where the first left off.
import { pack } from 'msgpackr/pack';
import { unpack } from 'msgpackr/unpack';
import { describe, expect, it } from 'vitest';
import { createMap, MapRegistry } from '../../src/maps/registry.js';
import type { MapState } from '../../src/maps/state.js';
import type { BpfMap, MapDefinition } from '../../src/maps/types.js';
import { BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC } from '../../src/maps/uapi.js';
import { Machine } from '../../src/vm/machine.js';
import { def, readU32, readU64, u32, u64 } from './setup.js';

const roundTrip = (s: MapState): MapState => unpack(pack(s)) as MapState;

/** The same definitions on a fresh machine whose memory is laid out differently. */
async function twin(defs: MapDefinition[], nrCpus = 2): Promise<BpfMap[]> {
  const machine = await Machine.create();
  machine.alloc(12345); // shift every later allocation
  const registry = new MapRegistry();
  return defs.map((d) => createMap(machine, d, { nrCpus, registry }));
}

async function original(defs: MapDefinition[], nrCpus = 2) {
  const machine = await Machine.create();
  const registry = new MapRegistry();
  return { machine, maps: defs.map((d) => createMap(machine, d, { nrCpus, registry })) };
}

const dumpOf = (m: BpfMap) => m.entries().map((e) => [Array.from(e.key), Array.from(e.value)]);

describe('map states', () => {
  it('a restored hash map has the same entries and get_next_key order', async () => {
    const d = def('hash', { maxEntries: 64 });
    const { maps: [a] } = await original([d]);
    for (let k = 0; k < 50; k++) a.update(u32(k * 3), u64(k));
    for (let k = 0; k < 20; k++) a.delete(u32(k * 6));
    const [b] = await twin([d]);
    b.restoreState(roundTrip(a.saveState()));
    expect(dumpOf(b)).toEqual(dumpOf(a));
    // New elements take the same free slots afterwards.
    a.update(u32(1000), u64(1));
    b.update(u32(1000), u64(1));
    expect(dumpOf(b)).toEqual(dumpOf(a));
  });

  for (const flags of [0, BPF_F_NO_COMMON_LRU]) {
    it(`a restored LRU map${flags ? ' (BPF_F_NO_COMMON_LRU)' : ''} evicts exactly as the original would have`, async () => {
      const d = def('lru_hash', { maxEntries: 32, flags });
      const { machine, maps: [a] } = await original([d]);
      const key = machine.alloc(16);
      const dv = () => new DataView(machine.bytes().buffer);
      const bpfUpdate = (m: BpfMap, k: number, cpu: number) => {
        dv().setUint32(key, k, true);
        return m.bpfUpdate(machine.bytes(), key, machine.bytes(), key + 8, 0, cpu);
      };
      const bpfLookup = (m: BpfMap, k: number, cpu: number) => {
        dv().setUint32(key, k, true);
        m.bpfLookup(machine.bytes(), key, cpu);
      };
      for (let i = 0; i < 60; i++) {
        bpfUpdate(a, (i * 7) % 50, i % 2);
        if (i % 3 === 0) bpfLookup(a, (i * 5) % 50, i % 2);
      }
      const [b] = await twin([d]);
      b.restoreState(roundTrip(a.saveState()));
      expect(dumpOf(b)).toEqual(dumpOf(a));
      // Continue both the same way, through the host API of each machine's map.
      for (let i = 0; i < 60; i++) {
        for (const m of [a, b]) m.update(u32(100 + i), u64(i), 0, i % 2);
      }
      expect(dumpOf(b).map((e) => e[0])).toEqual(dumpOf(a).map((e) => e[0]));
    });
  }

  it('a restored LPM trie matches and iterates as the original', async () => {
    const d = def('lpm_trie', { keySize: 8, valueSize: 4, maxEntries: 64, flags: BPF_F_NO_PREALLOC });
    const { maps: [a] } = await original([d]);
    const k = (plen: number, b2: number) => new Uint8Array([plen, 0, 0, 0, 10, b2, 0, 0]);
    for (let i = 0; i < 20; i++) a.update(k(8 + (i % 9), i * 13), u32(i));
    a.delete(k(8 + 3, 3 * 13));
    const [b] = await twin([d]);
    b.restoreState(roundTrip(a.saveState()));
    expect(dumpOf(b)).toEqual(dumpOf(a));
    for (let x = 0; x < 256; x += 17) expect(readU32(b.read(k(32, x)))).toBe(readU32(a.read(k(32, x))));
  });

  it('a restored map of maps refers to the restored inner maps', async () => {
    const inner = def('array', { maxEntries: 2, name: 'inner' });
    const outer = def('hash_of_maps', { valueSize: 4, innerMap: inner, name: 'outer' });
    const { maps: [i1, o1] } = await original([inner, outer]);
    i1.update(u32(1), u64(77));
    o1.update(u32(5), u32(i1.id));
    const [i2, o2] = await twin([inner, outer]);
    i2.restoreState(roundTrip(i1.saveState()));
    o2.restoreState(roundTrip(o1.saveState()));
    expect(o2.bpfLookup(u32(5), 0, 0)).toBe(i2.handle);
    expect(readU64(i2.read(u32(1)))).toBe(77n);
  });

  it('queue, per-CPU array and ring buffer states restore', async () => {
    const defs = [
      def('queue', { keySize: 0, valueSize: 4, maxEntries: 3 }),
      def('percpu_array', { maxEntries: 2 }),
      def('ringbuf', { keySize: 0, valueSize: 0, maxEntries: 4096 }),
    ];
    const { maps: [q1, p1, r1] } = await original(defs);
    q1.update(new Uint8Array(0), u32(1));
    q1.update(new Uint8Array(0), u32(2));
    p1.update(u32(1), new Uint8Array([...u64(5), ...u64(6)]));
    const ring1 = r1 as unknown as { manual: boolean; reserve(n: number): number; commit(o: number, d: boolean): void };
    ring1.manual = true;
    ring1.commit(ring1.reserve(3), false);
    const [q2, p2, r2] = await twin(defs);
    for (const [a, b] of [[q1, q2], [p1, p2], [r1, r2]]) b.restoreState(roundTrip(a.saveState()));
    expect(dumpOf(q2)).toEqual(dumpOf(q1));
    expect(p2.read(u32(1))).toEqual(p1.read(u32(1)));
    const ring2 = r2 as unknown as { consume(): number; query(f: bigint): bigint };
    expect(ring2.query(3n)).toBe(16n);
    expect(ring2.consume()).toBe(1);
  });

  it('a state does not restore into a map of another definition', async () => {
    const { maps: [a] } = await original([def('hash', { maxEntries: 8 })]);
    const [b] = await twin([def('hash', { maxEntries: 16 })]);
    expect(() => b.restoreState(a.saveState())).toThrow(/cannot restore a state saved with maxEntries 8 \(this map has 16\)/);
    const [c] = await twin([def('hash', { maxEntries: 8 })], 4);
    expect(() => c.restoreState(a.saveState())).toThrow(/nrCpus 2 \(this map has 4\)/);
  });
});
