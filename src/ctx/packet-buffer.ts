// A packet in VM memory the way the kernel lays one out: a buffer with headroom before the
// data and tailroom after it, the data [data, data_end) as a PACKET region and the metadata
// [data_meta, data) as a second one (the verifier's PTR_TO_PACKET and PTR_TO_PACKET_META are
// separate ranges). Helpers that change the layout move the bounds (and, when the buffer is too
// small, reallocate it as pskb_expand_head does); `onChange` then re-establishes the context's
// pointer fields, as bpf_compute_data_pointers() does after every such helper (net/core/filter.c).
import type { Machine } from '../vm/machine.js';
import { copyPacket } from './packet-copy.js';

export interface PacketBufferOptions {
  /** Bytes before the data (the kernel's skb headroom, or XDP_PACKET_HEADROOM). */
  headroom: number;
  /** Bytes after the data. */
  tailroom: number;
  /** Metadata bytes just before the data (data_meta = data - metaLen). */
  meta?: Uint8Array;
  /** Region names shown in faults. */
  name: string;
  /** May the buffer be reallocated when a helper needs more room (skb: yes, XDP frame: no)? */
  growable: boolean;
}

export class PacketBuffer {
  /** wasm offset of the buffer, and its capacity. */
  private base: number;
  private cap: number;
  /** Bounds relative to the buffer start. */
  private dataOff: number;
  private endOff: number;
  private metaLen: number;
  readonly packetRegion: number;
  readonly metaRegion: number;
  /** Called after every layout change, with the machine's regions already updated. */
  onChange?: () => void;

  constructor(
    private readonly machine: Machine,
    data: Uint8Array,
    private readonly opts: PacketBufferOptions,
  ) {
    const metaLen = opts.meta?.length ?? 0;
    if (metaLen > opts.headroom) throw new RangeError(`${opts.name}: ${metaLen} bytes of metadata do not fit in ${opts.headroom} bytes of headroom`);
    this.cap = opts.headroom + data.length + opts.tailroom;
    this.base = machine.alloc(Math.max(this.cap, 8), 8);
    this.dataOff = opts.headroom;
    this.endOff = opts.headroom + data.length;
    this.metaLen = metaLen;
    const bytes = machine.bytes();
    bytes.set(data, this.base + this.dataOff);
    if (opts.meta) bytes.set(opts.meta, this.base + this.dataOff - metaLen);
    this.packetRegion = machine.addRegion(this.base + this.dataOff, data.length, { kind: 'packet', name: opts.name, read: true, write: true });
    this.synced = [this.base + this.dataOff, data.length, this.base + this.dataOff - metaLen, metaLen];
    this.updateAddresses();
    this.metaRegion = machine.addRegion(this.base + this.dataOff - metaLen, metaLen, {
      kind: 'packet',
      name: `${opts.name} metadata`,
      read: true,
      write: true,
    });
  }

  get length(): number {
    return this.endOff - this.dataOff;
  }
  get metaLength(): number {
    return this.metaLen;
  }
  /** Bytes between the buffer start and data_meta (what a push can use without reallocating). */
  get headroom(): number {
    return this.dataOff - this.metaLen;
  }
  /** Bytes between data_end and the end of the buffer. */
  get tailroom(): number {
    return this.cap - this.endOff;
  }

  /** Virtual addresses of data, data_end and data_meta. */
  get data(): bigint {
    return this.dataAddr;
  }
  get dataEnd(): bigint {
    return this.endAddr;
  }
  get dataMeta(): bigint {
    return this.metaAddr;
  }
  /** Virtual address of the start of the buffer (XDP's data_hard_start). */
  get hardStart(): bigint {
    return this.machine.toVirtual(this.base);
  }

  /** A live view of the packet bytes (take a new one after any helper: memory may move). */
  view(): Uint8Array {
    return this.machine.bytes().subarray(this.base + this.dataOff, this.base + this.endOff);
  }
  metaView(): Uint8Array {
    return this.machine.bytes().subarray(this.base + this.dataOff - this.metaLen, this.base + this.dataOff);
  }
  /** A copy of the packet bytes (packet-copy.ts: cheap for ordinary packet sizes). */
  bytes(): Uint8Array {
    return copyPacket(this.machine.bytes(), this.base + this.dataOff, this.base + this.endOff);
  }
  metaBytes(): Uint8Array {
    if (this.metaLen === 0) return new Uint8Array(0);
    return copyPacket(this.machine.bytes(), this.base + this.dataOff - this.metaLen, this.base + this.dataOff);
  }

