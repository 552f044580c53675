// DEVMAP and DEVMAP_HASH (kernel/bpf/devmap.c): the devices bpf_redirect_map() sends XDP frames
// to. A value is struct bpf_devmap_val (include/uapi/linux/bpf.h): the target's ifindex, and with
// an 8-byte value a program (`bpf_prog.fd` when written, `bpf_prog.id` when read back) that runs
// on the frame at the target's egress (BPF_XDP_DEVMAP). bpfbed passes program and device ids
// where the kernel takes fds: a written "fd" is a program id, as for prog arrays.
//
// Kernel semantics kept (checked against the running kernel, test/maps/devmap.test.ts):
// - dev_map_init_map forces BPF_F_RDONLY_PROG: programs may look an entry up (the verifier allows
//   bpf_map_lookup_elem and bpf_redirect_map only) and read it, never write it;
// - __dev_map_update_elem (DEVMAP): flags > BPF_EXIST -EINVAL, key past max_entries -E2BIG,
//   BPF_NOEXIST always -EEXIST (every slot "exists"), ifindex 0 empties the slot (-EINVAL with a
//   program), an unknown device or a program that is not one -EINVAL (__dev_map_alloc_node; not
//   -ENODEV); delete past max_entries -EINVAL, of an empty slot 0;
// - __dev_map_hash_update_elem (DEVMAP_HASH): ifindex 0 -EINVAL, BPF_NOEXIST on a present key
//   -EEXIST, BPF_EXIST on a missing key is accepted, the device is checked before the size, a new
//   key in a full map -E2BIG; delete of a missing key -ENOENT; get_next_key walks the
//   roundup_pow_of_two(max_entries) buckets (key & (n - 1)) in order, newest first in a bucket
//   (hlist_add_head), and an unknown key starts over at the first.

import { SlotArena } from './arena.js';
import { nextIndexKey } from './array.js';
import { MapBase, MapDefinitionError, type MapContext } from './base.js';
import { readU32, u32Key } from './bytes.js';
import { E2BIG, EEXIST, EINVAL, ENOENT, EPERM } from './errno.js';
import { copyOf, restoreInto, type MapState } from './state.js';
import type { MapDefinition } from './types.js';
import { BPF_EXIST, BPF_F_RDONLY, BPF_F_RDONLY_PROG, BPF_F_WRONLY, BPF_MAP_TYPE, BPF_NOEXIST } from './uapi.js';

/** BPF_F_NUMA_NODE (include/uapi/linux/bpf.h): DEV_CREATE_FLAG_MASK's third flag. */
export const BPF_F_NUMA_NODE = 1 << 2;

/** A bound on the value memory one emulated devmap may take (the kernel's limit is memory). */
const MAX_EMULATED_ENTRIES = 1 << 20;

/** Where an entry of a device map sends a frame. */
export interface DevmapTarget {
  kind: 'device';
  /** The map key the entry is under. */
  key: number;
  ifindex: number;
  /** The BPF_XDP_DEVMAP program run at the target's egress, 0 for none. */
  progId: number;
}

/** What a device map needs to know about the world it lives in. */
export interface DevmapResolver {
  /** dev_get_by_index in the updating process's namespace. Default: any ifindex > 0 exists. */
  deviceExists?(ifindex: number): boolean;
  /** bpf_prog_get_type_dev(fd, BPF_PROG_TYPE_XDP): whether a program with this id exists. */
  progExists?(id: number): boolean;
}

export class DevMap extends MapBase {
  readonly hashed: boolean;
  /** Bytes between two values in VM memory. */
  private readonly slotSize: number;
  private readonly arena: SlotArena;
  /** DEVMAP: 1 where slot `key` holds an entry (the value is in arena slot `key`). */
  private readonly filled: Uint8Array;
  /** DEVMAP_HASH: bucket heads, keys newest first; and each key's arena slot. */
  private readonly buckets: number[][];
  private readonly slotOf = new Map<number, number>();
  /** BPF pointer of each arena slot, 0n until first needed. */
  private readonly valuePtrs: BigUint64Array;
  resolver: DevmapResolver;

