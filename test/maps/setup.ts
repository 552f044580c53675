// Shared test setup: a real VM memory, map definitions by type name, little-endian keys/values.
import { createMap, MapRegistry, type CreateMapOptions } from '../../src/maps/registry.js';
import type { MapDefinition } from '../../src/maps/types.js';
import { BPF_MAP_TYPE } from '../../src/maps/uapi.js';
import { Machine } from '../../src/vm/machine.js';

export type TypeName = keyof typeof BPF_MAP_TYPE extends `BPF_MAP_TYPE_${infer T}` ? Lowercase<T> : never;

export function def(type: TypeName, fields: Partial<MapDefinition> = {}): MapDefinition {
  const key = `BPF_MAP_TYPE_${type.toUpperCase()}` as keyof typeof BPF_MAP_TYPE;
  return { name: `${type}_map`, type: BPF_MAP_TYPE[key], keySize: 4, valueSize: 8, maxEntries: 16, flags: 0, ...fields };
}

export async function machine(): Promise<Machine> {
  return Machine.create();
}

/** A machine, a registry, and a `make` that creates maps in them. */
export async function env(opts: Omit<CreateMapOptions, 'registry'> = {}) {
  const m = await Machine.create();
  const registry = new MapRegistry();
  return {
    machine: m,
    registry,
    make: (d: MapDefinition) => createMap(m, d, { ...opts, registry }),
  };
}

export function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

export function u64(n: number | bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(n), true);
  return b;
}

export function readU64(b: Uint8Array | undefined, off = 0): bigint | undefined {
  return b === undefined ? undefined : new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(off, true);
}

export function readU32(b: Uint8Array | undefined, off = 0): number | undefined {
  return b === undefined ? undefined : new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(off, true);
}

/** Keys of a map as numbers (u32 keys), sorted. */
export function keysOf(map: { entries(): { key: Uint8Array }[] }): number[] {
  return map.entries().map((e) => readU32(e.key)!).sort((a, b) => a - b);
}