  /** wasm offset of packet byte `i` (for helpers reading and writing in place). */
  offsetOf(i: number): number {
    return this.base + this.dataOff + i;
  }

  /** Makes at least `n` bytes of headroom (before data_meta); reallocates if allowed. */
  ensureHeadroom(n: number): boolean {
    if (this.headroom >= n) return true;
    return this.realloc(n - this.headroom, 0);
  }

  ensureTailroom(n: number): boolean {
    if (this.tailroom >= n) return true;
    return this.realloc(0, n - this.tailroom);
  }

  private realloc(moreHead: number, moreTail: number): boolean {
    if (!this.opts.growable) return false;
    // Grow generously, as pskb_expand_head rounds to the allocator's size.
    const extraHead = moreHead > 0 ? Math.max(moreHead, 64) : 0;
    const extraTail = moreTail > 0 ? Math.max(moreTail, 64) : 0;
    const cap = this.cap + extraHead + extraTail;
    const base = this.machine.alloc(cap, 8);
    const bytes = this.machine.bytes();
    bytes.copyWithin(base + extraHead, this.base, this.base + this.cap);
    const old = this.base;
    this.base = base;
    this.cap = cap;
    this.dataOff += extraHead;
    this.endOff += extraHead;
    // The regions move to the new buffer before the old one is freed.
    this.sync();
    this.machine.free(old);
    return true;
  }

  /**
   * Moves data by `delta` bytes (negative: towards the head, growing the packet at its front as
   * skb_push / a negative bpf_xdp_adjust_head do). With `moveMeta` the metadata moves along
   * (bpf_xdp_adjust_head memmoves it); otherwise data_meta stays `metaLen` before the data.
   * The caller checks the limits.
   */
  moveData(delta: number, moveMeta = false): void {
    if (delta < 0 && !this.ensureHeadroom(-delta)) throw new RangeError(`${this.opts.name}: no headroom for ${-delta} bytes`);
    if (moveMeta && this.metaLen > 0) {
      const b = this.machine.bytes();
      const from = this.base + this.dataOff - this.metaLen;
      b.copyWithin(from + delta, from, from + this.metaLen);
    }
    this.dataOff += delta;
    this.sync();
  }

  /** Moves data_end by `delta` bytes; new bytes are zeroed. The caller checks the limits. */
  moveEnd(delta: number): void {
    if (delta > 0) {
      if (!this.ensureTailroom(delta)) throw new RangeError(`${this.opts.name}: no tailroom for ${delta} bytes`);
      this.machine.bytes().fill(0, this.base + this.endOff, this.base + this.endOff + delta);
    }
    this.endOff += delta;
    this.sync();
  }

  /** Sets the metadata length (data_meta = data - len). The caller checks the limits. */
  setMetaLength(len: number): void {
    this.metaLen = len;
    this.sync();
  }

  /**
   * Inserts `n` zero bytes at packet offset `at` by pushing the first `at` bytes towards the
   * head (bpf_skb_generic_push: skb_push, memmove, memset).
   */
  insert(at: number, n: number): void {
    if (!this.ensureHeadroom(n)) throw new RangeError(`${this.opts.name}: no headroom for ${n} bytes`);
    const b = this.machine.bytes();
    const start = this.base + this.dataOff;
    b.copyWithin(start - n, start, start + at);
    b.fill(0, start - n + at, start + at);
    this.dataOff -= n;
    this.sync();
  }

  /** Removes `n` bytes at packet offset `at`, pulling the first `at` bytes (bpf_skb_generic_pop). */
  remove(at: number, n: number): void {
    const b = this.machine.bytes();
    const start = this.base + this.dataOff;
    b.copyWithin(start + n, start, start + at);
    this.dataOff += n;
    this.sync();
  }

