// LRU maps, checked against what the kernel did. Every expected result in this file was recorded
// on Linux 6.18 with 2 possible CPUs by oracle/lru-oracle.c (each operation run from a BPF
// program on a pinned CPU), and oracle/lru-kernel-runs.json holds longer recorded runs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EEXIST, EINVAL } from '../../src/maps/errno.js';
import { BPF_F_LOCK, BPF_F_NO_COMMON_LRU } from '../../src/maps/uapi.js';
import { runLruScript } from './lru-script.js';
import { def, env, keysOf, readU64, u32, u64 } from './setup.js';

const fill8 = 'u 1 0 u 2 0 u 3 0 u 4 0 u 5 0 u 6 0 u 7 0 u 8 0';
const survivors = async (script: string): Promise<string> => {
  const out = await runLruScript(script, 2);
  return out.slice(out.lastIndexOf('keys:') + 5).trim();
};

describe('LRU hash maps (common LRU)', () => {
  it('lru hash evicts the least recently used entries when full, target_free (max / cpus / 2) at a time', async () => {
    expect(await survivors(`create 9 8 0 ${fill8} u 9 0 dump`)).toBe('3 4 5 6 7 8 9');
  });

  it('a lookup from a program refreshes an LRU entry', async () => {
    expect(await survivors(`create 9 8 0 ${fill8} l 1 l 2 u 9 0 dump`)).toBe('1 2 5 6 7 8 9');
  });

  it('a host lookup (syscall) does not refresh an LRU entry', async () => {
    const { make } = await env({ nrCpus: 2 });
    const m = make(def('lru_hash', { maxEntries: 8 }));
    for (let k = 1; k <= 8; k++) m.update(u32(k), u64(k));
    expect(readU64(m.read(u32(1)))).toBe(1n);
    m.lookup(u32(2));
    m.update(u32(9), u64(9));
    expect(keysOf(m)).toEqual([3, 4, 5, 6, 7, 8, 9]);
  });

  it('replacing a key in a full LRU map takes a new element first, so it can evict others', async () => {
    expect(await survivors(`create 9 8 0 ${fill8} u 8 0 dump`)).toBe('3 4 5 6 7 8');
  });

  it('an update that fails with -EEXIST has already evicted entries to get its element', async () => {
    const out = await runLruScript(`create 9 8 0 ${fill8} u 8 1 dump`, 2);
    expect(out).toBe('0 0 0 0 0 0 0 0 -17 \nkeys: 3 4 5 6 7 8\n');
    expect(-EEXIST).toBe(-17);
  });

  it('a CPU with an empty free list steals from the global list, evicting across CPUs', async () => {
    expect(await survivors(`create 9 8 0 u 1 0 u 2 0 u 3 0 u 4 0 cpu 1 u 5 0 u 6 0 u 7 0 u 8 0 u 9 0 dump`)).toBe('3 4 5 6 7 8 9');
  });

  it('LRU updates refuse BPF_F_LOCK and unknown flags with -EINVAL', async () => {
    expect(await runLruScript('create 9 8 0 u 1 4 u 1 0 u 1 2 dump', 2)).toBe('-22 0 0 \nkeys: 1\n');
    const { make } = await env();
    const m = make(def('lru_hash', { valueSize: 8 }));
    expect(m.update(u32(1), u64(1), BPF_F_LOCK)).toBe(-EINVAL);
    expect(() => make(def('lru_hash', { valueSize: 8, spinLockOffset: 0 }))).toThrow(/bpf_spin_lock is only allowed in the values of hash and array maps/);
  });
});

describe('LRU hash maps with BPF_F_NO_COMMON_LRU', () => {
  it('each CPU evicts only from its own list, PERCPU_FREE_TARGET (4) at a time', async () => {
    expect(await survivors(`create 9 8 2 u 1 0 u 2 0 u 3 0 u 4 0 cpu 1 u 5 0 u 6 0 u 7 0 u 8 0 cpu 0 u 9 0 dump`)).toBe('5 6 7 8 9');
  });

  it('max_entries is rounded up to a multiple of the CPU count, split evenly between CPUs', async () => {
    expect(await survivors('create 9 7 2 u 1 0 u 2 0 u 3 0 u 4 0 u 5 0 dump')).toBe('5');
    const { make } = await env({ nrCpus: 2 });
    expect(make(def('lru_hash', { maxEntries: 7, flags: BPF_F_NO_COMMON_LRU })).maxEntries).toBe(8);
  });
});

describe('LRU per-CPU hash maps', () => {
  it('a program update of an existing key changes its CPU\'s value in place', async () => {
    const { make, machine } = await env({ nrCpus: 2 });
    const m = make(def('lru_percpu_hash', { maxEntries: 8 }));
    m.update(u32(1), new Uint8Array(16).fill(1));
    const buf = machine.alloc(16);
    const dv = new DataView(machine.bytes().buffer);
    dv.setUint32(buf, 1, true);
    dv.setBigUint64(buf + 8, 99n, true);
    const before = m.lookup(u32(1), 1);
    expect(m.bpfUpdate(machine.bytes(), buf, machine.bytes(), buf + 8, 0, 1)).toBe(0);
    expect(m.lookup(u32(1), 1)).toBe(before);
    expect(readU64(m.read(u32(1)), 0)).toBe(0x0101010101010101n);
    expect(readU64(m.read(u32(1)), 8)).toBe(99n);
  });

  it('an update that may add a key takes an element first; BPF_EXIST does not', async () => {
    const fill = 'create 10 8 0 su 1 su 2 su 3 su 4 su 5 su 6 su 7 su 8 cpu 1';
    expect(await survivors(`${fill} u 1 0 su 9 dump`)).toBe('1 3 4 5 6 7 8 9');
    expect(await survivors(`${fill} u 1 2 su 9 dump`)).toBe('1 4 5 6 7 8 9');
  });
});

describe('LRU maps replay the kernel\'s recorded runs', () => {
  const recorded = JSON.parse(readFileSync(new URL('./oracle/lru-kernel-runs.json', import.meta.url), 'utf8')) as {
    kernel: string;
    nrCpus: number;
    runs: { name: string; script: string; kernel: string }[];
  };
  for (const run of recorded.runs) {
    it(`${run.name}: same results and survivors as Linux ${recorded.kernel}`, async () => {
      expect(await runLruScript(run.script, recorded.nrCpus)).toBe(run.kernel);
    });
  }
});
