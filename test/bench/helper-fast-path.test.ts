// The fast helper path (Machine.setFastHelper: registers read as 32-bit halves, no BigInt, keys
// hashed and compared a word at a time, small copies without subarray) must behave exactly like
// the BigInt path it replaces: same r0, same faults, same map contents. Each case runs the same
// program on two identical machines, one with the map helpers on the fast path and one on the
// generic HostHelper path with maps that see the memory through a fresh view per call (so they
// hash and compare keys byte by byte and copy with set()), and compares everything.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { installMapHelpers, MAP_HELPERS, type HelperHost, type MapHelperEnv } from '../../src/helpers/map-helpers.js';
import { bytesEqual, copyBytes, equalAligned, hashAligned, hashBytes } from '../../src/maps/bytes.js';
import { createMap, MAP_HANDLE_BASE, MAP_HANDLE_STRIDE, MapRegistry } from '../../src/maps/registry.js';
import type { BpfMap, MapDefinition, MapMemory } from '../../src/maps/types.js';
import { BPF_F_RDONLY_PROG, BPF_MAP_TYPE } from '../../src/maps/uapi.js';
import { Machine } from '../../src/vm/machine.js';

/** xorshift32: the same pseudo-random cases every run. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

const T = BPF_MAP_TYPE;
const DEFS: MapDefinition[] = [
  { name: 'flows', type: T.BPF_MAP_TYPE_HASH, keySize: 16, valueSize: 16, maxEntries: 8, flags: 0 },
  { name: 'lru', type: T.BPF_MAP_TYPE_LRU_HASH, keySize: 16, valueSize: 16, maxEntries: 8, flags: 0 },
  { name: 'odd', type: T.BPF_MAP_TYPE_HASH, keySize: 7, valueSize: 5, maxEntries: 8, flags: 0 },
  { name: 'array', type: T.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 16, maxEntries: 8, flags: 0 },
  { name: 'pcpu', type: T.BPF_MAP_TYPE_PERCPU_HASH, keySize: 16, valueSize: 16, maxEntries: 8, flags: 0 },
  { name: 'ro', type: T.BPF_MAP_TYPE_HASH, keySize: 16, valueSize: 16, maxEntries: 8, flags: BPF_F_RDONLY_PROG },
];

interface Side {
  machine: Machine;
  maps: BpfMap[];
  run(text: string): { r0: bigint; fault?: string };
}

/** The Machine as MapMemory, but with a new view object per bytes() call, as before the fast path. */
function freshViews(machine: Machine): MapMemory {
  return {
    alloc: (size, align) => machine.alloc(size, align),
    free: (off) => machine.free(off),
    bytes: () => new Uint8Array(machine.bytes().buffer),
    toVirtual: (off) => machine.toVirtual(off),
    toOffset: (addr) => machine.toOffset(addr),
    addRegion: (off, len, opts) => machine.addRegion(off, len, opts),
    removeRegion: (id) => machine.removeRegion(id),
  };
}

async function side(fast: boolean): Promise<Side> {
  const machine = await Machine.create();
  const registry = new MapRegistry();
  const mem = fast ? machine : freshViews(machine);
  const maps = DEFS.map((d) => createMap(mem, d, { registry, nrCpus: 2 }));
  const env: MapHelperEnv = { mem, maps: registry, cpu: 1, nrCpus: 2 };
  // Without setFastHelper, installMapHelpers registers the generic (BigInt) helpers.
  const host: HelperHost = fast
    ? machine
    : {
        setHelper: (id, fn) => machine.setHelper(id, fn),
        resolveCodeAddress: (a) => machine.resolveCodeAddress(a),
        callSubprogram: (p, i, a) => machine.callSubprogram(p, i, a),
      };
  installMapHelpers(host, env);
  return {
    machine,
    maps,
    run(text) {
      const prog = machine.loadProgram(assemble(text), { name: 'case', helpers: new Set(MAP_HELPERS.keys()) });
      const r = machine.run(prog);
      return r.fault ? { r0: r.r0, fault: r.fault.message } : { r0: r.r0 };
    },
  };
}

const h = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

/** Stores `bytes` at r10 + off byte by byte (any alignment) and leaves r`reg` pointing at them. */
function bytesOnStack(bytes: number[], off: number, reg: number): string {
  const lines = bytes.map((b, i) => `stb [%r10${off + i >= 0 ? '+' : ''}${off + i}], ${b}`);
  return [...lines, `mov %r${reg}, %r10`, `add %r${reg}, ${off}`].join('\n');
}

