// RINGBUF (kernel/bpf/ringbuf.c). max_entries is the data size in bytes (a power of two, page
// aligned). Every record is an 8-byte header { u32 len (BUSY, DISCARD bits); u32 pg_off } then
// the sample, rounded up to 8; producer and consumer positions only grow. The kernel maps the
// data area twice in a row so a record that wraps is contiguous; here the area is allocated
// twice as long, which gives a program the same contiguous sample (only this host reads it).
//
// The consumer is the host: by default it consumes as soon as a record is committed (a reader
// that is always waiting); with `manual` consumption records stay until consume(), so a program
// that produces more than the ring holds sees reserve fail, as with a slow reader.

import { MapBase, MapDefinitionError, type MapContext } from './base.js';
import { EINVAL } from './errno.js';
import { restoreNonZero, saveNonZero, type MapState } from './state.js';
import type { MapDefinition } from './types.js';
import { BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_PROD_POS, BPF_RB_RING_SIZE } from './uapi.js';

const BUSY_BIT = 0x8000_0000;
const DISCARD_BIT = 0x4000_0000;
const HDR_SZ = 8;
const PAGE_SIZE = 4096;
/** RINGBUF_MAX_RECORD_SZ */
const MAX_RECORD_SZ = Math.floor(0xffff_ffff / 4);

export interface RingbufRecord {
  data: Uint8Array;
}