  constructor(def: MapDefinition, ctx: MapContext, resolver: DevmapResolver = {}) {
    // dev_map_alloc_check: key 4, value 4 (ifindex) or 8 (ifindex + prog fd), max_entries > 0,
    // flags within BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY (so BPF_F_RDONLY_PROG is refused
    // from the caller and then added by dev_map_init_map).
    if (def.maxEntries === 0 || def.keySize !== 4 || (def.valueSize !== 4 && def.valueSize !== 8)) {
      throw new MapDefinitionError(def, `a device map needs key_size 4, value_size 4 or 8 and max_entries > 0 (got ${def.keySize}, ${def.valueSize}, ${def.maxEntries})`);
    }
    if (def.flags & ~(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)) {
      throw new MapDefinitionError(def, `map_flags 0x${def.flags.toString(16)}: a device map takes only BPF_F_NUMA_NODE, BPF_F_RDONLY and BPF_F_WRONLY`);
    }
    const hashed = def.type === BPF_MAP_TYPE.BPF_MAP_TYPE_DEVMAP_HASH;
    if (hashed && def.maxEntries > 2 ** 31) throw new MapDefinitionError(def, 'max_entries above 2^31 (roundup_pow_of_two would overflow)');
    if (def.maxEntries > MAX_EMULATED_ENTRIES) throw new MapDefinitionError(def, `max_entries ${def.maxEntries} is more than bpfbed emulates (${MAX_EMULATED_ENTRIES})`);
    super({ ...def, flags: def.flags | BPF_F_RDONLY_PROG }, ctx);
    this.hashed = hashed;
    this.resolver = resolver;
    this.slotSize = 8;
    // Values live in VM memory so that a program's lookup returns a pointer it can read.
    this.arena = new SlotArena(ctx.mem, this.regionName, this.slotSize, def.maxEntries, !hashed, { visible: true, read: true, write: false });
    this.filled = new Uint8Array(hashed ? 0 : def.maxEntries);
    this.buckets = hashed ? Array.from({ length: nextPow2(def.maxEntries) }, () => []) : [];
    this.valuePtrs = new BigUint64Array(def.maxEntries);
  }

  /** The arena slot of `key`'s entry, -1 when there is none. */
  private slot(key: number): number {
    if (this.hashed) return this.slotOf.get(key) ?? -1;
    return key < this.maxEntries && this.filled[key] ? key : -1;
  }

  private pointer(slot: number): bigint {
    let p = this.valuePtrs[slot];
    if (p === 0n) p = this.valuePtrs[slot] = this.mem.toVirtual(this.arena.offset(slot));
    return p;
  }

  private valueAt(slot: number): { ifindex: number; progId: number } {
    const b = this.bytes();
    const off = this.arena.offset(slot);
    return { ifindex: readU32(b, off), progId: readU32(b, off + 4) };
  }

  /** __dev_map_lookup_elem / __dev_map_hash_lookup_elem: where `key` sends a frame, if anywhere. */
  target(key: number): DevmapTarget | undefined {
    const slot = this.slot(key >>> 0);
    if (slot < 0) return undefined;
    const v = this.valueAt(slot);
    return { kind: 'device', key: key >>> 0, ifindex: v.ifindex, progId: v.progId };
  }

  /**
   * Every entry in the order dev_map_enqueue_multi visits them for BPF_F_BROADCAST (slot order;
   * DEVMAP_HASH: bucket order, newest first in a bucket), leaving out `excludeIfindex` (the
   * ingress device with BPF_F_EXCLUDE_INGRESS; bpfbed's devices have no upper devices).
   */
  broadcastTargets(excludeIfindex?: number): DevmapTarget[] {
    const out: DevmapTarget[] = [];
    for (const key of this.keysInOrder()) {
      const t = this.target(key)!;
      if (excludeIfindex !== undefined && t.ifindex === excludeIfindex) continue;
      out.push(t);
    }
    return out;
  }

