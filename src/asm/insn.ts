// One 8-byte BPF instruction slot, as RFC 9669 §3 lays it out:
//   opcode:8 | dst_reg:4 | src_reg:4 | offset:16 (signed) | imm:32 (signed)
// (little-endian objects: dst in the low nibble of byte 1).
// A wide instruction (lddw) occupies two slots; its second slot is kept as its own
// Insn so that indices match the kernel's, llvm-objdump's and BTF line info's.
import { INSN_SIZE, OP_LDDW } from './opcodes.js';

export interface Insn {
  opcode: number; // u8
  dst: number; // 0..15 as encoded (validation rejects > 10)
  src: number; // 0..15 as encoded
  off: number; // s16
  imm: number; // s32
}

export function decodeInsn(bytes: Uint8Array, byteOffset: number): Insn {
  const view = new DataView(bytes.buffer, bytes.byteOffset + byteOffset, INSN_SIZE);
  const regs = view.getUint8(1);
  return {
    opcode: view.getUint8(0),
    dst: regs & 0x0f,
    src: regs >> 4,
    off: view.getInt16(2, true),
    imm: view.getInt32(4, true),
  };
}

/** Decodes a whole instruction stream. The byte length must be a multiple of 8. */
export function decodeInsns(bytes: Uint8Array): Insn[] {
  if (bytes.length % INSN_SIZE !== 0) {
    throw new Error(`instruction stream of ${bytes.length} bytes is not a multiple of ${INSN_SIZE}`);
  }
  const out: Insn[] = [];
  for (let i = 0; i < bytes.length; i += INSN_SIZE) out.push(decodeInsn(bytes, i));
  return out;
}

export function encodeInsns(insns: readonly Insn[]): Uint8Array {
  const out = new Uint8Array(insns.length * INSN_SIZE);
  const view = new DataView(out.buffer);
  insns.forEach((insn, i) => {
    const at = i * INSN_SIZE;
    view.setUint8(at, insn.opcode);
    view.setUint8(at + 1, (insn.dst & 0x0f) | ((insn.src & 0x0f) << 4));
    view.setInt16(at + 2, insn.off, true);
    view.setInt32(at + 4, insn.imm, true);
  });
  return out;
}

/** The 64-bit constant of an lddw whose first slot is at `index`. */
export function lddwImm64(insns: readonly Insn[], index: number): bigint {
  const lo = BigInt(insns[index].imm >>> 0);
  const hi = BigInt((insns[index + 1]?.imm ?? 0) >>> 0);
  return (hi << 32n) | lo;
}

export const isLddw = (insn: Insn): boolean => insn.opcode === OP_LDDW;

export const cloneInsn = (insn: Insn): Insn => ({ ...insn });
