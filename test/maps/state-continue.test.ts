// Sparse map states (snapshot format 2): after a random history, a map restored from a state
// (into a fresh map, or into one that has gone its own way since) gives every later operation
// the same result as the original: return codes, values, get_next_key order, LRU evictions,
// free-slot reuse, ring positions and stale sample bytes.
import { pack } from 'msgpackr/pack';
import { unpack } from 'msgpackr/unpack';
import { describe, expect, it } from 'vitest';
import { createMap, MapRegistry } from '../../src/maps/registry.js';
import { decodeRuns, encodeRuns, restoreNonZero, saveNonZero, type MapState } from '../../src/maps/state.js';
import type { BpfMap, MapDefinition } from '../../src/maps/types.js';
import type { QueueStackMap } from '../../src/maps/queue-stack.js';
import type { RingbufMap } from '../../src/maps/ringbuf.js';
import { BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC } from '../../src/maps/uapi.js';
import { Machine } from '../../src/vm/machine.js';
import { def, u32 } from './setup.js';

const NR_CPUS = 3;

/** mulberry32: a seeded generator, so a failing sequence can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (n: number) => Math.floor(next() * n), pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] };
}
type Rng = ReturnType<typeof rng>;

interface World {
  machine: Machine;
  maps: BpfMap[];
  /** 512 bytes of VM memory for keys and values passed as a program passes them. */
  scratch: number;
}

/**
 * Where a program's value pointer points, relative to the world's scratch memory: the worlds
 * differ by a shift of their whole layout, but which element slot a key got (free-slot order)
 * must not differ.
 */
const relative = (w: World, p: bigint) => (p === 0n ? null : Number(p - w.machine.toVirtual(w.scratch)));

async function world(defs: MapDefinition[], shift: number): Promise<World> {
  const machine = await Machine.create();
  if (shift) machine.alloc(shift); // lay every map out elsewhere in memory
  const registry = new MapRegistry();
  const maps = defs.map((d) => createMap(machine, d, { nrCpus: NR_CPUS, registry }));
  return { machine, maps, scratch: machine.alloc(512, 8) };
}

/** One random operation, drawn once and applied to each world: returns what it observed. */
type Op = (w: World) => unknown;

const bytes = (r: Rng, n: number) => Uint8Array.from({ length: n }, () => r.int(256));
const show = (b: Uint8Array | undefined) => (b === undefined ? null : Array.from(b));

/** Writes key and value to the world's scratch memory, as a program's stack would hold them. */
function inVm(w: World, key: Uint8Array, value?: Uint8Array): { mem: Uint8Array; ko: number; vo: number } {
  const mem = w.machine.bytes();
  mem.set(key, w.scratch);
  if (value) mem.set(value, w.scratch + 256);
  return { mem, ko: w.scratch, vo: w.scratch + 256 };
}

/** Operations on a key/value map: both faces, every CPU, flags BPF_ANY/NOEXIST/EXIST. */
function keyValueOp(r: Rng, m: number, keyOf: (r: Rng) => Uint8Array, valueSize: number, syscallValueSize: number): Op {
  const key = keyOf(r);
  const cpu = r.int(NR_CPUS);
  const flags = r.pick([0, 0, 0, 1, 2]);
  switch (r.int(8)) {
    case 0:
    case 1: {
      const value = bytes(r, syscallValueSize);
      return (w) => ['update', w.maps[m].update(key, value, flags, cpu)];
    }
    case 2: {
      const value = bytes(r, valueSize);
      return (w) => {
        const { mem, ko, vo } = inVm(w, key, value);
        return ['bpfUpdate', w.maps[m].bpfUpdate(mem, ko, mem, vo, flags, cpu)];
      };
    }
    case 3:
      // A program's lookup (sets an LRU entry's reference bit); the pointer itself differs per world.
      return (w) => {
        const { mem, ko } = inVm(w, key);
        return ['bpfLookup', relative(w, w.maps[m].bpfLookup(mem, ko, cpu))];
      };
    case 4:
      return (w) => ['delete', w.maps[m].delete(key)];
    case 5:
      return (w) => {
        const { mem, ko } = inVm(w, key);
        return ['bpfDelete', w.maps[m].bpfDelete(mem, ko, cpu)];
      };
    case 6:
      return (w) => ['read', show(w.maps[m].read(key))];
    default: {
      const from = r.next() < 0.2 ? undefined : key;
      return (w) => ['getNextKey', show(w.maps[m].getNextKey(from))];
    }
  }
}

interface Kind {
  name: string;
  defs: MapDefinition[];
  op(r: Rng): Op;
}

const u32Keys = (range: number) => (r: Rng) => u32(r.int(range));

function hashKind(name: string, d: MapDefinition, keyRange: number): Kind {
  const perCpu = /percpu/.test(name);
  const sys = perCpu ? NR_CPUS * ((d.valueSize + 7) & ~7) : d.valueSize;
  return { name, defs: [d], op: (r) => keyValueOp(r, 0, u32Keys(keyRange), d.valueSize, sys) };
}