  private keysInOrder(): number[] {
    if (this.hashed) return this.buckets.flat();
    const keys: number[] = [];
    for (let i = 0; i < this.maxEntries; i++) if (this.filled[i]) keys.push(i);
    return keys;
  }

  /** dev_map_lookup_elem: a read-only pointer to struct bpf_devmap_val, NULL when empty. */
  bpfLookup(kb: Uint8Array, ko: number): bigint {
    const slot = this.slot(readU32(kb, ko));
    return slot < 0 ? 0n : this.pointer(slot);
  }

  /** check_map_func_compatibility (kernel/bpf/verifier.c): a device map takes no update from a program. */
  bpfUpdate(): number {
    throw new Error(`bpf_map_update_elem: map ${this.name} is a ${this.hashed ? 'DEVMAP_HASH' : 'DEVMAP'}; the verifier allows only bpf_map_lookup_elem and bpf_redirect_map on it`);
  }

  bpfDelete(): number {
    throw new Error(`bpf_map_delete_elem: map ${this.name} is a ${this.hashed ? 'DEVMAP_HASH' : 'DEVMAP'}; the verifier allows only bpf_map_lookup_elem and bpf_redirect_map on it`);
  }

  /** bpf_for_each_map_elem does not take device maps (the verifier refuses). */
  forEach(): number {
    return -EINVAL;
  }

  lookup(key: Uint8Array): number | undefined {
    this.checkKey(key);
    const slot = this.slot(readU32(key, 0));
    return slot < 0 ? undefined : this.arena.offset(slot);
  }

  /** map_lookup_elem: struct bpf_devmap_val with the program's id; -ENOENT (undefined) when empty. */
  read(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    const slot = this.slot(readU32(key, 0));
    if (slot < 0) return undefined;
    const off = this.arena.offset(slot);
    return this.bytes().slice(off, off + this.valueSize);
  }

  /** __dev_map_alloc_node's checks: 0, or -EINVAL for an unknown device or program. */
  private checkTarget(ifindex: number, progFd: number): number {
    const exists = this.resolver.deviceExists ?? ((i: number) => i > 0);
    if (!exists(ifindex)) return -EINVAL;
    // bpf_prog.fd is an int: only fd > 0 names a program
    if ((progFd | 0) > 0 && !(this.resolver.progExists?.(progFd) ?? false)) return -EINVAL;
    return 0;
  }

  private store(slot: number, ifindex: number, progFd: number): void {
    const b = this.bytes();
    const off = this.arena.offset(slot);
    const progId = (progFd | 0) > 0 ? progFd : 0;
    for (let i = 0; i < 4; i++) {
      b[off + i] = (ifindex >>> (8 * i)) & 0xff;
      b[off + 4 + i] = (progId >>> (8 * i)) & 0xff;
    }
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    this.checkKey(key);
    this.checkValue(value);
    if (this.frozen || this.flags & BPF_F_RDONLY) return -EPERM;
    const k = readU32(key, 0);
    const ifindex = readU32(value, 0);
    const progFd = this.valueSize === 8 ? readU32(value, 4) : 0;
    return this.hashed ? this.updateHash(k, ifindex, progFd, flags) : this.updateArray(k, ifindex, progFd, flags);
  }

  /** __dev_map_update_elem */
  private updateArray(k: number, ifindex: number, progFd: number, flags: number): number {
    if (flags > BPF_EXIST) return -EINVAL;
    if (k >= this.maxEntries) return -E2BIG;
    if (flags === BPF_NOEXIST) return -EEXIST;
    if (ifindex === 0) {
      if ((progFd | 0) > 0) return -EINVAL; // "can not specify fd if ifindex is 0"
      this.filled[k] = 0;
      return 0;
    }
    const err = this.checkTarget(ifindex, progFd);
    if (err) return err;
    this.store(k, ifindex, progFd);
    this.filled[k] = 1;
    return 0;
  }

