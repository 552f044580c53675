// How host helpers touch VM memory: only through pointers that lie inside a region with the
// right permission, as the verifier's argument checks (check_helper_mem_access in
// kernel/bpf/verifier.c) guarantee in the kernel. A pointer the verifier would have refused is
// a fault of the run, with a message naming the helper argument, never a silent access.
import { HelperFault, type Machine } from '../vm/machine.js';
import { VBASE } from '../vm/types.js';

const VBASE_HI = Number(VBASE >> 32n);
const VBASE_LO = Number(VBASE & 0xffffffffn);

export { HelperFault };

export class HelperMemory {
  constructor(private readonly machine: Machine) {}

  /** wasm offset of [addr, addr + len) if one region allows the access, else throws HelperFault. */
  offsetOf(addr: bigint, len: number, access: 'read' | 'write', what: string): number {
    const off = this.machine.toOffset(addr);
    if (off !== undefined && this.machine.regionFor(off, len, access)) return off;
    const hex = '0x' + BigInt.asUintN(64, addr).toString(16);
    throw new HelperFault('helper', `${what}: ${len}-byte ${access} at ${hex} is outside every ${access === 'read' ? 'readable' : 'writable'} region (the verifier would reject this argument)`);
  }

  /**
   * offsetOf for an address given as its 32-bit halves (HelperArgs), without a BigInt when the
   * address is a VM pointer: VBASE's low half is zero and VM memory is below 4 GiB, so such a
   * pointer is VBASE's high half and the offset. Anything else takes offsetOf's way (and message).
   */
  offsetOf32(lo: number, hi: number, len: number, access: 'read' | 'write', what: string): number {
    if (VBASE_LO === 0 && hi === VBASE_HI && lo + len <= this.machine.bytes().length && this.machine.regionFor(lo, len, access)) return lo;
    return this.offsetOf((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0), len, access, what);
  }

  read(addr: bigint, len: number, what: string): Uint8Array {
    if (len === 0) return new Uint8Array(0);
    const off = this.offsetOf(addr, len, 'read', what);
    return this.machine.bytes().slice(off, off + len);
  }

  write(addr: bigint, data: Uint8Array, what: string): void {
    if (data.length === 0) return;
    const off = this.offsetOf(addr, data.length, 'write', what);
    this.machine.bytes().set(data, off);
  }

  /**
   * A NUL-terminated string starting at addr, read within its region (at most `max` bytes).
   * Returns undefined when no NUL is found in reach (the kernel's strncpy_from_kernel_nofault
   * then truncates; callers decide).
   */
  cString(addr: bigint, max: number, what: string): { text: string; terminated: boolean } {
    const off = this.offsetOf(addr, 1, 'read', what);
    const region = this.machine.regionFor(off, 1, 'read')!;
    const end = Math.min(region.offset + region.length, off + max);
    const bytes = this.machine.bytes();
    let i = off;
    while (i < end && bytes[i] !== 0) i++;
    return { text: latin1(bytes.subarray(off, i)), terminated: i < end };
  }
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}
