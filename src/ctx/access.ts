// Building a context's per-byte access table (src/vm/types.ts CtxAccessTable) from field rules
// that mirror the verifier's is_valid_access callbacks (net/core/filter.c). Every rule applies
// the kernel's common checks: the access lies inside the field and `off % size == 0`
// (bpf_skb_is_valid_access, sock_addr_is_valid_access, __is_valid_xdp_access).
import type { CtxAccessTable } from '../vm/types.js';

/** Bitmask of access sizes, as in CtxAccessTable: 1, 2, 4 and 8 bytes. */
export const SZ1 = 1;
export const SZ2 = 2;
export const SZ4 = 4;
export const SZ8 = 8;
/** bpf_ctx_narrow_access_ok with a 4-byte default: 1, 2 and 4-byte loads. */
export const NARROW4 = SZ1 | SZ2 | SZ4;

export class CtxTableBuilder {
  readonly readSizes: Uint8Array;
  readonly writeSizes: Uint8Array;
  private readonly pointers = new Map<number, bigint>();

  constructor(readonly size: number) {
    this.readSizes = new Uint8Array(size);
    this.writeSizes = new Uint8Array(size);
  }

  /**
   * Field [off, off + width): sizes in `read` may load, sizes in `write` may store, at every
   * offset inside the field that is a multiple of the size and leaves the access inside it.
   */
  field(off: number, width: number, read: number, write = 0): this {
    for (let p = off; p < off + width; p++) {
      for (const s of [SZ1, SZ2, SZ4, SZ8]) {
        if (p % s !== 0 || p + s > off + width) continue;
        if (read & s) this.readSizes[p] |= s;
        if (write & s) this.writeSizes[p] |= s;
      }
    }
    return this;
  }

  /** Like field(), but only the field's first byte may be accessed (no narrow access). */
  whole(off: number, width: number, read: number, write = 0): this {
    for (const s of [SZ1, SZ2, SZ4, SZ8]) {
      if (off % s !== 0 || off + s > off + width) continue;
      if (read & s) this.readSizes[off] |= s;
      if (write & s) this.writeSizes[off] |= s;
    }
    return this;
  }

  /** Forbids every access to [off, off + width). */
  deny(off: number, width: number): this {
    this.readSizes.fill(0, off, off + width);
    this.writeSizes.fill(0, off, off + width);
    return this;
  }

  /** Forbids stores to [off, off + width). */
  readOnly(off: number, width: number): this {
    this.writeSizes.fill(0, off, off + width);
    return this;
  }

  /** A pointer field (the verifier's convert_ctx_access loads a kernel pointer there). */
  pointer(off: number, value = 0n): this {
    this.pointers.set(off, value);
    return this;
  }

  build(): CtxAccessTable {
    return {
      readSizes: this.readSizes.slice(),
      writeSizes: this.writeSizes.slice(),
      pointerFields: [...this.pointers].map(([offset, value]) => ({ offset, value })),
    };
  }
}
