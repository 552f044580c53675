// XSKMAP (net/xdp/xskmap.c): the AF_XDP sockets bpf_redirect_map() hands XDP frames to. The kernel
// takes a socket fd as the value; bpfbed has no AF_XDP sockets, so a socket is a number (>= 1)
// the host chooses, and a frame redirected to it leaves the scenario pipeline as output
// `xsk:<number>` (src/run/pipeline.ts).
//
// Kernel semantics kept (checked against the running kernel, test/maps/devmap.test.ts):
// xsk_map_alloc: key 4, value 4, max_entries > 0, flags within BPF_F_NUMA_NODE | BPF_F_RDONLY |
// BPF_F_WRONLY; xsk_map_update_elem: flags > BPF_EXIST -EINVAL, key past max_entries -E2BIG, a
// value that is no socket -EBADF (bpfbed: 0, or one the resolver refuses), BPF_NOEXIST on a
// filled slot -EEXIST and BPF_EXIST on an empty one -ENOENT, unless the socket is the same one
// (0); xsk_map_lookup_elem_sys_only: the syscall never reads an entry (-EOPNOTSUPP);
// xsk_map_delete_elem: -EINVAL past max_entries, else 0. A program's lookup returns the socket,
// which the verifier lets it read as struct bpf_xdp_sock { __u32 queue_id; } (bpf_xdp_sock_convert_ctx_access):
// here a read-only u32 per slot holding the queue the socket is bound to, 0 (bpfbed's devices have one queue).

import { SlotArena } from './arena.js';
import { MapDefinitionError, type MapContext } from './base.js';
import { IndexedMap } from './array.js';
import { readU32 } from './bytes.js';
import { E2BIG, EBADF, EEXIST, EINVAL, ENOENT, EOPNOTSUPP } from './errno.js';
import { copyOf, restoreInto, type MapState } from './state.js';
import type { MapDefinition } from './types.js';
import { BPF_EXIST, BPF_F_RDONLY, BPF_F_WRONLY, BPF_NOEXIST } from './uapi.js';
import { BPF_F_NUMA_NODE } from './devmap.js';

/** Where an entry of an XSKMAP sends a frame: to an AF_XDP socket. */
export interface XskmapTarget {
  kind: 'xsk';
  key: number;
  /** The socket's number (the host's stand-in for its fd). */
  socket: number;
}

const MAX_EMULATED_ENTRIES = 1 << 20;

export class XskMap extends IndexedMap {
  /** Socket per slot, 0 = empty. */
  private readonly sockets: Uint32Array;
  /** struct bpf_xdp_sock per slot (queue_id), what a program's lookup points to. */
  private readonly arena: SlotArena;
  private readonly ptrs: BigUint64Array;
  /** sockfd_lookup + the PF_XDP check: whether a socket number names an AF_XDP socket. Default: any >= 1. */
  socketExists?: (socket: number) => boolean;

  constructor(def: MapDefinition, ctx: MapContext) {
    if (def.maxEntries === 0 || def.keySize !== 4 || def.valueSize !== 4 || def.flags & ~(BPF_F_NUMA_NODE | BPF_F_RDONLY | BPF_F_WRONLY)) {
      throw new MapDefinitionError(def, `an XSKMAP needs key_size 4, value_size 4, max_entries > 0 and no flags but BPF_F_NUMA_NODE, BPF_F_RDONLY, BPF_F_WRONLY (got ${def.keySize}, ${def.valueSize}, ${def.maxEntries}, 0x${def.flags.toString(16)})`);
    }
    if (def.maxEntries > MAX_EMULATED_ENTRIES) throw new MapDefinitionError(def, `max_entries ${def.maxEntries} is more than bpfbed emulates (${MAX_EMULATED_ENTRIES})`);
    super(def, ctx);
    this.sockets = new Uint32Array(def.maxEntries);
    this.arena = new SlotArena(ctx.mem, `AF_XDP socket of ${def.name}`, 8, def.maxEntries, true, { visible: true, read: true, write: false });
    this.ptrs = new BigUint64Array(def.maxEntries);
  }

  /** __xsk_map_lookup_elem: the socket `key` sends a frame to, if any. */
  target(key: number): XskmapTarget | undefined {
    const k = key >>> 0;
    if (k >= this.maxEntries || this.sockets[k] === 0) return undefined;
    return { kind: 'xsk', key: k, socket: this.sockets[k] };
  }

  /** xsk_map_lookup_elem (xsk_map_gen_lookup): the socket, NULL for an empty slot. */
  bpfLookup(kb: Uint8Array, ko: number): bigint {
    const k = readU32(kb, ko);
    if (k >= this.maxEntries || this.sockets[k] === 0) return 0n;
    let p = this.ptrs[k];
    if (p === 0n) p = this.ptrs[k] = this.mem.toVirtual(this.arena.offset(k));
    return p;
  }

  bpfUpdate(): number {
    throw new Error(`bpf_map_update_elem: map ${this.name} is an XSKMAP; the verifier allows only bpf_map_lookup_elem and bpf_redirect_map on it from XDP`);
  }
  bpfDelete(): number {
    throw new Error(`bpf_map_delete_elem: map ${this.name} is an XSKMAP; the verifier allows only bpf_map_lookup_elem and bpf_redirect_map on it from XDP`);
  }
  forEach(): number {
    return -EINVAL;
  }

  lookup(key: Uint8Array): number | undefined {
    const k = this.keyIndex(key);
    return k < this.maxEntries && this.sockets[k] !== 0 ? this.arena.offset(k) : undefined;
  }

  /** The syscall cannot read an XSKMAP (xsk_map_lookup_elem_sys_only: -EOPNOTSUPP). */
  read(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    return undefined;
  }

  /** The errno BPF_MAP_LOOKUP_ELEM gives: always -EOPNOTSUPP. */
  readErrno(): number {
    return -EOPNOTSUPP;
  }

  /** The socket in each filled slot, for the host (the syscall cannot show them). */
  socketsByKey(): { key: number; socket: number }[] {
    const out: { key: number; socket: number }[] = [];
    this.sockets.forEach((socket, key) => socket && out.push({ key, socket }));
    return out;
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    const k = this.keyIndex(key);
    this.checkValue(value);
    const refused = this.writeRefused();
    if (refused) return refused;
    const socket = readU32(value, 0);
    if (flags > BPF_EXIST) return -EINVAL;
    if (k >= this.maxEntries) return -E2BIG;
    if (socket === 0 || (this.socketExists && !this.socketExists(socket))) return -EBADF;
    const old = this.sockets[k];
    if (old === socket) return 0;
    if (old !== 0 && flags === BPF_NOEXIST) return -EEXIST;
    if (old === 0 && flags === BPF_EXIST) return -ENOENT;
    this.sockets[k] = socket;
    return 0;
  }

  delete(key: Uint8Array): number {
    return this.clearSlot(key, (k) => (this.sockets[k] = 0));
  }

  protected saveBody(): MapState {
    return { sockets: copyOf(this.sockets) };
  }

  protected restoreBody(body: MapState): void {
    restoreInto('sockets', this.sockets, body.sockets);
  }

  override destroy(): void {
    this.arena.destroy();
  }
}