/** One random map helper call: the op, its map and arguments, including ones the verifier would refuse. */
function randomCall(next: () => number, handles: bigint[]): string {
  const mapIndex = next() % DEFS.length;
  const d = DEFS[mapIndex];
  const keyByte = next() % 12; // few distinct keys: hits, misses, replacements, LRU evictions
  const key = Array.from({ length: d.keySize }, (_, i) => (i === 0 ? keyByte : (i * 7) & 0xff));
  const value = Array.from({ length: 16 }, () => next() & 0xff);
  // Mostly aligned keys (a program's stack slot), sometimes not.
  const keyOff = next() % 4 === 0 ? -19 - (next() % 3) : -24;
  let r1 = `lddw %r1, ${h(handles[mapIndex])}`;
  const oddity = next() % 16;
  if (oddity === 0) r1 = `lddw %r1, ${h(handles[mapIndex] + 8n)}`; // not a map
  if (oddity === 1) r1 = `lddw %r1, ${h(MAP_HANDLE_BASE + 4096n * MAP_HANDLE_STRIDE)}`; // no such map
  let r2 = bytesOnStack(key, keyOff, 2);
  if (oddity === 2) r2 = 'mov %r2, 0'; // NULL key
  if (oddity === 3) r2 = 'lddw %r2, 0xffff8880fffffff0'; // past the VM memory
  const op = next() % 3;
  if (op === 0) return `${r1}\n${r2}\ncall 1\njeq %r0, 0, out\nldxdw %r0, [%r0]\nout:\nexit`;
  if (op === 2) return `${r1}\n${r2}\ncall 3\nexit`;
  const flags = [0n, 1n, 2n, 3n, 1n << 32n, 4n][next() % 6];
  return `${r1}\n${r2}\n${bytesOnStack(value, -48, 3)}\nlddw %r4, ${h(flags)}\ncall 2\nexit`;
}

function contents(maps: BpfMap[]): unknown {
  return maps.map((m) => m.entries().map((e) => [Array.from(e.key), Array.from(e.value), e.perCpu?.map((v) => Array.from(v))]));
}

describe('map helpers on the fast path', () => {
  it('give the same r0, faults and map contents as the BigInt path over random calls', async () => {
    const fast = await side(true);
    const slow = await side(false);
    const handles = fast.maps.map((m) => m.handle);
    expect(slow.maps.map((m) => m.handle)).toEqual(handles);
    const next = prng(0x5eed);
    let faults = 0;
    let errors = 0;
    for (let i = 0; i < 400; i++) {
      const text = randomCall(next, handles);
      const a = fast.run(text);
      const b = slow.run(text);
      expect(a, text).toEqual(b);
      if (a.fault) faults++;
      else if (a.r0 >> 63n) errors++;
    }
    expect(contents(fast.maps)).toEqual(contents(slow.maps));
    // The cases did reach the unusual paths.
    expect(faults).toBeGreaterThan(20);
    expect(errors).toBeGreaterThan(20);
  });

  it('see memory that grew during the run (a NO_PREALLOC map allocating) through fresh views', async () => {
    const machine = await Machine.create();
    const registry = new MapRegistry();
    const m = createMap(machine, { name: 'big', type: T.BPF_MAP_TYPE_HASH, keySize: 16, valueSize: 4096, maxEntries: 4096, flags: 1 }, { registry });
    installMapHelpers(machine, { mem: machine, maps: registry, cpu: 0, nrCpus: 1 });
    const before = machine.bytes().length;
    const prog = machine.loadProgram(
      assemble(`
        mov %r6, 0
      loop:
        stxw [%r10-16], %r6
        stdw [%r10-12], 0
        stw [%r10-4], 0
        stdw [%r10-24], 7
        lddw %r1, ${h(m.handle)}
        mov %r2, %r10
        add %r2, -16
        mov %r3, %r10
        add %r3, -24
        mov %r4, 0
        call 2
        jne %r0, 0, out
        add %r6, 1
        jlt %r6, 600, loop
        lddw %r1, ${h(m.handle)}
        mov %r2, %r10
        add %r2, -16
        call 1
        ldxdw %r0, [%r0]
      out:
        exit`),
      { name: 'grow', helpers: new Set(MAP_HELPERS.keys()) },
    );
    const r = machine.run(prog, [], { budget: 100_000 });
    expect(r.fault?.message).toBeUndefined();
    expect(machine.bytes().length).toBeGreaterThan(before);
    expect(r.r0).toBe(7n);
    expect(m.entries().length).toBe(600);
  });
});

