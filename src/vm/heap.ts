// The allocator of the VM's linear memory above the wasm module's static data: first fit over a
// sorted free list, neighbours merged on free, growth through a callback. It hands out offsets
// only; zeroing and the memory itself belong to the Machine.

export class Heap {
  /** Free blocks [offset, size], sorted by offset. */
  private readonly freeList: [number, number][] = [];
  /** Allocated blocks: offset → size. */
  private readonly blocks = new Map<number, number>();

  /**
   * @param grow called when no free block fits: must add at least `bytes` bytes at the end of
   *   the heap and return the previous and the new end.
   */
  constructor(
    start: number,
    end: number,
    private readonly grow: (bytes: number) => { oldEnd: number; newEnd: number },
  ) {
    if (end > start) this.freeList.push([start, end - start]);
  }

  /** Offset of a new block of at least `size` bytes aligned to `alignment` (a power of two). */
  alloc(size: number, alignment: number): number {
    const want = Math.max(roundUp(size, 8), 8);
    for (let attempt = 0; attempt < 2; attempt++) {
      for (let i = 0; i < this.freeList.length; i++) {
        const [off, len] = this.freeList[i];
        const start = roundUp(off, alignment);
        const end = start + want;
        if (end > off + len) continue;
        const pieces: [number, number][] = [];
        if (start > off) pieces.push([off, start - off]);
        if (off + len > end) pieces.push([end, off + len - end]);
        this.freeList.splice(i, 1, ...pieces);
        this.blocks.set(start, want);
        return start;
      }
      const { oldEnd, newEnd } = this.grow(want + alignment);
      this.release(oldEnd, newEnd - oldEnd);
    }
    throw new RangeError(`alloc: cannot allocate ${size} bytes`);
  }

  /** Size of the block at `off`, or undefined if it is not an allocated block. */
  sizeOf(off: number): number | undefined {
    return this.blocks.get(off);
  }

  free(off: number): void {
    const size = this.blocks.get(off);
    if (size === undefined) throw new Error(`free: 0x${off.toString(16)} was not allocated`);
    this.blocks.delete(off);
    this.release(off, size);
  }

  private release(off: number, size: number): void {
    const list = this.freeList;
    let i = 0;
    while (i < list.length && list[i][0] < off) i++;
    list.splice(i, 0, [off, size]);
    if (i + 1 < list.length && list[i][0] + list[i][1] === list[i + 1][0]) {
      list[i][1] += list[i + 1][1];
      list.splice(i + 1, 1);
    }
    if (i > 0 && list[i - 1][0] + list[i - 1][1] === list[i][0]) {
      list[i - 1][1] += list[i][1];
      list.splice(i, 1);
    }
  }
}

export function roundUp(v: number, a: number): number {
  return Math.ceil(v / a) * a;
}
