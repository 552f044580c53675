import { describe, expect, it } from 'vitest';
import { ArrayMap } from '../../src/maps/array.js';
import { MapDefinitionError } from '../../src/maps/base.js';
import { E2BIG, EEXIST, EINVAL, EPERM } from '../../src/maps/errno.js';
import { BPF_ANY, BPF_EXIST, BPF_F_LOCK, BPF_F_RDONLY_PROG, BPF_NOEXIST } from '../../src/maps/uapi.js';
import { def, env, readU64, u32, u64 } from './setup.js';

describe('array maps', () => {
  it('array elements exist from creation and read as zero', async () => {
    const { make } = await env();
    const m = make(def('array', { maxEntries: 4 }));
    expect(readU64(m.read(u32(3)))).toBe(0n);
    expect(m.entries().map((e) => e.key[0])).toEqual([0, 1, 2, 3]);
  });

  it('array update then read returns the value, and lookup points at it in VM memory', async () => {
    const { make, machine } = await env();
    const m = make(def('array', { maxEntries: 4 }));
    expect(m.update(u32(2), u64(0x1122334455n))).toBe(0);
    const off = m.lookup(u32(2))!;
    expect(readU64(machine.bytes().slice(off, off + 8))).toBe(0x1122334455n);
    // A write through the pointer is what later reads see.
    new DataView(machine.bytes().buffer).setBigUint64(off, 77n, true);
    expect(readU64(m.read(u32(2)))).toBe(77n);
  });

  it('array update past max_entries returns -E2BIG and a lookup there gives NULL', async () => {
    const { make, machine } = await env();
    const m = make(def('array', { maxEntries: 4 }));
    expect(m.update(u32(4), u64(1))).toBe(-E2BIG);
    expect(m.lookup(u32(4))).toBeUndefined();
    expect(m.read(u32(4))).toBeUndefined();
    const key = machine.alloc(4);
    new DataView(machine.bytes().buffer).setUint32(key, 4, true);
    expect(m.bpfLookup(machine.bytes(), key, 0)).toBe(0n);
  });

  it('array update with BPF_NOEXIST returns -EEXIST (every element already exists)', async () => {
    const { make } = await env();
    const m = make(def('array', { maxEntries: 4 }));
    expect(m.update(u32(1), u64(1), BPF_NOEXIST)).toBe(-EEXIST);
    expect(m.update(u32(1), u64(1), BPF_EXIST)).toBe(0);
    expect(m.update(u32(1), u64(1), BPF_ANY)).toBe(0);
  });

  it('array update with unknown flags returns -EINVAL', async () => {
    const { make } = await env();
    const m = make(def('array'));
    expect(m.update(u32(1), u64(1), 8)).toBe(-EINVAL);
    expect(m.update(u32(1), u64(1), 3)).toBe(-EINVAL);
  });

  it('array delete returns -EINVAL', async () => {
    const { make } = await env();
    const m = make(def('array'));
    expect(m.delete(u32(0))).toBe(-EINVAL);
  });

  it('array get_next_key walks 0..max-1 and restarts at 0 for a missing or out-of-range key', async () => {
    const { make } = await env();
    const m = make(def('array', { maxEntries: 3 }));
    expect(m.getNextKey()).toEqual(u32(0));
    expect(m.getNextKey(u32(0))).toEqual(u32(1));
    expect(m.getNextKey(u32(2))).toBeUndefined();
    expect(m.getNextKey(u32(99))).toEqual(u32(0));
  });

  it('BPF_F_LOCK needs a bpf_spin_lock in the value, and an update never overwrites the lock', async () => {
    const { make, machine } = await env();
    const plain = make(def('array', { valueSize: 16 }));
    expect(plain.update(u32(0), new Uint8Array(16), BPF_F_LOCK)).toBe(-EINVAL);
    const locked = make(def('array', { valueSize: 16, spinLockOffset: 0 }));
    const off = locked.lookup(u32(0))!;
    new DataView(machine.bytes().buffer).setUint32(off, 1, true); // the lock is held
    const value = new Uint8Array(16).fill(0xaa);
    expect(locked.update(u32(0), value, BPF_F_LOCK)).toBe(0);
    const got = locked.read(u32(0))!;
    expect(Array.from(got.subarray(0, 4))).toEqual([1, 0, 0, 0]);
    expect(Array.from(got.subarray(4))).toEqual(new Array(12).fill(0xaa));
  });

  it('percpu array: a program sees its CPU\'s value, the host all CPUs each rounded up to 8 bytes', async () => {
    const { make, machine } = await env({ nrCpus: 3 });
    const m = make(def('percpu_array', { valueSize: 4, maxEntries: 2 })) as ArrayMap;
    const all = new Uint8Array(24);
    const dv = new DataView(all.buffer);
    dv.setUint32(0, 10, true);
    dv.setUint32(8, 11, true);
    dv.setUint32(16, 12, true);
    expect(m.update(u32(1), all)).toBe(0);
    const key = machine.alloc(4);
    new DataView(machine.bytes().buffer).setUint32(key, 1, true);
    for (const cpu of [0, 1, 2]) {
      const p = m.bpfLookup(machine.bytes(), key, cpu);
      const off = machine.toOffset(p)!;
      expect(new DataView(machine.bytes().buffer).getUint32(off, true)).toBe(10 + cpu);
    }
    expect(m.read(u32(1))).toEqual(all);
    expect(m.entries()[1].perCpu!.map((v) => v.length)).toEqual([4, 4, 4]);
  });

  it('percpu array update from a program sets only the current CPU\'s value', async () => {
    const { make, machine } = await env({ nrCpus: 2 });
    const m = make(def('percpu_array', { valueSize: 8, maxEntries: 2 }));
    const buf = machine.alloc(16);
    const dv = new DataView(machine.bytes().buffer);
    dv.setUint32(buf, 0, true);
    dv.setBigUint64(buf + 8, 5n, true);
    expect(m.bpfUpdate(machine.bytes(), buf, machine.bytes(), buf + 8, 0, 1)).toBe(0);
    expect(readU64(m.read(u32(0)), 0)).toBe(0n);
    expect(readU64(m.read(u32(0)), 8)).toBe(5n);
  });

  it('global data: the initial value is entry 0, and BPF_F_RDONLY_PROG makes the region read-only', async () => {
    const { make, machine } = await env();
    const m = make(def('array', { name: '.rodata', valueSize: 6, maxEntries: 1, flags: BPF_F_RDONLY_PROG, initialValue: new Uint8Array([1, 2, 3, 4, 5, 6]) }));
    expect(Array.from(m.read(u32(0))!)).toEqual([1, 2, 3, 4, 5, 6]);
    const region = machine.regions().find((r) => r.name === 'map value of .rodata')!;
    expect(region.read).toBe(true);
    expect(region.write).toBe(false);
  });

  it('a frozen map refuses host writes with -EPERM', async () => {
    const { make } = await env();
    const m = make(def('array')) as ArrayMap;
    m.freeze();
    expect(m.update(u32(0), u64(1))).toBe(-EPERM);
  });

  it('array creation refuses key_size other than 4', async () => {
    const { make } = await env();
    expect(() => make(def('array', { keySize: 8 }))).toThrow(MapDefinitionError);
    expect(() => make(def('array', { keySize: 8 }))).toThrow(/array_map.*key_size 4/);
  });

  it('a host key of the wrong size is an error naming the map', async () => {
    const { make } = await env();
    const m = make(def('array'));
    expect(() => m.update(new Uint8Array(2), u64(1))).toThrow(/map array_map: key has 2 bytes, the map's key_size is 4/);
  });
});