  /**
   * Starts over with a new packet (a run reusing this buffer): the bytes land `headroom` into
   * a zeroed buffer, as BPF_PROG_TEST_RUN's freshly zeroed allocation has them; the buffer
   * grows when they do not fit.
   */
  reset(data: Uint8Array, meta: Uint8Array = new Uint8Array(0), headroom = this.opts.headroom, tailroom = this.opts.tailroom): void {
    if (meta.length > headroom) throw new RangeError(`${this.opts.name}: ${meta.length} bytes of metadata do not fit in ${headroom} bytes of headroom`);
    const need = headroom + data.length + tailroom;
    let old = 0;
    if (need > this.cap) {
      old = this.base;
      this.base = this.machine.alloc(need, 8);
      this.cap = need;
    } else if (this.dirtyAll) {
      this.machine.bytes().fill(0, this.base, this.base + this.cap);
    } else {
      this.machine.bytes().fill(0, this.base + this.dirtyFrom, this.base + this.dirtyTo);
    }
    const bytes = this.machine.bytes();
    this.dataOff = headroom;
    this.endOff = headroom + data.length;
    this.metaLen = meta.length;
    bytes.set(data, this.base + this.dataOff);
    if (meta.length > 0) bytes.set(meta, this.base + this.dataOff - meta.length);
    this.sync();
    // Until the layout changes, only [data_meta, data_end) can be written (by the program
    // through its regions, by helpers in place) besides what writeBeforeData records.
    this.dirtyAll = false;
    this.dirtyFrom = this.dataOff - this.metaLen;
    this.dirtyTo = this.endOff;
    if (old) this.machine.free(old);
  }

  /**
   * Writes `bytes` just before the data, outside every region (a socket filter's pulled MAC
   * header), so that the next reset clears them too.
   */
  writeBeforeData(bytes: Uint8Array): void {
    const at = this.dataOff - bytes.length;
    this.machine.bytes().set(bytes, this.base + at);
    if (at < this.dirtyFrom) this.dirtyFrom = at;
  }

  /** Replaces the whole packet (keeps the metadata). */
  replace(data: Uint8Array): void {
    const delta = data.length - this.length;
    if (delta > 0 && !this.ensureTailroom(delta)) throw new RangeError(`${this.opts.name}: no tailroom for ${delta} bytes`);
    this.machine.bytes().set(data, this.base + this.dataOff);
    this.endOff = this.dataOff + data.length;
    this.sync();
  }

  /** The regions as last given to the machine (rewriting its region table costs; skip no-ops). */
  private readonly synced: number[];
  /**
   * data, data_end and data_meta as virtual addresses, recomputed only when their offsets move:
   * the context's pointer fields are re-established after every layout change and every run,
   * and a BigInt per pointer per packet showed in the profile (bench/packets).
   */
  private dataAddr = 0n;
  private endAddr = 0n;
  private metaAddr = 0n;
  private readonly addrOffsets = [-1, -1, -1];

  /**
   * What reset() must zero (relative to the buffer): everything after a layout change (helpers
   * move bytes anywhere in the buffer), else the range the last packet occupied. Zeroing only
   * that keeps the fresh-buffer contents of BPF_PROG_TEST_RUN without a memset of the whole
   * buffer per packet.
   */
  private dirtyAll = true;
  private dirtyFrom = 0;
  private dirtyTo = 0;

  private updateAddresses(): void {
    const d = this.base + this.dataOff;
    const e = this.base + this.endOff;
    const m = d - this.metaLen;
    const at = this.addrOffsets;
    if (at[0] !== d) this.dataAddr = this.machine.toVirtual((at[0] = d));
    if (at[1] !== e) this.endAddr = this.machine.toVirtual((at[1] = e));
    if (at[2] !== m) this.metaAddr = this.machine.toVirtual((at[2] = m));
  }

  private sync(): void {
    const p0 = this.base + this.dataOff;
    const p1 = this.endOff - this.dataOff;
    const m0 = this.base + this.dataOff - this.metaLen;
    const sy = this.synced;
    if (sy[0] !== p0 || sy[1] !== p1) this.machine.resizeRegion(this.packetRegion, p0, p1);
    if (sy[2] !== m0 || sy[3] !== this.metaLen) this.machine.resizeRegion(this.metaRegion, m0, this.metaLen);
    sy[0] = p0;
    sy[1] = p1;
    sy[2] = m0;
    sy[3] = this.metaLen;
    this.dirtyAll = true;
    this.updateAddresses();
    this.onChange?.();
  }

  /** Removes the regions and frees the buffer. */
  release(): void {
    this.machine.removeRegion(this.packetRegion);
    this.machine.removeRegion(this.metaRegion);
    this.machine.free(this.base);
  }
}