  /** __dev_map_hash_update_elem */
  private updateHash(k: number, ifindex: number, progFd: number, flags: number): number {
    if (flags > BPF_EXIST || ifindex === 0) return -EINVAL;
    const old = this.slotOf.get(k);
    if (old !== undefined && flags & BPF_NOEXIST) return -EEXIST;
    const err = this.checkTarget(ifindex, progFd);
    if (err) return err;
    const bucket = this.buckets[k & (this.buckets.length - 1)];
    let slot: number;
    if (old !== undefined) {
      bucket.splice(bucket.indexOf(k), 1); // hlist_del_rcu of the old node ...
      slot = old;
    } else {
      if (this.slotOf.size >= this.maxEntries) return -E2BIG;
      slot = this.arena.allocSlot();
      this.slotOf.set(k, slot);
    }
    bucket.unshift(k); // ... and hlist_add_head_rcu of the new one
    this.store(slot, ifindex, progFd);
    return 0;
  }

  /** dev_map_delete_elem (-EINVAL past max_entries, 0 for an empty slot) / dev_map_hash_delete_elem (-ENOENT). */
  delete(key: Uint8Array): number {
    this.checkKey(key);
    if (this.frozen || this.flags & BPF_F_RDONLY) return -EPERM;
    const k = readU32(key, 0);
    if (!this.hashed) {
      if (k >= this.maxEntries) return -EINVAL;
      this.filled[k] = 0;
      return 0;
    }
    const slot = this.slotOf.get(k);
    if (slot === undefined) return -ENOENT;
    const bucket = this.buckets[k & (this.buckets.length - 1)];
    bucket.splice(bucket.indexOf(k), 1);
    this.slotOf.delete(k);
    this.arena.freeSlot(slot);
    return 0;
  }

  /** dev_map_get_next_key (indices, as an array) / dev_map_hash_get_next_key (bucket order). */
  getNextKey(key?: Uint8Array): Uint8Array | undefined {
    if (key !== undefined) this.checkKey(key);
    const k = key === undefined ? undefined : readU32(key, 0);
    if (!this.hashed) return nextIndexKey(this.maxEntries, k);
    let from = 0;
    if (k !== undefined && this.slotOf.has(k)) {
      const b = k & (this.buckets.length - 1);
      const bucket = this.buckets[b];
      const at = bucket.indexOf(k);
      if (at + 1 < bucket.length) return u32Key(bucket[at + 1]);
      from = b + 1;
    }
    for (let b = from; b < this.buckets.length; b++) if (this.buckets[b].length) return u32Key(this.buckets[b][0]);
    return undefined;
  }

  protected saveBody(): MapState {
    const keys = this.keysInOrder();
    const slots = Int32Array.from(keys, (k) => this.slot(k));
    // the arena's bookkeeping, and the values of the slots in use only (src/maps/arena.ts)
    return { arena: this.arena.saveState(), keys: copyOf(Uint32Array.from(keys)), slots: copyOf(slots), values: this.arena.saveSlots(this.bytes(), slots) };
  }

  protected restoreBody(body: MapState): void {
    this.arena.restoreState(body.arena as MapState, () => this.bytes());
    const saved = body.keys instanceof Uint8Array ? body.keys.byteLength / 4 : -1;
    if (!Number.isInteger(saved) || saved < 0 || saved > this.maxEntries) throw new Error(`map ${this.name}: the saved entries do not fit this map`);
    const keys = new Uint32Array(saved);
    const slots = new Int32Array(saved);
    restoreInto('keys', keys, body.keys);
    restoreInto('slots', slots, body.slots);
    this.filled.fill(0);
    this.slotOf.clear();
    for (const b of this.buckets) b.length = 0;
    // keys come in iteration order: appending rebuilds each bucket in the same order
    keys.forEach((k, i) => {
      if (!this.hashed) {
        if (k >= this.maxEntries || slots[i] !== k) throw new Error(`map ${this.name}: saved key ${k} does not fit this map`);
        this.filled[k] = 1;
        return;
      }
      this.slotOf.set(k, slots[i]);
      this.buckets[k & (this.buckets.length - 1)].push(k);
    });
    this.arena.restoreSlots(this.bytes(), slots, body.values);
  }

  override destroy(): void {
    this.arena.destroy();
  }
}

/** roundup_pow_of_two */
function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
