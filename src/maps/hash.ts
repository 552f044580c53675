// HASH, PERCPU_HASH, LRU_HASH, LRU_PERCPU_HASH and HASH_OF_MAPS (kernel/bpf/hashtab.c).
//
// Like the kernel: roundup_pow_of_two(max_entries) buckets, each a chain with new elements added
// at the head (so get_next_key and for_each visit a bucket newest first); every element is a key
// (rounded up to 8 bytes) followed by its value, both in VM memory, so a program's pointer to a
// value stays valid while its element exists. Updating an existing key of a plain hash map
// installs a *new* element and frees the old one (htab_map_update_elem with alloc_htab_elem's
// extra_elems), so a previously looked-up pointer then refers to the old, freed element, as in
// the kernel; per-CPU maps update in place. LRU maps take their elements from the kernel's LRU
// lists (lru-list.ts), which evict when the map is full.
//
// Approximations, where only addresses differ: bucket order (the kernel's jhash is seeded
// randomly per map anyway), and which free element a new key takes (the kernel's per-CPU
// freelists and extra_elems; here the most recently freed slot). Return codes and surviving
// keys were compared with the kernel on random runs (lru-kernel.test.ts).

import { SlotArena } from './arena.js';
import { innerMapMatches, type FdResolver } from './array.js';
import { MapBase, MapDefinitionError, splitPerCpu, type MapContext } from './base.js';
import { bytesEqual, copyBytes, copyValue, equalAligned, hashAligned, hashBytes, HOST_LITTLE_ENDIAN, readU32, zeroValue } from './bytes.js';
import { E2BIG, EBADF, EEXIST, EINVAL, ENOENT, ENOMEM, EPERM } from './errno.js';
import { BpfLru } from './lru-list.js';
import { int32Bytes, int32sOf, type MapState } from './state.js';
import type { BpfMap, MapDefinition, MapEntry } from './types.js';
import { BPF_EXIST, BPF_F_LOCK, BPF_F_NO_COMMON_LRU, BPF_F_NO_PREALLOC, BPF_F_RDONLY, BPF_F_WRONLY_PROG, BPF_MAP_TYPE, BPF_NOEXIST, round8 } from './uapi.js';

