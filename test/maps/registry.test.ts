import { describe, expect, it } from 'vitest';
import { MapDefinitionError } from '../../src/maps/base.js';
import { E2BIG, EBADF, EINVAL, ENOENT } from '../../src/maps/errno.js';
import { FdArrayMap } from '../../src/maps/fd-array.js';
import { MAP_HANDLE_BASE } from '../../src/maps/registry.js';
import { BPF_F_INNER_MAP, BPF_NOEXIST } from '../../src/maps/uapi.js';
import { VBASE } from '../../src/vm/types.js';
import { def, env, readU32, u32 } from './setup.js';

describe('map registry and handles', () => {
  it('maps get ids from 1 and handles that resolve back to them', async () => {
    const { make, registry } = await env();
    const a = make(def('array'));
    const b = make(def('hash', { name: 'flows' }));
    expect([a.id, b.id]).toEqual([1, 2]);
    expect(registry.byHandle(a.handle)).toBe(a);
    expect(registry.byHandle(b.handle)).toBe(b);
    expect(registry.byName('flows')).toBe(b);
    expect(registry.byHandle(b.handle + 8n)).toBeUndefined();
    expect(registry.byHandle(0n)).toBeUndefined();
  });

  it('a handle never points into VM memory, so dereferencing one faults', async () => {
    const { make, machine } = await env();
    const a = make(def('array'));
    expect(a.handle >= MAP_HANDLE_BASE).toBe(true);
    expect(machine.toOffset(a.handle)).toBeUndefined();
    expect(a.handle - VBASE > 1n << 40n).toBe(true);
  });

  it('unknown map types are refused with the map\'s name', async () => {
    const { make } = await env();
    expect(() => make({ ...def('array'), type: 7, name: 'stacks' })).toThrow(MapDefinitionError);
    expect(() => make({ ...def('array'), type: 7, name: 'stacks' })).toThrow(/map stacks \(stack_trace\): this map type is not emulated/);
  });
});

describe('prog arrays and arrays of maps', () => {
  it('a prog array stores program ids; updates need BPF_ANY, an empty slot deletes with -ENOENT', async () => {
    const { make } = await env();
    const m = make({ ...def('prog_array', { valueSize: 4, maxEntries: 3 }) }) as FdArrayMap;
    expect(m.update(u32(1), u32(7))).toBe(0);
    expect(m.progAt(1)).toBe(7);
    expect(m.progAt(0)).toBeUndefined();
    expect(readU32(m.read(u32(1)))).toBe(7);
    expect(m.update(u32(1), u32(7), BPF_NOEXIST)).toBe(-EINVAL);
    expect(m.update(u32(3), u32(7))).toBe(-E2BIG);
    expect(m.delete(u32(0))).toBe(-ENOENT);
    expect(m.delete(u32(1))).toBe(0);
    expect(m.progAt(1)).toBeUndefined();
  });

  it('a prog array refuses ids of programs that do not exist with -EBADF', async () => {
    const { machine, registry } = await env();
    const { createMap } = await import('../../src/maps/registry.js');
    const m = createMap(machine, def('prog_array', { valueSize: 4 }), { registry, progExists: (id) => id === 2 });
    expect(m.update(u32(0), u32(3))).toBe(-EBADF);
    expect(m.update(u32(0), u32(2))).toBe(0);
  });

  it('an array of maps returns the inner map to a program and checks inner maps against the template', async () => {
    const { make, registry } = await env();
    const template = def('hash', { maxEntries: 8 });
    const outer = make(def('array_of_maps', { valueSize: 4, maxEntries: 2, innerMap: template }));
    const inner = make(def('hash', { maxEntries: 100 })); // hash inner maps may differ in max_entries
    const wrongType = make(def('array', { maxEntries: 8 }));
    expect(outer.update(u32(0), u32(inner.id))).toBe(0);
    expect(outer.update(u32(1), u32(wrongType.id))).toBe(-EINVAL);
    expect(outer.update(u32(1), u32(99))).toBe(-EBADF);
    expect(registry.byHandle(outer.bpfLookup(u32(0), 0, 0))).toBe(inner);
    expect(outer.bpfLookup(u32(1), 0, 0)).toBe(0n);
    expect(readU32(outer.read(u32(0)))).toBe(inner.id);
  });

  it('an inner array must match max_entries unless the template has BPF_F_INNER_MAP', async () => {
    const { make } = await env();
    const strict = make(def('array_of_maps', { valueSize: 4, innerMap: def('array', { maxEntries: 4 }) }));
    const loose = make(def('array_of_maps', { valueSize: 4, innerMap: def('array', { maxEntries: 4, flags: BPF_F_INNER_MAP }) }));
    const small = make(def('array', { maxEntries: 2 }));
    const smallInner = make(def('array', { maxEntries: 2, flags: BPF_F_INNER_MAP }));
    expect(strict.update(u32(0), u32(small.id))).toBe(-EINVAL);
    expect(loose.update(u32(0), u32(smallInner.id))).toBe(0);
  });
});
