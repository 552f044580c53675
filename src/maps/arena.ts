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
  private readonly chunks: { off: number; len: number; region: number }[] = [];
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
   * Slot bookkeeping: how many slots exist (chunks decide where later ones live), which were
   * never handed out, and the free stack in order (it decides which slot the next element takes).
   * The slots' bytes are the owner's to save (saveSlots), only for the slots it uses.
   */
  saveState(): MapState {
    return { slots: this.materialized, fresh: this.fresh, freeStack: copyOf(this.freeStack.subarray(0, this.freeTop)) };
  }

  /**
   * Restores saveState's bookkeeping, growing to the saved number of slots, and zeroes every
   * slot: the owner then writes back the bytes of the slots it uses (restoreSlots). A map that
   * has already grown past the saved number keeps its chunks: which slot a new element takes
   * does not depend on them, only where in VM memory it lives.
   */
  restoreState(state: MapState, mem: () => Uint8Array): void {
    const n = state.slots as number;
    const fresh = state.fresh as number;
    if (!Number.isInteger(n) || n < 0 || n > this.capacity || !Number.isInteger(fresh) || fresh < 0 || fresh > n) {
      throw new Error(`map state: ${n} value slots (${fresh} handed out) do not fit this map (${this.capacity} slots)`);
    }
    while (this.materialized < n) this.grow(Math.min(this.capacity - this.materialized, Math.max(FIRST_CHUNK_SLOTS, this.materialized)));
    const bytes = mem();
    for (const c of this.chunks) bytes.fill(0, c.off, c.off + c.len);
    this.fresh = fresh;
    const free = state.freeStack;
    this.freeTop = free instanceof Uint8Array ? free.byteLength / 4 : -1;
    if (!(this.freeTop >= 0 && this.freeTop <= this.capacity)) throw new Error('map state: the free slot list does not fit this map');
    restoreInto('free slots', this.freeStack.subarray(0, this.freeTop), free);
  }

  /** The bytes of the given slots, one after another. */
  saveSlots(mem: Uint8Array, slots: ArrayLike<number>): Uint8Array {
    const data = new Uint8Array(slots.length * this.slotSize);
    for (let i = 0; i < slots.length; i++) {
      const off = this.offsets[slots[i]];
      data.set(mem.subarray(off, off + this.slotSize), i * this.slotSize);
    }
    return data;
  }

  /** Writes back saveSlots' bytes of the same slots. */
  restoreSlots(mem: Uint8Array, slots: ArrayLike<number>, data: unknown): void {
    if (!(data instanceof Uint8Array) || data.length !== slots.length * this.slotSize) {
      throw new Error(`map state: ${slots.length} elements need ${slots.length * this.slotSize} bytes of values, got ${data instanceof Uint8Array ? data.length : 'none'}`);
    }
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i];
      if (!(s >= 0 && s < this.materialized)) throw new Error(`map state: element slot ${s} does not exist (${this.materialized} slots)`);
      mem.set(data.subarray(i * this.slotSize, (i + 1) * this.slotSize), this.offsets[s]);
    }
  }

  /** The whole memory of slot 0 (single-slot owners: arrays). */
  slotBytes(mem: Uint8Array, slot: number): Uint8Array {
    return mem.subarray(this.offsets[slot], this.offsets[slot] + this.slotSize);
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
    this.chunks.push({ off, len, region });
    for (let i = 0; i < slots; i++) this.offsets[this.materialized + i] = off + i * this.slotSize;
    this.materialized += slots;
  }
}
