import { describe, expect, it } from 'vitest';
import { MapDefinitionError } from '../../src/maps/base.js';
import { E2BIG, EBADF, EEXIST, EINVAL, ENOENT } from '../../src/maps/errno.js';
import { HashMap } from '../../src/maps/hash.js';
import { BPF_EXIST, BPF_F_LOCK, BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_NOEXIST } from '../../src/maps/uapi.js';
import { runLruScript } from './lru-script.js';
import { def, env, keysOf, readU32, readU64, u32, u64 } from './setup.js';

describe('hash maps', () => {
  it('hash update then read returns the value; a missing key reads as undefined', async () => {
    const { make } = await env();
    const m = make(def('hash'));
    expect(m.update(u32(7), u64(70))).toBe(0);
    expect(readU64(m.read(u32(7)))).toBe(70n);
    expect(m.read(u32(8))).toBeUndefined();
  });

  it('hash update with BPF_NOEXIST on an existing key returns -EEXIST', async () => {
    const { make } = await env();
    const m = make(def('hash'));
    expect(m.update(u32(1), u64(1), BPF_NOEXIST)).toBe(0);
    expect(m.update(u32(1), u64(2), BPF_NOEXIST)).toBe(-EEXIST);
    expect(readU64(m.read(u32(1)))).toBe(1n);
  });

  it('hash update with BPF_EXIST on a missing key returns -ENOENT', async () => {
    const { make } = await env();
    const m = make(def('hash'));
    expect(m.update(u32(1), u64(1), BPF_EXIST)).toBe(-ENOENT);
    expect(m.read(u32(1))).toBeUndefined();
    m.update(u32(1), u64(1));
    expect(m.update(u32(1), u64(3), BPF_EXIST)).toBe(0);
    expect(readU64(m.read(u32(1)))).toBe(3n);
  });

  it('hash update with unknown flags returns -EINVAL, and BPF_F_LOCK without a spin lock too', async () => {
    const { make } = await env();
    const m = make(def('hash'));
    expect(m.update(u32(1), u64(1), 3)).toBe(-EINVAL);
    expect(m.update(u32(1), u64(1), 16)).toBe(-EINVAL);
    expect(m.update(u32(1), u64(1), BPF_F_LOCK)).toBe(-EINVAL);
  });

  it('a full hash map refuses a new key with -E2BIG but still replaces existing keys', async () => {
    for (const flags of [0, BPF_F_NO_PREALLOC]) {
      const { make } = await env({ nrCpus: 2 });
      const m = make(def('hash', { maxEntries: 4, flags }));
      for (let k = 0; k < 4; k++) expect(m.update(u32(k), u64(k))).toBe(0);
      expect(m.update(u32(4), u64(4))).toBe(-E2BIG);
      for (let round = 0; round < 3; round++) expect(m.update(u32(2), u64(20 + round))).toBe(0);
      expect(readU64(m.read(u32(2)))).toBe(22n);
      expect(m.delete(u32(0))).toBe(0);
      expect(m.update(u32(4), u64(4))).toBe(0);
      expect(keysOf(m)).toEqual([1, 2, 3, 4]);
    }
  });

  it('hash delete of a missing key returns -ENOENT', async () => {
    const { make } = await env();
    const m = make(def('hash'));
    expect(m.delete(u32(5))).toBe(-ENOENT);
    m.update(u32(5), u64(5));
    expect(m.delete(u32(5))).toBe(0);
    expect(m.delete(u32(5))).toBe(-ENOENT);
  });

  it('get_next_key visits every key once, starts over for an unknown key, and ends with undefined', async () => {
    const { make } = await env();
    const m = make(def('hash', { maxEntries: 64 }));
    for (let k = 0; k < 40; k++) m.update(u32(k * 7), u64(k));
    const seen: number[] = [];
    let key = m.getNextKey();
    while (key) {
      seen.push(readU32(key)!);
      key = m.getNextKey(key);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, k) => k * 7));
    expect(m.getNextKey(u32(1))).toEqual(m.getNextKey());
  });

  it('a value pointer stays valid while its element exists and sees later in-place writes', async () => {
    const { make, machine } = await env();
    const m = make(def('hash', { valueSize: 16, flags: BPF_F_NO_PREALLOC, maxEntries: 1000 }));
    m.update(u32(1), new Uint8Array(16));
    const off = m.lookup(u32(1))!;
    // Growing the map (NO_PREALLOC allocates on demand) must not move existing elements.
    for (let k = 2; k < 900; k++) m.update(u32(k), new Uint8Array(16));
    expect(m.lookup(u32(1))).toBe(off);
    new DataView(machine.bytes().buffer).setUint32(off + 4, 0xdead, true);
    expect(readU32(m.read(u32(1)), 4)).toBe(0xdead);
  });

  it('replacing a key installs a new element, as the kernel\'s htab_map_update_elem does', async () => {
    const { make } = await env();
    const m = make(def('hash'));
    m.update(u32(1), u64(1));
    const before = m.lookup(u32(1));
    m.update(u32(1), u64(2));
    expect(m.lookup(u32(1))).not.toBe(before);
  });

  it('BPF_F_LOCK updates an existing value in place, keeping its lock word', async () => {
    const { make, machine } = await env();
    const m = make(def('hash', { valueSize: 16, spinLockOffset: 8 }));
    m.update(u32(1), new Uint8Array(16));
    const off = m.lookup(u32(1))!;
    new DataView(machine.bytes().buffer).setUint32(off + 8, 1, true);
    expect(m.update(u32(1), new Uint8Array(16).fill(3), BPF_F_LOCK)).toBe(0);
    expect(m.lookup(u32(1))).toBe(off);
    expect(Array.from(m.read(u32(1))!)).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 1, 0, 0, 0, 3, 3, 3, 3]);
  });

  it('percpu hash: a new key from a program sets its CPU\'s value and zeroes the others', async () => {
    const { make, machine } = await env({ nrCpus: 2 });
    const m = make(def('percpu_hash', { valueSize: 4 }));
    m.update(u32(1), new Uint8Array(16).fill(9)); // host: both CPUs = 0x09090909
    const buf = machine.alloc(16);
    const dv = new DataView(machine.bytes().buffer);
    dv.setUint32(buf, 2, true);
    dv.setUint32(buf + 8, 42, true);
    expect(m.bpfUpdate(machine.bytes(), buf, machine.bytes(), buf + 8, 0, 1)).toBe(0);
    expect(readU32(m.read(u32(2)), 0)).toBe(0);
    expect(readU32(m.read(u32(2)), 8)).toBe(42);
    // An existing key is updated in place, for that CPU only.
    dv.setUint32(buf, 1, true);
    expect(m.bpfUpdate(machine.bytes(), buf, machine.bytes(), buf + 8, 0, 0)).toBe(0);
    expect(readU32(m.read(u32(1)), 0)).toBe(42);
    expect(readU32(m.read(u32(1)), 8)).toBe(0x09090909);
  });

  it('percpu hash: a recycled element\'s other CPUs read zero, with or without preallocation (kernel)', async () => {
    // Recorded on Linux 6.18, 2 CPUs, with oracle/lru-oracle.c: the host writes key 1 on every
    // CPU and deletes it; a program on CPU 1 then adds key 2 (value 2), reusing that element.
    for (const flags of [0, BPF_F_NO_PREALLOC]) {
      const script = `create 5 4 ${flags} su 1 d 1 cpu 1 u 2 0 pr 2 su 3 cpu 0 u 3 0 pr 3 dump`;
      expect(await runLruScript(script, 2)).toBe('0 0 0 \nvalue 2: 0 2\n0 0 \nvalue 3: 3 3\n\nkeys: 2 3\n');
    }
  });

  it('percpu hash refuses BPF_F_LOCK with -EINVAL', async () => {
    const { make } = await env({ nrCpus: 2 });
    const m = make(def('percpu_hash', { valueSize: 8 }));
    expect(m.update(u32(1), new Uint8Array(16), BPF_F_LOCK)).toBe(-EINVAL);
  });

  it('for_each visits every element with its key and value, and stops when the callback says so', async () => {
    const { make, machine } = await env();
    const m = make(def('hash'));
    for (let k = 0; k < 5; k++) m.update(u32(k), u64(k * 10));
    const pairs: [number, bigint][] = [];
    const n = m.forEach(0, (ko, vo) => {
      const dv = new DataView(machine.bytes().buffer);
      pairs.push([dv.getUint32(ko, true), dv.getBigUint64(vo, true)]);
      return false;
    });
    expect(n).toBe(5);
    expect(pairs.sort((a, b) => a[0] - b[0])).toEqual([0, 1, 2, 3, 4].map((k) => [k, BigInt(k * 10)]));
    let calls = 0;
    expect(m.forEach(0, () => ++calls === 2)).toBe(2);
  });

  it('hash of maps: the host stores inner map ids, a program\'s lookup returns the inner map', async () => {
    const { make, registry } = await env();
    const innerDef = def('array', { maxEntries: 2 });
    const outer = make(def('hash_of_maps', { valueSize: 4, innerMap: innerDef }));
    const inner = make(innerDef);
    const wrongSize = make(def('array', { maxEntries: 3 }));
    expect(outer.update(u32(1), u32(inner.id))).toBe(0);
    expect(outer.update(u32(2), u32(wrongSize.id))).toBe(-EINVAL);
    expect(outer.update(u32(2), u32(999))).toBe(-EBADF);
    expect(readU32(outer.read(u32(1)))).toBe(inner.id);
    const key = u32(1);
    expect(registry.byHandle(outer.bpfLookup(key, 0, 0))).toBe(inner);
  });

  it('hash creation refuses zero sizes and BPF_F_NO_COMMON_LRU on a non-LRU map', async () => {
    const { make } = await env();
    expect(() => make(def('hash', { keySize: 0 }))).toThrow(MapDefinitionError);
    expect(() => make(def('hash', { flags: BPF_F_NO_COMMON_LRU }))).toThrow(/only for LRU/);
    expect(() => make(def('lru_hash', { flags: BPF_F_NO_PREALLOC }))).toThrow(/preallocated/);
  });

  it('the map\'s memory is one VM region named after the map', async () => {
    const { make, machine } = await env();
    const m = make(def('hash', { name: 'ct_map' })) as HashMap;
    expect(machine.regions().filter((r) => r.name === 'map value of ct_map')).toHaveLength(1);
    expect(m.nBuckets).toBe(16);
  });
});
