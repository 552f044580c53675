// ARRAY and PERCPU_ARRAY (kernel/bpf/arraymap.c). All max_entries values exist from creation,
// zeroed, each round_up(value_size, 8) bytes apart; a per-CPU array keeps one such value per CPU.
// Global data sections (.data, .rodata, .bss) are one-entry arrays, as libbpf makes them.

import { SlotArena } from './arena.js';
import { MapBase, MapDefinitionError, splitPerCpu, type MapContext } from './base.js';
import { copyValue, readU32, u32Key } from './bytes.js';
import { E2BIG, EEXIST, EINVAL, EPERM } from './errno.js';
import { restoreNonZero, saveNonZero, type MapState } from './state.js';
import type { MapDefinition, MapEntry } from './types.js';
import { BPF_EXIST, BPF_F_LOCK, BPF_F_RDONLY, BPF_F_WRONLY_PROG, BPF_MAP_TYPE, BPF_NOEXIST, round8 } from './uapi.js';

/**
 * array_map_get_next_key's walk, which cpu_map_get_next_key, xsk_map_get_next_key and
 * dev_map_get_next_key repeat: a missing or out-of-range index starts over at 0, the last ends.
 */
export function nextIndexKey(maxEntries: number, index: number | undefined): Uint8Array | undefined {
  if (index === undefined || index >= maxEntries) return u32Key(0);
  if (index === maxEntries - 1) return undefined;
  return u32Key(index + 1);
}

/**
 * A map keyed by a u32 index below max_entries (ARRAY, PERCPU_ARRAY, PROG_ARRAY, ARRAY_OF_MAPS,
 * CPUMAP, XSKMAP): the syscall side's key handling they share. Range checks stay with each map:
 * their errnos differ (-E2BIG, -EINVAL, -ENOENT).
 */
export abstract class IndexedMap extends MapBase {
  /** The index a syscall's key names (its size checked, not its range). */
  protected keyIndex(key: Uint8Array): number {
    this.checkKey(key);
    return readU32(key, 0);
  }

  /** map_update_elem / map_delete_elem on a frozen map, or one created BPF_F_RDONLY: -EPERM, else 0. */
  protected writeRefused(): number {
    return this.frozen || this.flags & BPF_F_RDONLY ? -EPERM : 0;
  }

  /**
   * cpu_map_delete_elem / xsk_map_delete_elem: -EINVAL past max_entries, else the slot emptied
   * (empty or not) and 0.
   */
  protected clearSlot(key: Uint8Array, clear: (index: number) => void): number {
    const index = this.keyIndex(key);
    const refused = this.writeRefused();
    if (refused) return refused;
    if (index >= this.maxEntries) return -EINVAL;
    clear(index);
    return 0;
  }

  getNextKey(key?: Uint8Array): Uint8Array | undefined {
    return nextIndexKey(this.maxEntries, key === undefined ? undefined : this.keyIndex(key));
  }
}