/** The kernel's MAX_BPF_STACK: a key must fit on a program's stack (htab_map_alloc_check). */
const MAX_KEY_SIZE = 512;

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export class HashMap extends MapBase {
  readonly percpu: boolean;
  readonly lru: boolean;
  readonly ofMaps: boolean;
  readonly prealloc: boolean;
  readonly nBuckets: number;
  private readonly mask: number;
  private readonly keyStride: number;
  private readonly valueStride: number;
  private readonly arena: SlotArena;
  private readonly offsets: Int32Array;
  private readonly heads: Int32Array;
  private readonly next: Int32Array;
  private readonly hashes: Uint32Array;
  private readonly linked: Uint8Array;
  private readonly lruList?: BpfLru;
  private readonly innerHandles?: bigint[];
  /** BPF pointer of each slot's value (per CPU for per-CPU maps), 0n until first needed. */
  private readonly valuePtrs: BigUint64Array;
  /** Elements in the table (htab->count). */
  count = 0;

  constructor(
    def: MapDefinition,
    ctx: MapContext,
    private readonly resolver: FdResolver = {},
  ) {
    super(def, ctx);
    const t = def.type;
    this.percpu = t === BPF_MAP_TYPE.BPF_MAP_TYPE_PERCPU_HASH || t === BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.lru = t === BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_HASH || t === BPF_MAP_TYPE.BPF_MAP_TYPE_LRU_PERCPU_HASH;
    this.ofMaps = t === BPF_MAP_TYPE.BPF_MAP_TYPE_HASH_OF_MAPS;
    const percpuLru = this.lru && (def.flags & BPF_F_NO_COMMON_LRU) !== 0;
    // htab_map_alloc_check
    if (this.lru && def.flags & BPF_F_NO_PREALLOC) throw new MapDefinitionError(def, 'LRU maps are always preallocated (BPF_F_NO_PREALLOC is refused)');
    if (!this.lru && def.flags & BPF_F_NO_COMMON_LRU) throw new MapDefinitionError(def, 'BPF_F_NO_COMMON_LRU is only for LRU maps');
    if (def.maxEntries === 0 || def.keySize === 0 || def.valueSize === 0) {
      throw new MapDefinitionError(def, `needs key_size, value_size and max_entries > 0 (got ${def.keySize}, ${def.valueSize}, ${def.maxEntries})`);
    }
    if (def.keySize > MAX_KEY_SIZE) throw new MapDefinitionError(def, `key_size ${def.keySize} is larger than a program's stack (${MAX_KEY_SIZE})`);
    if (this.ofMaps && (def.valueSize !== 4 || !def.innerMap)) throw new MapDefinitionError(def, 'a hash of maps needs value_size 4 and an inner map template');
    if (percpuLru) {
      // htab_map_alloc: every CPU's LRU list gets the same number of elements.
      this.maxEntries = Math.ceil(def.maxEntries / this.nrCpus) * this.nrCpus;
    }
    this.prealloc = this.lru || !(def.flags & BPF_F_NO_PREALLOC);
    this.nBuckets = roundupPow2(this.maxEntries);
    this.mask = this.nBuckets - 1;
    this.keyStride = round8(def.keySize);
    this.valueStride = round8(def.valueSize);
    const elemSize = this.keyStride + (this.percpu ? this.nrCpus : 1) * this.valueStride;
    // prealloc_init: plain hash maps get one extra element per CPU for replacing updates.
    const capacity = this.lru || this.percpu ? this.maxEntries : this.maxEntries + this.nrCpus;
    this.arena = new SlotArena(ctx.mem, this.regionName, elemSize, capacity, this.prealloc, {
      visible: !this.ofMaps,
      read: !(def.flags & BPF_F_WRONLY_PROG),
      write: !this.progReadOnly,
    });
    this.offsets = this.arena.offsets;
    this.heads = new Int32Array(this.nBuckets).fill(-1);
    this.next = new Int32Array(capacity).fill(-1);
    this.hashes = new Uint32Array(capacity);
    this.linked = new Uint8Array(capacity);
    if (this.lru) this.lruList = new BpfLru(capacity, this.nrCpus, percpuLru, (node) => this.delFromHtab(node));
    if (this.ofMaps) this.innerHandles = new Array<bigint>(capacity).fill(0n);
    this.valuePtrs = new BigUint64Array(capacity * (this.percpu ? this.nrCpus : 1));
  }

  override get syscallValueSize(): number {
    return this.percpu ? this.nrCpus * this.valueStride : this.valueSize;
  }

  /** The kernel's LRU lists of an LRU map (for tests that look at reference bits). */
  get lruState(): BpfLru | undefined {
    return this.lruList;
  }

  // ---- the table ----

  /** The VM memory as 32-bit words; like bytes(), refreshed once the memory has grown. */
  private wordView: Int32Array = new Int32Array(0);

  private words(mem: Uint8Array): Int32Array {
    if (this.wordView.length === 0) this.wordView = new Int32Array(mem.buffer, mem.byteOffset, mem.length >> 2);
    return this.wordView;
  }

  /**
   * hashBytes(kb, ko, keySize), a word at a time when the key is 4-byte aligned in the map's own
   * memory view (a program's key on its stack, passed by the helpers): the same value.
   */
  private hashKey(mem: Uint8Array, kb: Uint8Array, ko: number): number {
    if (kb === mem && (ko & 3) === 0 && HOST_LITTLE_ENDIAN) return hashAligned(this.words(mem), mem, ko, this.keySize);
    return hashBytes(kb, ko, this.keySize);
  }

  /** find() for a 4-byte aligned key in the map's own memory, comparing words (slots are 8-byte aligned). */
  private findAligned(words: Int32Array, mem: Uint8Array, ko: number, hash: number): number {
    let s = this.heads[hash & this.mask];
    while (s >= 0) {
      if (this.hashes[s] === hash && equalAligned(words, mem, this.offsets[s], ko, this.keySize)) return s;
      s = this.next[s];
    }
    return -1;
  }

  private find(mem: Uint8Array, kb: Uint8Array, ko: number, hash: number): number {
    if (kb === mem && (ko & 3) === 0 && HOST_LITTLE_ENDIAN) return this.findAligned(this.words(mem), mem, ko, hash);
    let s = this.heads[hash & this.mask];
    while (s >= 0) {
      if (this.hashes[s] === hash && bytesEqual(mem, this.offsets[s], kb, ko, this.keySize)) return s;
      s = this.next[s];
    }
    return -1;
  }

  private link(slot: number, hash: number): void {
    const b = hash & this.mask;
    this.hashes[slot] = hash;
    this.next[slot] = this.heads[b];
    this.heads[b] = slot;
    this.linked[slot] = 1;
    this.count++;
  }

  private unlink(slot: number): void {
    const b = this.hashes[slot] & this.mask;
    if (this.heads[b] === slot) {
      this.heads[b] = this.next[slot];
    } else {
      let s = this.heads[b];
      while (this.next[s] !== slot) s = this.next[s];
      this.next[s] = this.next[slot];
    }
    this.next[slot] = -1;
    this.linked[slot] = 0;
    this.count--;
  }

  /** htab_lru_map_delete_node: the LRU evicts an element. */
  private delFromHtab(slot: number): boolean {
    if (!this.linked[slot]) return false;
    this.unlink(slot);
    return true;
  }

  private valueOff(slot: number, cpu: number): number {
    return this.offsets[slot] + this.keyStride + (this.percpu ? cpu * this.valueStride : 0);
  }

  // ---- BPF side ----

  /** htab_map_lookup_elem / htab_lru_map_lookup_elem (sets the reference bit) / percpu / of_maps. */
  bpfLookup(kb: Uint8Array, ko: number, cpu: number): bigint {
    const mem = this.bytes();
    return this.lookedUp(this.find(mem, kb, ko, this.hashKey(mem, kb, ko)), cpu);
  }

  /** r0 of a lookup that found `slot` (-1: none): the value pointer; an LRU hit sets its reference bit. */
  private lookedUp(slot: number, cpu: number): bigint {
    if (slot < 0) return 0n;
    if (this.lruList) this.lruList.setRef(slot);
    if (this.innerHandles) return this.innerHandles[slot];
    // Slots never move, so their value pointers are computed once (a bigint costs more than the lookup).
    const i = this.percpu ? slot * this.nrCpus + cpu : slot;
    let p = this.valuePtrs[i];
    if (p === 0n) p = this.valuePtrs[i] = this.mem.toVirtual(this.valueOff(slot, cpu));
    return p;
  }

  bpfUpdate(kb: Uint8Array, ko: number, vb: Uint8Array, vo: number, flags: number, cpu: number): number {
    if (this.ofMaps) return -EINVAL; // programs cannot update a map of maps (verifier)
    return this.updateElem(kb, ko, vb, vo, flags, cpu, false);
  }

  bpfDelete(kb: Uint8Array, ko: number): number {
    return this.deleteElem(kb, ko);
  }

  /** bpf_for_each_hash_elem: buckets in order, each chain newest first; no LRU reference bit. */
  forEach(cpu: number, fn: (keyOff: number, valueOff: number) => boolean): number {
    if (this.ofMaps) return -EINVAL;
    let n = 0;
    for (let b = 0; b < this.nBuckets; b++) {
      let s = this.heads[b];
      while (s >= 0) {
        const next = this.next[s]; // the callback may delete the element it is given
        n++;
        if (fn(this.offsets[s], this.valueOff(s, cpu))) return n;
        s = next;
      }
    }
    return n;
  }

  // ---- updates (shared by both sides) ----

  /** check_flags (hashtab.c) */
  private static checkFlags(old: number, flags: number): number {
    if (old >= 0 && (flags & ~BPF_F_LOCK) === BPF_NOEXIST) return -EEXIST;
    if (old < 0 && (flags & ~BPF_F_LOCK) === BPF_EXIST) return -ENOENT;
    return 0;
  }

  private updateElem(kb: Uint8Array, ko: number, vb: Uint8Array, vo: number, flags: number, cpu: number, onAllCpus: boolean): number {
    if (this.lru) return this.percpu ? this.lruPercpuUpdate(kb, ko, vb, vo, flags, cpu, onAllCpus) : this.lruUpdate(kb, ko, vb, vo, flags, cpu);
    if (this.percpu) return this.percpuUpdate(kb, ko, vb, vo, flags, cpu, onAllCpus);
    return this.plainUpdate(kb, ko, vb, vo, flags);
  }

  /** htab_map_update_elem */
  private plainUpdate(kb: Uint8Array, ko: number, vb: Uint8Array, vo: number, flags: number): number {
    if ((flags & ~BPF_F_LOCK) > BPF_EXIST) return -EINVAL;
    if (flags & BPF_F_LOCK && this.lockOff < 0) return -EINVAL;
    let mem = this.bytes();
    const hash = this.hashKey(this.bytes(), kb, ko);
    const old = this.find(mem, kb, ko, hash);
    const err = HashMap.checkFlags(old, flags);
    if (err) return err;
    if (old >= 0 && flags & BPF_F_LOCK) {
      // copy_map_value_locked: in place, under the element's lock.
      copyValue(mem, this.valueOff(old, 0), vb, vo, this.valueSize, this.lockOff);
      return 0;
    }
    // alloc_htab_elem: a new element; -E2BIG when the map is full and nothing is replaced.
    if (old < 0 && this.count >= this.maxEntries) return -E2BIG;
    const slot = this.arena.allocSlot();
    if (slot < 0) return -E2BIG;
    mem = this.bytes();
    // A NO_PREALLOC map may just have grown the memory, detaching views of the old one.
    if (kb.length === 0) kb = mem;
    if (vb.length === 0) vb = mem;
    const off = this.offsets[slot];
    copyBytes(mem, off, kb, ko, this.keySize);
    zeroValue(mem, off + this.keyStride, this.valueSize, -1);
    copyValue(mem, off + this.keyStride, vb, vo, this.valueSize, this.lockOff);
    this.link(slot, hash);
    if (old >= 0) {
      this.unlink(old);
      this.arena.freeSlot(old);
    }
    return 0;
  }

  /** pcpu_copy_value / pcpu_init_value: one CPU's value from a program, every CPU's from the host. */
  private writePercpu(mem: Uint8Array, slot: number, vb: Uint8Array, vo: number, cpu: number, onAllCpus: boolean, fresh: boolean): void {
    if (onAllCpus) {
      for (let c = 0; c < this.nrCpus; c++) copyValue(mem, this.valueOff(slot, c), vb, vo + c * this.valueStride, this.valueSize, -1);
      return;
    }
    if (fresh) {
      // pcpu_init_value: the other CPUs' values of a new element start zeroed.
      for (let c = 0; c < this.nrCpus; c++) if (c !== cpu) zeroValue(mem, this.valueOff(slot, c), this.valueSize, -1);
    }
    copyValue(mem, this.valueOff(slot, cpu), vb, vo, this.valueSize, -1);
  }

  /** __htab_percpu_map_update_elem: in place when the key exists. */
  private percpuUpdate(kb: Uint8Array, ko: number, vb: Uint8Array, vo: number, flags: number, cpu: number, onAllCpus: boolean): number {
    if (flags > BPF_EXIST) return -EINVAL;
    let mem = this.bytes();
    const hash = this.hashKey(this.bytes(), kb, ko);
    const old = this.find(mem, kb, ko, hash);
    const err = HashMap.checkFlags(old, flags);
    if (err) return err;
    if (old >= 0) {
      this.writePercpu(mem, old, vb, vo, cpu, onAllCpus, false);
      return 0;
    }
    if (this.count >= this.maxEntries) return -E2BIG;
    const slot = this.arena.allocSlot();
    if (slot < 0) return -E2BIG;
    mem = this.bytes();
    if (kb.length === 0) kb = mem;
    if (vb.length === 0) vb = mem;
    mem.set(kb.subarray(ko, ko + this.keySize), this.offsets[slot]);
    this.writePercpu(mem, slot, vb, vo, cpu, onAllCpus, true);
    this.link(slot, hash);
    return 0;
  }

  /**
   * htab_lru_map_update_elem: takes a node from the LRU *first* (which may evict other entries,
   * even when the update then fails or replaces an existing key), then installs it.
   */
  private lruUpdate(kb: Uint8Array, ko: number, vb: Uint8Array, vo: number, flags: number, cpu: number): number {
    if (flags > BPF_EXIST) return -EINVAL;
    const lru = this.lruList!;
    const hash = this.hashKey(this.bytes(), kb, ko);
    const node = lru.popFree(cpu);
    if (node < 0) return -ENOMEM;
    const mem = this.bytes();
    const off = this.offsets[node];
    copyBytes(mem, off, kb, ko, this.keySize);
    copyValue(mem, off + this.keyStride, vb, vo, this.valueSize, -1);
    const old = this.find(mem, kb, ko, hash);
    const err = HashMap.checkFlags(old, flags);
    if (err) {
      lru.pushFree(node);
      return err;
    }
    this.link(node, hash);
    if (old >= 0) {
      lru.setRef(node);
      this.unlink(old);
      lru.pushFree(old);
    }
    return 0;
  }

  /** __htab_lru_percpu_map_update_elem: a node only when the key may be new; existing keys in place. */
  private lruPercpuUpdate(kb: Uint8Array, ko: number, vb: Uint8Array, vo: number, flags: number, cpu: number, onAllCpus: boolean): number {
    if (flags > BPF_EXIST) return -EINVAL;
    const lru = this.lruList!;
    const hash = this.hashKey(this.bytes(), kb, ko);
    let node = -1;
    if (flags !== BPF_EXIST) {
      node = lru.popFree(cpu);
      if (node < 0) return -ENOMEM;
    }
    const mem = this.bytes();
    const old = this.find(mem, kb, ko, hash);
    const err = HashMap.checkFlags(old, flags);
    if (!err) {
      if (old >= 0) {
        lru.setRef(old);
        this.writePercpu(mem, old, vb, vo, cpu, onAllCpus, false);
      } else {
        copyBytes(mem, this.offsets[node], kb, ko, this.keySize);
        this.writePercpu(mem, node, vb, vo, cpu, onAllCpus, true);
        this.link(node, hash);
        node = -1;
      }
    }
    if (node >= 0) lru.pushFree(node);
    return err;
  }

  /** htab_map_delete_elem / htab_lru_map_delete_elem */
  private deleteElem(kb: Uint8Array, ko: number): number {
    const slot = this.find(this.bytes(), kb, ko, this.hashKey(this.bytes(), kb, ko));
    if (slot < 0) return -ENOENT;
    this.unlink(slot);
    if (this.lruList) this.lruList.pushFree(slot);
    else this.arena.freeSlot(slot);
    return 0;
  }

  // ---- host side ----

  private findKey(key: Uint8Array): number {
    this.checkKey(key);
    return this.find(this.bytes(), key, 0, hashBytes(key, 0, this.keySize));
  }

  /** Where a program's lookup would point, without marking an LRU entry. */
  lookup(key: Uint8Array, cpu = 0): number | undefined {
    const slot = this.findKey(key);
    if (slot < 0 || this.ofMaps) return undefined;
    return this.valueOff(slot, cpu);
  }

  /**
   * map_lookup_elem: htab_lru_map_lookup_elem_sys and bpf_percpu_hash_copy do not set the LRU
   * reference bit ("in order to not mess up eviction heuristics when user space does a map walk").
   */
  read(key: Uint8Array): Uint8Array | undefined {
    const slot = this.findKey(key);
    if (slot < 0) return undefined;
    const mem = this.bytes();
    if (this.ofMaps) return mem.slice(this.valueOff(slot, 0), this.valueOff(slot, 0) + 4);
    if (!this.percpu) return mem.slice(this.valueOff(slot, 0), this.valueOff(slot, 0) + this.valueSize);
    const out = new Uint8Array(this.syscallValueSize);
    for (let c = 0; c < this.nrCpus; c++) out.set(mem.subarray(this.valueOff(slot, c), this.valueOff(slot, c) + this.valueSize), c * this.valueStride);
    return out;
  }

  /** map_update_elem. A map of maps takes an inner map id (bpf_fd_htab_map_update_elem). */
  update(key: Uint8Array, value: Uint8Array, flags = 0, cpu = 0): number {
    this.checkKey(key);
    this.checkValue(value);
    if (this.frozen || this.flags & BPF_F_RDONLY) return -EPERM;
    if (this.ofMaps) {
      const inner: BpfMap | undefined = this.resolver.mapById?.(readU32(value, 0));
      if (!inner) return -EBADF;
      if (!innerMapMatches(this.def.innerMap!, inner)) return -EINVAL;
      const ret = this.plainUpdate(key, 0, value, 0, flags);
      if (ret === 0) this.innerHandles![this.findKey(key)] = inner.handle;
      return ret;
    }
    return this.updateElem(key, 0, value, 0, flags, cpu, true);
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    if (this.frozen || this.flags & BPF_F_RDONLY) return -EPERM;
    return this.deleteElem(key, 0);
  }

  /** htab_map_get_next_key: next in the chain, else the first of the next non-empty bucket. */
  getNextKey(key?: Uint8Array): Uint8Array | undefined {
    let b = 0;
    if (key !== undefined) {
      const slot = this.findKey(key);
      if (slot >= 0) {
        const nx = this.next[slot];
        if (nx >= 0) return this.keyAt(nx);
        b = (this.hashes[slot] & this.mask) + 1;
      }
    }
    for (; b < this.nBuckets; b++) if (this.heads[b] >= 0) return this.keyAt(this.heads[b]);
    return undefined;
  }

  private keyAt(slot: number): Uint8Array {
    const off = this.offsets[slot];
    return this.bytes().slice(off, off + this.keySize);
  }

  protected override entry(key: Uint8Array, value: Uint8Array): MapEntry {
    return this.percpu ? { key, value, perCpu: splitPerCpu(value, this.valueSize, this.nrCpus) } : { key, value };
  }

  /**
   * The live elements in get_next_key order (bucket by bucket, each chain newest first) with
   * their bytes, the slot bookkeeping, and the LRU lists: what decides every later result. The
   * hashes and buckets follow from the keys; freed slots' bytes are never read again (a new
   * element's key and value are written whole: alloc_htab_elem, pcpu_init_value).
   */
  protected saveBody(): MapState {
    const order: number[] = [];
    for (let b = 0; b < this.nBuckets; b++) for (let s = this.heads[b]; s >= 0; s = this.next[s]) order.push(s);
    return {
      arena: this.arena.saveState(),
      elements: int32Bytes(order),
      data: this.arena.saveSlots(this.bytes(), order),
      lru: this.lruList?.saveState(),
    };
  }

  protected restoreBody(body: MapState): void {
    const order = int32sOf('elements', body.elements);
    if (order.length > this.maxEntries) throw new Error(`map state: ${order.length} elements, max_entries is ${this.maxEntries}`);
    this.arena.restoreState(body.arena as MapState, () => this.bytes());
    const mem = this.bytes();
    this.arena.restoreSlots(mem, order, body.data);
    this.heads.fill(-1);
    this.next.fill(-1);
    this.linked.fill(0);
    this.count = 0;
    // Linking at the head in reverse gives each bucket's chain back in the saved order.
    let lastBucket = this.nBuckets;
    for (let i = order.length - 1; i >= 0; i--) {
      const slot = order[i];
      if (this.linked[slot]) throw new Error(`map state: element slot ${slot} is listed twice`);
      const hash = hashBytes(mem, this.offsets[slot], this.keySize);
      if ((hash & this.mask) > lastBucket) throw new Error('map state: the elements are not in bucket order (saved by a bpfbed with another key hash?)');
      lastBucket = hash & this.mask;
      this.link(slot, hash);
    }
    if (this.lruList) this.lruList.restoreState(body.lru as MapState);
    this.valuePtrs.fill(0n); // the values may now live elsewhere in VM memory
    if (this.innerHandles) {
      this.innerHandles.fill(0n);
      for (let s = 0; s < this.linked.length; s++) {
        if (!this.linked[s]) continue;
        const id = readU32(mem, this.valueOff(s, 0));
        const inner = this.resolver.mapById?.(id);
        if (!inner) throw new Error(`map ${this.name}: an element refers to map id ${id}, which does not exist`);
        this.innerHandles[s] = inner.handle;
      }
    }
  }

  override destroy(): void {
    this.arena.destroy();
  }
}