describe('the fast path building blocks', () => {
  it('hashAligned equals hashBytes for every key length and aligned offset', () => {
    const next = prng(7);
    const buf = new Uint8Array(256).map(() => next() & 0xff);
    const words = new Int32Array(buf.buffer);
    for (let len = 1; len <= 40; len++) {
      for (let off = 0; off + len <= 128; off += 4) expect(hashAligned(words, buf, off, len)).toBe(hashBytes(buf, off, len));
    }
  });

  it('equalAligned agrees with bytesEqual, including a difference in the last, partial word', () => {
    const buf = new Uint8Array(128);
    const words = new Int32Array(buf.buffer);
    for (let len = 1; len <= 23; len++) {
      for (let diff = -1; diff < len; diff++) {
        buf.fill(0x5a);
        if (diff >= 0) buf[64 + diff] ^= 1;
        expect(equalAligned(words, buf, 0, 64, len)).toBe(bytesEqual(buf, 0, buf, 64, len));
        expect(equalAligned(words, buf, 0, 64, len)).toBe(diff < 0);
      }
    }
  });

  it('copyBytes copies like memmove, within one view (overlapping both ways) and between views', () => {
    for (const len of [0, 1, 5, 16, 64, 65, 200]) {
      for (const [from, to] of [
        [0, 3],
        [3, 0],
        [10, 10],
        [100, 7],
      ]) {
        const buf = new Uint8Array(512).map((_, i) => (i * 13) & 0xff);
        const expected = buf.slice();
        expected.set(buf.slice(from, from + len), to);
        copyBytes(buf, to, buf, from, len);
        expect(Array.from(buf)).toEqual(Array.from(expected));
      }
    }
    const src = Uint8Array.of(1, 2, 3, 4);
    const dst = new Uint8Array(6);
    copyBytes(dst, 1, src, 1, 3);
    expect(Array.from(dst)).toEqual([0, 2, 3, 4, 0, 0]);
  });

  it('MapRegistry.byHandleParts finds exactly the maps byHandle finds', async () => {
    const machine = await Machine.create();
    const registry = new MapRegistry();
    const maps = [0, 1, 2].map((i) => createMap(machine, { name: `m${i}`, type: T.BPF_MAP_TYPE_ARRAY, keySize: 4, valueSize: 8, maxEntries: 1, flags: 0 }, { registry }));
    registry.remove(maps[1]);
    const candidates = [0n, MAP_HANDLE_BASE, MAP_HANDLE_BASE - MAP_HANDLE_STRIDE, 0xffff_8880_0000_1000n, (1n << 64n) - 1n];
    for (let id = 0n; id < 6n; id++) {
      const handle = MAP_HANDLE_BASE + id * MAP_HANDLE_STRIDE;
      candidates.push(handle, handle + 1n, handle + 8n, handle + (1n << 32n));
    }
    for (const c of candidates) {
      const parts = registry.byHandleParts(Number(c & 0xffff_ffffn), Number(c >> 32n));
      expect(parts, h(c)).toBe(registry.byHandle(c));
    }
    expect(registry.byHandleParts(Number(maps[2].handle & 0xffff_ffffn), Number(maps[2].handle >> 32n))).toBe(maps[2]);
  });

  it('Machine.setFastHelper hands the helper r1..r5 as halves and takes r0 from it', async () => {
    const machine = await Machine.create();
    const seen: [number, number, bigint][] = [];
    machine.setFastHelper(7, (a) => {
      for (let i = 1; i <= 5; i++) seen.push([a.lo(i), a.hi(i), a.big(i)]);
      a.setR0(0x89abcdef, 0x01234567);
    });
    machine.setFastHelper(8, (a) => a.setR0Big(-2n));
    const prog = machine.loadProgram(assemble('lddw %r1, 0xfedcba9876543210\nmov %r2, -1\nmov %r3, 0\nmov %r4, 5\nlddw %r5, 0x100000000\ncall 7\nexit'), { name: 'p', helpers: new Set([7, 8]) });
    expect(machine.run(prog).r0).toBe(0x0123456789abcdefn);
    expect(seen).toEqual([
      [0x76543210, 0xfedcba98, 0xfedcba9876543210n],
      [0xffffffff, 0xffffffff, 0xffffffffffffffffn],
      [0, 0, 0n],
      [5, 0, 5n],
      [0, 1, 0x100000000n],
    ]);
    const other = machine.loadProgram(assemble('call 8\nexit'), { name: 'q', helpers: new Set([7, 8]) });
    expect(machine.run(other).r0).toBe(0xffff_ffff_ffff_fffen);
    // A later setHelper replaces the fast helper.
    machine.setHelper(8, () => 3n);
    expect(machine.run(other).r0).toBe(3n);
  });
});
