// PROG_ARRAY and ARRAY_OF_MAPS (kernel/bpf/arraymap.c, the fd_array_map_* operations). Their
// values are references (a program, an inner map), set by the host with an fd (here: an id) and
// never visible to programs as memory: bpf_tail_call() reads a prog array, and a lookup in an
// array of maps returns the inner map itself.

import { IndexedMap, innerMapMatches, type FdResolver } from './array.js';
import { MapDefinitionError, type MapContext } from './base.js';
import { readU32, u32Key } from './bytes.js';
import { E2BIG, EBADF, EINVAL, ENOENT } from './errno.js';
import { restoreNonZero, saveNonZero, type MapState } from './state.js';
import type { BpfMap, MapDefinition } from './types.js';
import { BPF_ANY, BPF_MAP_TYPE } from './uapi.js';

export class FdArrayMap extends IndexedMap {
  readonly ofMaps: boolean;
  /** Referenced id per slot, 0 = empty (ids start at 1). */
  private readonly ids: Uint32Array;
  /** ARRAY_OF_MAPS: the inner map's handle per slot, what a program's lookup returns. */
  private readonly handles: bigint[];

  constructor(
    def: MapDefinition,
    ctx: MapContext,
    private readonly resolver: FdResolver = {},
  ) {
    super(def, ctx);
    if (def.maxEntries === 0 || def.keySize !== 4 || def.valueSize !== 4) {
      throw new MapDefinitionError(def, `needs key_size 4, value_size 4 and max_entries > 0 (got ${def.keySize}, ${def.valueSize}, ${def.maxEntries})`);
    }
    this.ofMaps = def.type === BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY_OF_MAPS;
    if (this.ofMaps && !def.innerMap) throw new MapDefinitionError(def, 'an array of maps needs an inner map template');
    this.ids = new Uint32Array(def.maxEntries);
    this.handles = new Array<bigint>(def.maxEntries).fill(0n);
  }

  /** The program id at `index` for bpf_tail_call, undefined when the slot is empty or out of range. */
  progAt(index: number): number | undefined {
    if (this.ofMaps || index >= this.maxEntries) return undefined;
    return this.ids[index] || undefined;
  }

  /** array_of_map_lookup_elem returns the inner map; a prog array has no program-visible lookup. */
  bpfLookup(kb: Uint8Array, ko: number): bigint {
    if (!this.ofMaps) return 0n;
    const index = readU32(kb, ko);
    return index < this.maxEntries ? this.handles[index] : 0n;
  }

  /** Programs cannot update fd arrays (the verifier refuses; emulated as -EINVAL). */
  bpfUpdate(): number {
    return -EINVAL;
  }

  /** Programs cannot delete from fd arrays either (verifier; emulated as -EINVAL). */
  bpfDelete(): number {
    return -EINVAL;
  }

  forEach(): number {
    return -EINVAL;
  }

  lookup(): number | undefined {
    return undefined;
  }

  /** bpf_fd_array_map_lookup_elem: the referenced id (map_fd_sys_lookup_elem gives ids, not fds). */
  read(key: Uint8Array): Uint8Array | undefined {
    const index = this.keyIndex(key);
    if (index >= this.maxEntries || this.ids[index] === 0) return undefined;
    return u32Key(this.ids[index]);
  }

  /** bpf_fd_array_map_update_elem: flags must be BPF_ANY; the value is a program or map id. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    const index = this.keyIndex(key);
    this.checkValue(value);
    const refused = this.writeRefused();
    if (refused) return refused;
    if (flags !== BPF_ANY) return -EINVAL;
    if (index >= this.maxEntries) return -E2BIG;
    const id = readU32(value, 0);
    if (this.ofMaps) {
      const inner: BpfMap | undefined = this.resolver.mapById?.(id);
      if (!inner) return -EBADF;
      if (!innerMapMatches(this.def.innerMap!, inner)) return -EINVAL;
      this.handles[index] = inner.handle;
    } else if (id === 0 || (this.resolver.progExists && !this.resolver.progExists(id))) {
      return -EBADF;
    }
    this.ids[index] = id;
    return 0;
  }

  /** fd_array_map_delete_elem: -E2BIG past the end, -ENOENT for an empty slot. */
  delete(key: Uint8Array): number {
    const index = this.keyIndex(key);
    const refused = this.writeRefused();
    if (refused) return refused;
    if (index >= this.maxEntries) return -E2BIG;
    if (this.ids[index] === 0) return -ENOENT;
    this.ids[index] = 0;
    this.handles[index] = 0n;
    return 0;
  }

  protected saveBody(): MapState {
    return { ids: saveNonZero(new Uint8Array(this.ids.buffer, this.ids.byteOffset, this.ids.byteLength)) };
  }

  /** Inner maps are found again by id: restore the maps in the order they were created. */
  protected restoreBody(body: MapState): void {
    restoreNonZero('slots', new Uint8Array(this.ids.buffer, this.ids.byteOffset, this.ids.byteLength), body.ids);
    this.handles.fill(0n);
    for (let i = 0; i < this.maxEntries; i++) {
      if (!this.ofMaps || this.ids[i] === 0) continue;
      const inner = this.resolver.mapById?.(this.ids[i]);
      if (!inner) throw new Error(`map ${this.name}: slot ${i} refers to map id ${this.ids[i]}, which does not exist`);
      this.handles[i] = inner.handle;
    }
  }
}
