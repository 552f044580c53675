// A tiny instruction builder for kernel-oracle tests that must not depend on the assembler.
// Opcodes are composed from the RFC 9669 constants, so each snippet reads like its assembly.
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_DW,
  BPF_IMM,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_STX,
  BPF_X,
  OP_EXIT,
} from '../../src/asm/opcodes.js';
import { encodeInsns, type Insn } from '../../src/asm/insn.js';

const slot = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ opcode, dst, src, off, imm });

/** alu64 op dst, imm (op is e.g. BPF_ADD; the `off` field selects sdiv/smod/movsx). */
export const alu64i = (op: number, dst: number, imm: number, off = 0): Insn => slot(BPF_ALU64 | op | BPF_K, dst, 0, off, imm);
export const alu64r = (op: number, dst: number, src: number, off = 0): Insn => slot(BPF_ALU64 | op | BPF_X, dst, src, off);
export const alu32i = (op: number, dst: number, imm: number, off = 0): Insn => slot(BPF_ALU | op | BPF_K, dst, 0, off, imm);
export const alu32r = (op: number, dst: number, src: number, off = 0): Insn => slot(BPF_ALU | op | BPF_X, dst, src, off);
/** The byte-swap / endianness instruction: class ALU or ALU64, source bit, width in imm. */
export const end = (cls: number, srcBit: number, dst: number, width: number): Insn => slot(cls | 0xd0 | srcBit, dst, 0, 0, width);

/** lddw dst, value (two slots). */
export function lddw(dst: number, value: bigint): Insn[] {
  const v = BigInt.asUintN(64, value);
  return [
    slot(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, Number(BigInt.asIntN(32, v))),
    slot(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
  ];
}

export const ldx = (size: number, dst: number, src: number, off: number): Insn => slot(BPF_LDX | BPF_MEM | size, dst, src, off);
export const ldxs = (size: number, dst: number, src: number, off: number): Insn => slot(BPF_LDX | 0x80 | size, dst, src, off);
export const stx = (size: number, dst: number, src: number, off: number): Insn => slot(BPF_STX | BPF_MEM | size, dst, src, off);
export const atomic = (size: number, dst: number, src: number, off: number, op: number): Insn =>
  slot(BPF_STX | 0xc0 | size, dst, src, off, op);
export const jmpi = (op: number, dst: number, imm: number, off: number): Insn => slot(BPF_JMP | op | BPF_K, dst, 0, off, imm);
export const jmp32i = (op: number, dst: number, imm: number, off: number): Insn => slot(BPF_JMP32 | op | BPF_K, dst, 0, off, imm);
export const exit = (): Insn => slot(OP_EXIT);

export const u64 = BPF_DW;

/** Flattens a snippet (single slots and lddw pairs) into its bytecode. */
export const bytecode = (...parts: (Insn | Insn[])[]): Uint8Array => encodeInsns(parts.flat());
