// The contracts of the emulated BPF maps: what a map is built from (MapDefinition), the memory it
// keeps its values in (MapMemory, which the VM's Machine satisfies), and what every map offers to
// the helpers (the BPF side) and to the host (the bpf(2) syscall side). Browser-safe.

import type { RegionOptions } from '../vm/types.js';

/**
 * What a map is made from: the fields of the loader's MapSpec (src/loader/spec.ts) that the
 * kernel's BPF_MAP_CREATE takes (union bpf_attr, include/uapi/linux/bpf.h). Structurally
 * compatible with MapSpec, so a spec's map can be passed as is.
 */
export interface MapDefinition {
  name: string;
  /** BPF_MAP_TYPE_* number. */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BPF_F_* map flags. */
  flags: number;
  /** For ARRAY_OF_MAPS / HASH_OF_MAPS: the template every inner map must match. */
  innerMap?: MapDefinition;
  /** Initial bytes of entry 0 (global data sections: .data, .rodata, .bss). */
  initialValue?: Uint8Array;
  /** The loader's MapSpec.readonly (.rodata, .kconfig): as BPF_F_RDONLY_PROG, programs only read. */
  readonly?: boolean;
  /**
   * Byte offset of a `struct bpf_spin_lock` inside the value, when the value's BTF has one.
   * copy_map_value() (include/linux/bpf.h) never copies over it, and BPF_F_LOCK needs it.
   */
  spinLockOffset?: number;
}

/**
 * The VM memory maps live in. The Machine (src/vm/machine.ts) satisfies this structurally;
 * tests can use any implementation backed by one ArrayBuffer.
 */
export interface MapMemory {
  /** Zeroed block of `size` bytes, aligned to `align` (default 8); returns its wasm offset. */
  alloc(size: number, align?: number): number;
  free(off: number): void;
  /** The whole memory. Fetch again after any alloc: the memory may have grown. */
  bytes(): Uint8Array;
  /** BPF pointer of a wasm offset (VBASE + offset). */
  toVirtual(off: number): bigint;
  /** wasm offset of a BPF pointer, or undefined when it does not point into VM memory. */
  toOffset(addr: bigint): number | undefined;
  /** Makes [off, off + len) accessible to BPF programs; returns a region id. */
  addRegion(off: number, len: number, opts: RegionOptions): number;
  removeRegion(id: number): void;
}

/** Options shared by every map of one emulated machine. */
export interface MapOptions {
  /** num_possible_cpus() of the emulated machine (per-CPU values, LRU lists). Default 1. */
  nrCpus?: number;
}

/** One entry as the host sees it. Per-CPU maps give one value per CPU (valueSize bytes each). */
export interface MapEntry {
  key: Uint8Array;
  value: Uint8Array;
  /** Per-CPU maps only: each CPU's value. */
  perCpu?: Uint8Array[];
}

export interface MapDump {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  entries: MapEntry[];
}

/**
 * Every map. Two faces:
 *
 * - the BPF side, used by the helpers with keys and values read straight from VM memory (a byte
 *   array and an offset into it, so a helper call allocates nothing): `bpfLookup`, `bpfUpdate`,
 *   `bpfDelete`, `forEach`;
 * - the host side, the bpf(2) syscall's semantics (BPF_MAP_LOOKUP_ELEM copies a value out,
 *   per-CPU values come as nrCpus slots of round_up(valueSize, 8) bytes, an LRU lookup does not
 *   mark the entry as used): `lookup`, `read`, `update`, `delete`, `getNextKey`, `entries`, `dump`.
 *
 * Results are the kernel's: 0 or a negative errno (ERRNO in errno.ts).
 */
export interface BpfMap {
  readonly def: Readonly<MapDefinition>;
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  /** The kernel may adjust it at creation (LRU with BPF_F_NO_COMMON_LRU rounds to the CPU count). */
  readonly maxEntries: number;
  readonly flags: number;
  readonly nrCpus: number;
  /** BPF_F_RDONLY_PROG (or a read-only global data section): programs may read but not write. */
  readonly progReadOnly: boolean;
  /** Set by the registry: map id (as `bpftool map` shows) and the opaque pointer `lddw` loads. */
  id: number;
  handle: bigint;

  /** r0 of bpf_map_lookup_elem: a BPF pointer to the value (or the inner map's handle), 0n for NULL. */
  bpfLookup(keyBuf: Uint8Array, keyOff: number, cpu: number): bigint;
  /** bpf_map_update_elem from a program: per-CPU maps set only `cpu`'s value. */
  bpfUpdate(keyBuf: Uint8Array, keyOff: number, valBuf: Uint8Array, valOff: number, flags: number, cpu: number): number;
  bpfDelete(keyBuf: Uint8Array, keyOff: number, cpu: number): number;
  /**
   * bpf_for_each_map_elem: calls `fn(keyOffset, valueOffset)` (wasm offsets) per element until it
   * returns true; returns the number of elements visited, the one that stopped included.
   * Returns -EINVAL (negative) for map types the kernel does not iterate this way.
   */
  forEach(cpu: number, fn: (keyOff: number, valueOff: number) => boolean): number;

  /** wasm offset of the value a program would see for `key` on `cpu` (default 0); no side effects. */
  lookup(key: Uint8Array, cpu?: number): number | undefined;
  /** BPF_MAP_LOOKUP_ELEM: a copy of the value (per-CPU: all CPUs, each rounded up to 8 bytes). */
  read(key: Uint8Array): Uint8Array | undefined;
  /**
   * BPF_MAP_UPDATE_ELEM: value in the syscall layout (per-CPU: all CPUs). 0 or -errno. `cpu` is
   * the CPU the calling process runs on (default 0): an LRU map takes the new element from that
   * CPU's local free list.
   */
  update(key: Uint8Array, value: Uint8Array, flags?: number, cpu?: number): number;
  /** BPF_MAP_DELETE_ELEM. 0 or -errno. */
  delete(key: Uint8Array): number;
  /** BPF_MAP_GET_NEXT_KEY: undefined for -ENOENT (the end). */
  getNextKey(key?: Uint8Array): Uint8Array | undefined;
  /** Every entry in get_next_key order. */
  entries(): MapEntry[];
  dump(): MapDump;
  /** The whole state as plain data (msgpackr-friendly), for snapshots (state.ts). */
  saveState(): import('./state.js').MapState;
  /** Restores a state saved from a map with the same definition and CPU count. */
  restoreState(state: import('./state.js').MapState): void;
}