export class ArrayMap extends IndexedMap {
  readonly percpu: boolean;
  /** Bytes between two CPUs' values (and between two entries of a plain array). */
  readonly elemSize: number;
  private readonly arena: SlotArena;
  /** wasm offset of entry 0; entry i, CPU c at base + (i * nrCpus + c) * elemSize. */
  readonly base: number;
  /** A 4-byte key buffer in VM memory for bpf_for_each_map_elem callbacks (the kernel's stack u32). */
  private readonly keyScratch: number;
  /** BPF pointer of each value (per CPU for per-CPU arrays), 0n until first needed. */
  private readonly valuePtrs: BigUint64Array;

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx);
    // array_map_alloc_check
    if (def.maxEntries === 0 || def.keySize !== 4 || def.valueSize === 0) {
      throw new MapDefinitionError(def, `an array needs key_size 4, value_size > 0 and max_entries > 0 (got ${def.keySize}, ${def.valueSize}, ${def.maxEntries})`);
    }
    this.percpu = def.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY;
    this.elemSize = round8(def.valueSize);
    const cpus = this.percpu ? this.nrCpus : 1;
    // One slot holds every entry plus the 8-byte for_each key buffer, so the map is one region.
    const size = def.maxEntries * cpus * this.elemSize + 8;
    this.arena = new SlotArena(ctx.mem, this.regionName, size, 1, true, {
      visible: true,
      read: !(def.flags & BPF_F_WRONLY_PROG),
      // BPF_F_RDONLY_PROG (frozen .rodata): the verifier refuses program writes; a region
      // without write permission turns one into a fault.
      write: !this.progReadOnly,
    });
    this.arena.allocSlot();
    this.base = this.arena.offset(0);
    this.keyScratch = this.base + size - 8;
    this.valuePtrs = new BigUint64Array(def.maxEntries * cpus);
    if (def.initialValue) {
      if (def.initialValue.length > def.valueSize) {
        throw new MapDefinitionError(def, `initial value has ${def.initialValue.length} bytes, value_size is ${def.valueSize}`);
      }
      this.bytes().set(def.initialValue, this.base);
    }
  }

  override get syscallValueSize(): number {
    return this.percpu ? this.nrCpus * this.elemSize : this.valueSize;
  }

  /** wasm offset of entry `index` for `cpu`. */
  valueOffset(index: number, cpu = 0): number {
    return this.base + (this.percpu ? index * this.nrCpus + cpu : index) * this.elemSize;
  }

  /** array_map_lookup_elem / percpu_array_map_lookup_elem: NULL past max_entries. */
  bpfLookup(kb: Uint8Array, ko: number, cpu: number): bigint {
    const index = readU32(kb, ko);
    if (index >= this.maxEntries) return 0n;
    const i = this.percpu ? index * this.nrCpus + cpu : index;
    let p = this.valuePtrs[i];
    if (p === 0n) p = this.valuePtrs[i] = this.mem.toVirtual(this.valueOffset(index, cpu));
    return p;
  }

  /** array_map_update_elem (a program's update; per-CPU arrays: this CPU's value only). */
  bpfUpdate(kb: Uint8Array, ko: number, vb: Uint8Array, vo: number, flags: number, cpu: number): number {
    const index = readU32(kb, ko);
    const err = this.checkUpdate(index, flags);
    if (err) return err;
    copyValue(this.bytes(), this.valueOffset(index, cpu), vb, vo, this.valueSize, this.lockOff);
    return 0;
  }

  private checkUpdate(index: number, flags: number): number {
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST) return -EINVAL; // unknown flags
    if (index >= this.maxEntries) return -E2BIG; // all elements were pre-allocated
    if (flags & BPF_NOEXIST) return -EEXIST; // all elements already exist
    if (flags & BPF_F_LOCK && (this.lockOff < 0 || this.percpu)) return -EINVAL;
    return 0;
  }

  /** array_map_delete_elem: arrays cannot delete. */
  bpfDelete(): number {
    return -EINVAL;
  }

  /** bpf_for_each_array_elem: every index in order, key in a u32 the callback can read. */
  forEach(cpu: number, fn: (keyOff: number, valueOff: number) => boolean): number {
    let n = 0;
    for (let i = 0; i < this.maxEntries; i++) {
      n++;
      const mem = this.bytes(); // again each time: the callback may have grown the memory
      mem[this.keyScratch] = i & 0xff;
      mem[this.keyScratch + 1] = (i >>> 8) & 0xff;
      mem[this.keyScratch + 2] = (i >>> 16) & 0xff;
      mem[this.keyScratch + 3] = i >>> 24;
      if (fn(this.keyScratch, this.valueOffset(i, cpu))) break;
    }
    return n;
  }

  lookup(key: Uint8Array, cpu = 0): number | undefined {
    const index = this.keyIndex(key);
    return index < this.maxEntries ? this.valueOffset(index, cpu) : undefined;
  }

  /** map_lookup_elem / bpf_percpu_array_copy: -ENOENT past max_entries. */
  read(key: Uint8Array): Uint8Array | undefined {
    const index = this.keyIndex(key);
    if (index >= this.maxEntries) return undefined;
    const mem = this.bytes();
    if (!this.percpu) return mem.slice(this.valueOffset(index), this.valueOffset(index) + this.valueSize);
    const out = new Uint8Array(this.syscallValueSize);
    for (let c = 0; c < this.nrCpus; c++) {
      const off = this.valueOffset(index, c);
      out.set(mem.subarray(off, off + this.valueSize), c * this.elemSize);
    }
    return out;
  }

  /** map_update_elem: array_map_update_elem, or bpf_percpu_array_update for every CPU at once. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    const index = this.keyIndex(key);
    this.checkValue(value);
    const refused = this.writeRefused();
    if (refused) return refused;
    if (this.percpu && flags > BPF_EXIST) return -EINVAL;
    const err = this.checkUpdate(index, flags);
    if (err) return err;
    const mem = this.bytes();
    if (!this.percpu) {
      copyValue(mem, this.valueOffset(index), value, 0, this.valueSize, this.lockOff);
      return 0;
    }
    for (let c = 0; c < this.nrCpus; c++) copyValue(mem, this.valueOffset(index, c), value, c * this.elemSize, this.valueSize, this.lockOff);
    return 0;
  }

  /** array_map_delete_elem: an array's entries cannot be deleted (-EINVAL). */
  delete(key: Uint8Array): number {
    this.checkKey(key);
    return this.writeRefused() || -EINVAL;
  }

  protected override entry(key: Uint8Array, value: Uint8Array): MapEntry {
    return this.percpu ? { key, value, perCpu: splitPerCpu(value, this.valueSize, this.nrCpus) } : { key, value };
  }

  /** Only the non-zero ranges of the values: every entry exists from creation, zeroed. */
  protected saveBody(): MapState {
    return { arena: this.arena.saveState(), values: saveNonZero(this.arena.slotBytes(this.bytes(), 0)) };
  }

  protected restoreBody(body: MapState): void {
    this.arena.restoreState(body.arena as MapState, () => this.bytes());
    restoreNonZero('values', this.arena.slotBytes(this.bytes(), 0), body.values);
  }

  override destroy(): void {
    this.arena.destroy();
  }
}

/** Resolves what an fd array or map-of-maps slot refers to (the syscall passes fds; we pass ids). */
export interface FdResolver {
  /** The inner map with this id, for ARRAY_OF_MAPS / HASH_OF_MAPS. */
  mapById?(id: number): import('./types.js').BpfMap | undefined;
  /** Whether a program with this id exists, for PROG_ARRAY (absent: any id is accepted). */
  progExists?(id: number): boolean;
}

/**
 * bpf_map_meta_equal / array_map_meta_equal (kernel/bpf/map_in_map.c, arraymap.c): an inner map
 * must have the template's type, sizes and flags; an array also its max_entries unless the
 * template has BPF_F_INNER_MAP.
 */
export function innerMapMatches(template: MapDefinition, inner: { type: number; keySize: number; valueSize: number; flags: number; maxEntries: number }): boolean {
  if (template.type !== inner.type || template.keySize !== inner.keySize || template.valueSize !== inner.valueSize || template.flags !== inner.flags) {
    return false;
  }
  const isArray = template.type === BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY || template.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_ARRAY;
  if (isArray && !(template.flags & (1 << 12))) return template.maxEntries === inner.maxEntries;
  return true;
}