export class RingbufMap extends MapBase {
  readonly size: number;
  private readonly mask: number;
  /** wasm offset of the data area (2 x size bytes). */
  readonly dataOff: number;
  private readonly region: number;
  producerPos = 0;
  consumerPos = 0;
  private pendingPos = 0;
  /** Consume records as soon as they are committed (default) or only on consume(). */
  manual = false;
  records: RingbufRecord[] = [];

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx);
    // ringbuf_map_alloc
    const n = def.maxEntries;
    if (def.keySize !== 0 || def.valueSize !== 0 || n === 0 || (n & (n - 1)) !== 0 || n % PAGE_SIZE !== 0) {
      throw new MapDefinitionError(def, `a ring buffer needs key_size 0, value_size 0 and max_entries a power of two multiple of ${PAGE_SIZE} (got ${def.keySize}, ${def.valueSize}, ${n})`);
    }
    this.size = n;
    this.mask = n - 1;
    this.dataOff = ctx.mem.alloc(2 * n, 8);
    this.region = ctx.mem.addRegion(this.dataOff, 2 * n, { kind: 'ringbuf', name: `ring buffer ${def.name}`, read: true, write: true });
  }

  private view(): DataView {
    const b = this.bytes();
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** Whether `off` is the sample of a record still reserved (what submit/discard may be given). */
  ownsSample(off: number): boolean {
    const hdr = off - HDR_SZ;
    if (hdr < this.dataOff || hdr >= this.dataOff + this.size) return false;
    const pos = hdr - this.dataOff;
    // Must be a reserved record between consumer and producer, still busy.
    const inFlight = (this.producerPos - this.consumerPos) | 0;
    const rel = (pos - (this.consumerPos & this.mask) + this.size) & this.mask;
    if (rel >= inFlight) return false;
    return (this.view().getUint32(hdr, true) & BUSY_BIT) !== 0;
  }

  /** __bpf_ringbuf_reserve: wasm offset of the sample, or -1 (NULL). */
  reserve(size: number): number {
    if (size > MAX_RECORD_SZ) return -1;
    const len = (size + HDR_SZ + 7) & ~7;
    if (len > this.size) return -1;
    const v = this.view();
    // Skip committed records at the front of the pending region (kernel: rb->pending_pos).
    let pend = this.pendingPos;
    while (pend < this.producerPos) {
      const hdrLen = v.getUint32(this.dataOff + (pend & this.mask), true);
      if (hdrLen & BUSY_BIT) break;
      pend += ((hdrLen & ~DISCARD_BIT) + HDR_SZ + 7) & ~7;
    }
    this.pendingPos = pend;
    const newProd = this.producerPos + len;
    if (newProd - this.consumerPos > this.mask || newProd - pend > this.mask) return -1;
    const hdr = this.dataOff + (this.producerPos & this.mask);
    v.setUint32(hdr, (size | BUSY_BIT) >>> 0, true);
    v.setUint32(hdr + 4, this.id, true); // the kernel keeps pg_off here; we keep the map id
    this.producerPos = newProd;
    return hdr + HDR_SZ;
  }

  /** bpf_ringbuf_commit: clears BUSY (and sets DISCARD); the host consumer then reads on. */
  commit(sampleOff: number, discard: boolean): void {
    const v = this.view();
    const hdr = sampleOff - HDR_SZ;
    let len = v.getUint32(hdr, true) ^ BUSY_BIT;
    if (discard) len |= DISCARD_BIT;
    v.setUint32(hdr, len >>> 0, true);
    if (!this.manual) this.consume();
  }

  /** bpf_ringbuf_output: reserve, copy, submit; -EAGAIN when the ring is full. */
  output(data: Uint8Array, dataOff: number, size: number): boolean {
    const off = this.reserve(size);
    if (off < 0) return false;
    this.bytes().set(data.subarray(dataOff, dataOff + size), off);
    this.commit(off, false);
    return true;
  }

  /**
   * The reader (libbpf ringbuf_process_ring): from consumer_pos, stops at a busy record, skips
   * discarded ones, collects the others into `records`. Returns how many it collected.
   */
  consume(): number {
    const v = this.view();
    const mem = this.bytes();
    let n = 0;
    while (this.consumerPos < this.producerPos) {
      const hdr = this.dataOff + (this.consumerPos & this.mask);
      const len = v.getUint32(hdr, true);
      if (len & BUSY_BIT) break;
      const size = len & ~DISCARD_BIT;
      this.consumerPos += (size + HDR_SZ + 7) & ~7;
      if (!(len & DISCARD_BIT)) {
        this.records.push({ data: mem.slice(hdr + HDR_SZ, hdr + HDR_SZ + size) });
        n++;
      }
    }
    return n;
  }

  takeRecords(): RingbufRecord[] {
    const r = this.records;
    this.records = [];
    return r;
  }

  /** bpf_ringbuf_query */
  query(flags: bigint): bigint {
    switch (flags) {
      case BigInt(BPF_RB_AVAIL_DATA):
        return BigInt(this.producerPos - this.consumerPos);
      case BigInt(BPF_RB_RING_SIZE):
        return BigInt(this.size);
      case BigInt(BPF_RB_CONS_POS):
        return BigInt(this.consumerPos);
      case BigInt(BPF_RB_PROD_POS):
        return BigInt(this.producerPos);
      default:
        return 0n;
    }
  }

  /** Positions and the ring's bytes (records not consumed yet included); delivered records are outputs. */
  protected saveBody(): MapState {
    return {
      producerPos: this.producerPos,
      consumerPos: this.consumerPos,
      pendingPos: this.pendingPos,
      manual: this.manual,
      // Non-zero bytes only; stale bytes stay (a reserved sample is not zeroed: bpf_ringbuf_reserve).
      data: saveNonZero(this.bytes().subarray(this.dataOff, this.dataOff + 2 * this.size)),
    };
  }

  protected restoreBody(b: MapState): void {
    this.records = []; // delivered records are the run's outputs, not the ring's state
    restoreNonZero('ring data', this.bytes().subarray(this.dataOff, this.dataOff + 2 * this.size), b.data);
    this.producerPos = b.producerPos as number;
    this.consumerPos = b.consumerPos as number;
    this.pendingPos = b.pendingPos as number;
    this.manual = b.manual === true;
    // Reserved records name their ring buffer by id in the header; ids may differ now.
    const v = new DataView(this.bytes().buffer);
    for (let pos = this.consumerPos; pos < this.producerPos; ) {
      const hdr = this.dataOff + (pos & this.mask);
      v.setUint32(hdr + 4, this.id, true);
      pos += ((v.getUint32(hdr, true) & ~(BUSY_BIT | DISCARD_BIT)) + HDR_SZ + 7) & ~7;
    }
  }

  bpfLookup(): bigint {
    return 0n;
  }

  bpfUpdate(): number {
    return -EINVAL;
  }

  bpfDelete(): number {
    return -EINVAL;
  }

  forEach(): number {
    return -EINVAL;
  }

  lookup(): number | undefined {
    return undefined;
  }

  read(): Uint8Array | undefined {
    return undefined;
  }

  update(): number {
    return -EINVAL;
  }

  delete(): number {
    return -EINVAL;
  }

  getNextKey(): Uint8Array | undefined {
    return undefined;
  }

  override destroy(): void {
    this.mem.removeRegion(this.region);
    this.mem.free(this.dataOff);
  }
}