const lpmKey = (r: Rng) => Uint8Array.of(r.int(33), 0, 0, 0, r.pick([10, 192]), r.int(4) * 64, r.int(3), r.int(256));

const KINDS: Kind[] = [
  hashKind('hash', def('hash', { maxEntries: 24 }), 40),
  hashKind('hash, BPF_F_NO_PREALLOC', def('hash', { maxEntries: 200, flags: BPF_F_NO_PREALLOC }), 260),
  hashKind('percpu_hash', def('percpu_hash', { maxEntries: 24 }), 40),
  hashKind('lru_hash', def('lru_hash', { maxEntries: 48 }), 120),
  hashKind('lru_hash, BPF_F_NO_COMMON_LRU', def('lru_hash', { maxEntries: 48, flags: BPF_F_NO_COMMON_LRU }), 120),
  hashKind('lru_percpu_hash', def('lru_percpu_hash', { maxEntries: 48 }), 120),
  hashKind('lru_percpu_hash, BPF_F_NO_COMMON_LRU', def('lru_percpu_hash', { maxEntries: 48, flags: BPF_F_NO_COMMON_LRU }), 120),
  hashKind('array', def('array', { maxEntries: 40, valueSize: 12 }), 44),
  hashKind('percpu_array', def('percpu_array', { maxEntries: 40, valueSize: 12 }), 44),
  {
    name: 'lpm_trie',
    defs: [def('lpm_trie', { keySize: 8, valueSize: 6, maxEntries: 40, flags: BPF_F_NO_PREALLOC })],
    op: (r) => keyValueOp(r, 0, lpmKey, 6, 6),
  },
  ...(['queue', 'stack'] as const).map(
    (t): Kind => ({
      name: t,
      defs: [def(t, { keySize: 0, valueSize: 4, maxEntries: 8 })],
      op(r) {
        const value = bytes(r, 4);
        const flags = r.pick([0, 0, 2]);
        const which = r.int(3);
        return (w) => {
          const q = w.maps[0] as QueueStackMap;
          if (which === 0) return ['push', q.update(new Uint8Array(0), value, flags)];
          return which === 1 ? ['pop', show(q.pop())] : ['peek', show(q.peek())];
        };
      },
    }),
  ),
  {
    name: 'ringbuf',
    defs: [def('ringbuf', { keySize: 0, valueSize: 0, maxEntries: 4096 })],
    op(r) {
      const size = 1 + r.int(700);
      const fill = bytes(r, Math.min(size, 16));
      const which = r.int(4);
      const discard = r.next() < 0.3;
      return (w) => {
        const rb = w.maps[0] as RingbufMap;
        rb.manual = true;
        if (which === 3) return ['consume', rb.consume(), rb.takeRecords().map((rec) => Array.from(rec.data))];
        const off = rb.reserve(size);
        if (off < 0) return ['reserve', -1, String(rb.query(0n))];
        // A reserved sample is not zeroed (bpf_ringbuf_reserve): its stale bytes are visible.
        const mem = w.machine.bytes();
        const stale = Array.from(mem.subarray(off, off + size));
        mem.set(fill, off);
        rb.commit(off, discard);
        return ['reserve', off - rb.dataOff, stale];
      };
    },
  },
  {
    name: 'prog_array',
    defs: [def('prog_array', { valueSize: 4, maxEntries: 12 })],
    op: (r) => {
      const key = u32(r.int(14));
      const id = u32(1 + r.int(5));
      const which = r.int(3);
      return (w) => (which === 0 ? ['update', w.maps[0].update(key, id)] : which === 1 ? ['delete', w.maps[0].delete(key)] : ['read', show(w.maps[0].read(key))]);
    },
  },
  ...(['array_of_maps', 'hash_of_maps'] as const).map(
    (t): Kind => {
      const inner = def('array', { maxEntries: 2, name: 'inner' });
      return {
        name: t,
        defs: [inner, { ...inner, name: 'inner2' }, def(t, { valueSize: 4, maxEntries: 6, innerMap: inner, name: 'outer' })],
        op: (r) => {
          const key = u32(r.int(8));
          const innerIndex = r.int(2);
          const which = r.int(4);
          return (w) => {
            const outer = w.maps[2];
            if (which === 0) return ['update', outer.update(key, u32(w.maps[innerIndex].id))];
            if (which === 1) return ['delete', outer.delete(key)];
            if (which === 2) return ['read', show(outer.read(key))];
            // A lookup gives the inner map itself: the same map (by position) in every world.
            const { mem, ko } = inVm(w, key);
            const handle = outer.bpfLookup(mem, ko, 0);
            return ['bpfLookup', w.maps.findIndex((m) => m.handle === handle)];
          };
        },
      };
    },
  ),
  {
    name: 'perf_event_array',
    defs: [def('perf_event_array', { valueSize: 4, maxEntries: 6 })],
    op: (r) => {
      const key = u32(r.int(7));
      const cpu = u32(r.int(NR_CPUS));
      const which = r.int(3);
      return (w) => (which === 0 ? ['update', w.maps[0].update(key, cpu)] : which === 1 ? ['delete', w.maps[0].delete(key)] : ['read', show(w.maps[0].read(key))]);
    },
  },
];

