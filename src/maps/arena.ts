// Fixed-size element slots in VM memory, with one VM region per allocated chunk so a BPF program
// can read and write the values it was given pointers to ("map value of <map>" in faults).
//
// Preallocated maps (the kernel's default for hash maps, always for arrays and LRU maps) get all
// their slots in one chunk at creation, like the kernel's prealloc_init(). BPF_F_NO_PREALLOC maps
// and LPM tries (which the kernel allocates per element) grow by doubling chunks, so a map with a
// large max_entries costs memory only for what it holds, with few regions (log2 of the size).

import { copyOf, restoreInto, type MapState } from './state.js';
import type { MapMemory } from './types.js';

const FIRST_CHUNK_SLOTS = 64;

export interface ArenaAccess {
  read: boolean;
  write: boolean;
  /** false for maps whose values no program may touch (prog arrays, map-in-map). */
  visible: boolean;
}

export class SlotArena {
  /** wasm offset of each slot, -1 until its chunk exists. */
  readonly offsets: Int32Array;
  private materialized = 0;
  private readonly chunks: { off: number; region: number }[] = [];
  /** Free slots (a stack: the most recently freed is reused first, like a per-CPU freelist). */
  private readonly freeStack: Int32Array;
  private freeTop = 0;
  /** Slots never handed out yet are taken in order from here. */
  private fresh = 0;

  constructor(
    private readonly mem: MapMemory,
    private readonly regionName: string,
    readonly slotSize: number,
    readonly capacity: number,
    prealloc: boolean,
    private readonly access: ArenaAccess,
  ) {
    this.offsets = new Int32Array(capacity).fill(-1);
    this.freeStack = new Int32Array(capacity);
    if (prealloc) this.grow(capacity);
  }

  /** Slots in use. */
  get used(): number {
    return this.fresh - this.freeTop;
  }

  /** A free slot, or -1 when all `capacity` are in use. */
  allocSlot(): number {
    if (this.freeTop > 0) return this.freeStack[--this.freeTop];
    if (this.fresh >= this.capacity) return -1;
    const slot = this.fresh++;
    if (slot >= this.materialized) this.grow(Math.min(this.capacity - this.materialized, Math.max(FIRST_CHUNK_SLOTS, this.materialized)));
    return slot;
  }

  freeSlot(slot: number): void {
    this.freeStack[this.freeTop++] = slot;
  }

  offset(slot: number): number {
    return this.offsets[slot];
  }

  /**
   * Slot bookkeeping and the bytes of every slot that exists (LRU maps use their preallocated
   * slots directly, without allocSlot, so this is all materialized slots, not only those handed out).
   */
  saveState(mem: Uint8Array): MapState {
    const n = this.materialized;
    const data = new Uint8Array(n * this.slotSize);
    for (let s = 0; s < n; s++) data.set(mem.subarray(this.offsets[s], this.offsets[s] + this.slotSize), s * this.slotSize);
    return { slots: n, fresh: this.fresh, freeStack: copyOf(this.freeStack.subarray(0, this.freeTop)), data };
  }

  restoreState(state: MapState, mem: () => Uint8Array): void {
    const n = state.slots as number;
    const data = state.data as Uint8Array;
    if (!(n <= this.capacity) || !(data instanceof Uint8Array) || data.length !== n * this.slotSize) {
      throw new Error('map state: the value memory does not fit this map');
    }
    while (this.materialized < n) this.grow(Math.min(this.capacity - this.materialized, Math.max(FIRST_CHUNK_SLOTS, this.materialized)));
    const bytes = mem();
    for (let s = 0; s < n; s++) bytes.set(data.subarray(s * this.slotSize, (s + 1) * this.slotSize), this.offsets[s]);
    this.fresh = state.fresh as number;
    const free = state.freeStack as Uint8Array;
    this.freeTop = free.byteLength / 4;
    restoreInto('free slots', this.freeStack.subarray(0, this.freeTop), free);
  }

  /** Frees every chunk and its region (the map is destroyed). */
  destroy(): void {
    for (const c of this.chunks) {
      if (c.region >= 0) this.mem.removeRegion(c.region);
      this.mem.free(c.off);
    }
    this.chunks.length = 0;
  }

  private grow(slots: number): void {
    if (slots <= 0) return;
    const len = slots * this.slotSize;
    const off = this.mem.alloc(Math.max(len, 8), 8);
    const region = this.access.visible
      ? this.mem.addRegion(off, len, { kind: 'map_value', name: this.regionName, read: this.access.read, write: this.access.write })
      : -1;
    this.chunks.push({ off, region });
    for (let i = 0; i < slots; i++) this.offsets[this.materialized + i] = off + i * this.slotSize;
    this.materialized += slots;
  }
}
