// Creating maps by type, and the table from map ids and handles to maps.
//
// A program gets a map as an opaque pointer (`lddw r1, map` loads the kernel's struct bpf_map
// address). Our handles are MAP_HANDLE_BASE + id * MAP_HANDLE_STRIDE: in the kernel's vmalloc
// range on x86-64 (where struct bpf_map lives), far from VBASE, so a handle never points into
// any VM region and a program that dereferences one faults.

import { ArrayMap, type FdResolver } from './array.js';
import { MapDefinitionError, type MapBase, type MapContext } from './base.js';
import { FdArrayMap } from './fd-array.js';
import { CpuMap } from './cpumap.js';
import { DevMap } from './devmap.js';
import { XskMap } from './xskmap.js';
import { HashMap } from './hash.js';
import { LpmTrieMap } from './lpm-trie.js';
import { PerfEventArrayMap } from './perf-event-array.js';
import { QueueStackMap } from './queue-stack.js';
import { RingbufMap } from './ringbuf.js';
import type { BpfMap, MapDefinition, MapMemory } from './types.js';
import { BPF_MAP_TYPE } from './uapi.js';

export const MAP_HANDLE_BASE = 0xffff_c900_0000_0000n;
export const MAP_HANDLE_STRIDE = 0x1000n;
const MAP_HANDLE_BASE_HI = Number(MAP_HANDLE_BASE >> 32n);
const HANDLE_STRIDE_NUM = Number(MAP_HANDLE_STRIDE);

/** Every map of one emulated machine, by id, handle and name. */
export class MapRegistry {
  private readonly byIdTable: (BpfMap | undefined)[] = [undefined];
  private readonly byHandleTable = new Map<bigint, BpfMap>();
  // Programs use few maps, often the same one many times in a row: a one-entry cache saves the
  // hash lookup of a bigint key on the helper path.
  private lastHandle = -1n;
  private lastMap: BpfMap | undefined;

  /** Gives the map the next id (from 1, like the kernel's map idr) and its handle. */
  add(map: BpfMap): BpfMap {
    map.id = this.byIdTable.length;
    map.handle = MAP_HANDLE_BASE + BigInt(map.id) * MAP_HANDLE_STRIDE;
    this.byIdTable.push(map);
    this.byHandleTable.set(map.handle, map);
    return map;
  }

  remove(map: BpfMap): void {
    if (this.byIdTable[map.id] === map) this.byIdTable[map.id] = undefined;
    this.byHandleTable.delete(map.handle);
    this.lastHandle = -1n;
    this.lastMap = undefined;
  }

  byId(id: number): BpfMap | undefined {
    return this.byIdTable[id];
  }

  /** The map a handle (a program's map pointer) refers to, or undefined. */
  byHandle(handle: bigint): BpfMap | undefined {
    if (handle === this.lastHandle) return this.lastMap;
    const map = this.byHandleTable.get(handle);
    if (map) {
      this.lastHandle = handle;
      this.lastMap = map;
    }
    return map;
  }

  /**
   * byHandle for a handle given as its unsigned 32-bit halves (the helpers' fast path, no
   * BigInt): the same answer, from the id the handle encodes.
   */
  byHandleParts(lo: number, hi: number): BpfMap | undefined {
    const rel = (hi - MAP_HANDLE_BASE_HI) * 0x1_0000_0000 + lo; // exact: below 2^46
    if (rel <= 0 || rel % HANDLE_STRIDE_NUM !== 0) return undefined;
    return this.byIdTable[rel / HANDLE_STRIDE_NUM];
  }

  byName(name: string): BpfMap | undefined {
    return this.byIdTable.find((m) => m?.name === name);
  }

  all(): BpfMap[] {
    return this.byIdTable.filter((m): m is BpfMap => m !== undefined);
  }
}

export interface CreateMapOptions {
  /** Possible CPUs of the emulated machine (default 1). */
  nrCpus?: number;
  /** Where the map is registered (ids, handles, inner maps). Default: a registry of its own. */
  registry?: MapRegistry;
  /** PROG_ARRAY: whether a program id exists (default: any id is accepted). */
  progExists?: (id: number) => boolean;
  /** DEVMAP / DEVMAP_HASH: whether a device with this ifindex exists (default: any ifindex > 0). */
  deviceExists?: (ifindex: number) => boolean;
}

/**
 * Creates a map of `def.type` with its values in `mem`, registers it and returns it. Throws a
 * MapDefinitionError for what the kernel's map_create refuses (sizes, flags, unknown types).
 */
export function createMap(mem: MapMemory, def: MapDefinition, opts: CreateMapOptions = {}): MapBase {
  const nrCpus = opts.nrCpus ?? 1;
  if (!Number.isInteger(nrCpus) || nrCpus < 1 || nrCpus > 0xffff) throw new RangeError(`nrCpus must be an integer in 1..65535, got ${nrCpus}`);
  const registry = opts.registry ?? new MapRegistry();
  const ctx: MapContext = { mem, nrCpus };
  const resolver: FdResolver = { mapById: (id) => registry.byId(id), progExists: opts.progExists };
  const T = BPF_MAP_TYPE;
  // map_check_btf (kernel/bpf/syscall.c): a bpf_spin_lock only in hash and array values.
  if (def.spinLockOffset !== undefined && def.type !== T.BPF_MAP_TYPE_HASH && def.type !== T.BPF_MAP_TYPE_ARRAY) {
    throw new MapDefinitionError(def, 'a bpf_spin_lock is only allowed in the values of hash and array maps');
  }
  let map: MapBase;
  switch (def.type) {
    case T.BPF_MAP_TYPE_ARRAY:
    case T.BPF_MAP_TYPE_PERCPU_ARRAY:
      map = new ArrayMap(def, ctx);
      break;
    case T.BPF_MAP_TYPE_PROG_ARRAY:
    case T.BPF_MAP_TYPE_ARRAY_OF_MAPS:
      map = new FdArrayMap(def, ctx, resolver);
      break;
    case T.BPF_MAP_TYPE_HASH:
    case T.BPF_MAP_TYPE_PERCPU_HASH:
    case T.BPF_MAP_TYPE_LRU_HASH:
    case T.BPF_MAP_TYPE_LRU_PERCPU_HASH:
    case T.BPF_MAP_TYPE_HASH_OF_MAPS:
      map = new HashMap(def, ctx, resolver);
      break;
    case T.BPF_MAP_TYPE_LPM_TRIE:
      map = new LpmTrieMap(def, ctx);
      break;
    case T.BPF_MAP_TYPE_QUEUE:
    case T.BPF_MAP_TYPE_STACK:
      map = new QueueStackMap(def, ctx);
      break;
    case T.BPF_MAP_TYPE_PERF_EVENT_ARRAY:
      map = new PerfEventArrayMap(def, ctx);
      break;
    case T.BPF_MAP_TYPE_DEVMAP:
    case T.BPF_MAP_TYPE_DEVMAP_HASH:
      map = new DevMap(def, ctx, { deviceExists: opts.deviceExists, progExists: opts.progExists });
      break;
    case T.BPF_MAP_TYPE_CPUMAP:
      map = new CpuMap(def, ctx, opts.progExists);
      break;
    case T.BPF_MAP_TYPE_XSKMAP:
      map = new XskMap(def, ctx);
      break;
    case T.BPF_MAP_TYPE_RINGBUF:
      map = new RingbufMap(def, ctx);
      break;
    default:
      throw new MapDefinitionError(def, 'this map type is not emulated');
  }
  registry.add(map);
  return map;
}