const roundTrip = (s: MapState): MapState => unpack(pack(s)) as MapState;
const run = (r: Rng, kind: Kind, n: number, worlds: World[]) => {
  const seen: unknown[][] = worlds.map(() => []);
  for (let i = 0; i < n; i++) {
    const op = kind.op(r);
    worlds.forEach((w, k) => seen[k].push(op(w)));
  }
  return seen;
};
const contents = (w: World) => w.maps.map((m) => m.entries().map((e) => [show(e.key), show(e.value)]));

describe('restored map states continue as the original', () => {
  for (const kind of KINDS) {
    it(`${kind.name}: every later operation gives the original's result, on random histories`, async () => {
      for (let seed = 1; seed <= 4; seed++) {
        const r = rng(seed * 7919 + kind.name.length);
        const original = await world(kind.defs, 0);
        run(r, kind, 150 + r.int(300), [original]);
        const states = original.maps.map((m) => roundTrip(m.saveState()));
        // One restored into fresh maps, one into maps that have since had a history of their own.
        const fresh = await world(kind.defs, 4096 + seed * 8);
        const diverged = await world(kind.defs, 777);
        run(rng(seed + 1000), kind, 300, [diverged]);
        for (const w of [fresh, diverged]) w.maps.forEach((m, i) => m.restoreState(states[i]));
        expect(contents(fresh)).toEqual(contents(original));
        expect(contents(diverged)).toEqual(contents(original));
        const [a, b, c] = run(r, kind, 400, [original, fresh, diverged]);
        expect(b).toEqual(a);
        expect(c).toEqual(a);
        expect(contents(fresh)).toEqual(contents(original));
        expect(contents(diverged)).toEqual(contents(original));
      }
    });
  }

  it('a state holds the live elements, not the preallocated memory', async () => {
    const d = def('lru_hash', { maxEntries: 65536, valueSize: 64 });
    const w = await world([d], 0);
    for (let k = 0; k < 10; k++) w.maps[0].update(u32(k), new Uint8Array(64).fill(k + 1));
    const size = pack(w.maps[0].saveState()).length;
    // 10 elements of 72 bytes, plus a few runs per LRU list: far below the 4.5 MB preallocated.
    expect(size).toBeLessThan(4096);
    const array = await world([def('array', { maxEntries: 100_000, valueSize: 8 })], 0);
    array.maps[0].update(u32(50_000), new Uint8Array(8).fill(9));
    expect(pack(array.maps[0].saveState()).length).toBeLessThan(512);
  });

  it('refuses a state whose elements do not fit the map, naming what', async () => {
    const w = await world([def('hash', { maxEntries: 8 })], 0);
    for (let k = 0; k < 4; k++) w.maps[0].update(u32(k), new Uint8Array(8));
    const state = roundTrip(w.maps[0].saveState());
    const body = state.body as MapState;
    const other = await world([def('hash', { maxEntries: 8 })], 0);
    expect(() => other.maps[0].restoreState({ ...state, body: { ...body, data: new Uint8Array(3) } })).toThrow(/4 elements need 64 bytes of values, got 3/);
    expect(() => other.maps[0].restoreState({ ...state, maxEntries: 9 })).toThrow(/maxEntries 9 \(this map has 8\)/);
  });
});

describe('sparse encodings', () => {
  it('runs give back any sequence, an untouched free list as one pair', () => {
    const r = rng(5);
    const seqs = [[], [7], [5, 4, 3, 2, 1, 0], [1, 2, 3, 9, 8, 7, 7, 7, 0, 1], Array.from({ length: 300 }, () => r.int(20))];
    for (const seq of seqs) expect(decodeRuns('test', unpack(pack(encodeRuns(seq))), 1000)).toEqual(seq);
    expect(encodeRuns(Array.from({ length: 65536 }, (_, i) => 65535 - i)).length).toBe(8);
    expect(() => decodeRuns('test', encodeRuns([1, 2, 3]), 2)).toThrow(/test: more than 2 values/);
  });

  it('non-zero ranges give back the bytes and zero the rest', () => {
    const r = rng(9);
    for (let t = 0; t < 50; t++) {
      const src = new Uint8Array(1 + r.int(400));
      for (let i = 0; i < r.int(30); i++) src.fill(1 + r.int(255), r.int(src.length), r.int(src.length + 1));
      const into = new Uint8Array(src.length).fill(0xaa);
      restoreNonZero('test', into, unpack(pack(saveNonZero(src))));
      expect(into).toEqual(src);
    }
    expect(() => restoreNonZero('values', new Uint8Array(8), saveNonZero(new Uint8Array(9)))).toThrow(/values: got 9 bytes, expected 8 bytes/);
  });
});
