// Tiny instruction builders for the VM tests, named after the kernel's macros in
// include/linux/filter.h (BPF_ALU64_IMM, BPF_LDX_MEM, ...), and a one-call runner.
import type { Insn } from '../../src/asm/insn.js';
import { Machine } from '../../src/vm/machine.js';
import type { HostHelper, RunOptions, RunResult } from '../../src/vm/types.js';

export const I = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ opcode, dst, src, off, imm });

// ALU operation codes (RFC 9669 §4.1).
export const ADD = 0x00, SUB = 0x10, MUL = 0x20, DIV = 0x30, OR = 0x40, AND = 0x50, LSH = 0x60, RSH = 0x70;
export const NEG = 0x80, MOD = 0x90, XOR = 0xa0, MOV = 0xb0, ARSH = 0xc0, END = 0xd0;
// Jump operation codes (RFC 9669 §4.3).
export const JEQ = 0x10, JGT = 0x20, JGE = 0x30, JSET = 0x40, JNE = 0x50, JSGT = 0x60, JSGE = 0x70;
export const JLT = 0xa0, JLE = 0xb0, JSLT = 0xc0, JSLE = 0xd0;
// Sizes (RFC 9669 §5.1).
export const W = 0x00, H = 0x08, B = 0x10, DW = 0x18;

export const alu64Imm = (op: number, dst: number, imm: number, off = 0): Insn => I(0x07 | op, dst, 0, off, imm);
export const alu64Reg = (op: number, dst: number, src: number, off = 0): Insn => I(0x0f | op, dst, src, off, 0);
export const alu32Imm = (op: number, dst: number, imm: number, off = 0): Insn => I(0x04 | op, dst, 0, off, imm);
export const alu32Reg = (op: number, dst: number, src: number, off = 0): Insn => I(0x0c | op, dst, src, off, 0);
export const mov64 = (dst: number, imm: number): Insn => alu64Imm(MOV, dst, imm);
export const movReg = (dst: number, src: number): Insn => alu64Reg(MOV, dst, src);
export const jmpImm = (op: number, dst: number, imm: number, off: number): Insn => I(0x05 | op, dst, 0, off, imm);
export const jmpReg = (op: number, dst: number, src: number, off: number): Insn => I(0x0d | op, dst, src, off, 0);
export const jmp32Imm = (op: number, dst: number, imm: number, off: number): Insn => I(0x06 | op, dst, 0, off, imm);
export const jmp32Reg = (op: number, dst: number, src: number, off: number): Insn => I(0x0e | op, dst, src, off, 0);
export const ja = (off: number): Insn => I(0x05, 0, 0, off, 0);
export const ldx = (size: number, dst: number, src: number, off: number): Insn => I(0x61 | size, dst, src, off, 0);
export const ldxs = (size: number, dst: number, src: number, off: number): Insn => I(0x81 | size, dst, src, off, 0);
export const st = (size: number, dst: number, off: number, imm: number): Insn => I(0x62 | size, dst, 0, off, imm);
export const stx = (size: number, dst: number, src: number, off: number): Insn => I(0x63 | size, dst, src, off, 0);
export const atomic = (size: number, dst: number, src: number, off: number, op: number): Insn => I(0xc3 | size, dst, src, off, op);
export const call = (helper: number): Insn => I(0x85, 0, 0, 0, helper);
export const callLocal = (rel: number): Insn => I(0x85, 0, 1, 0, rel);
export const exit = (): Insn => I(0x95);

/** lddw dst, value: two slots. */
export function lddw(dst: number, value: bigint): Insn[] {
  const v = BigInt.asUintN(64, value);
  return [I(0x18, dst, 0, 0, Number(BigInt.asIntN(32, v))), I(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n)))];
}

/** r0 = value (64-bit) then exit. */
export const ret = (...body: Insn[]): Insn[] => [...body, exit()];

export interface RunSetup {
  mem?: Uint8Array;
  helpers?: Record<number, HostHelper>;
  opts?: RunOptions;
}

/** Loads `insns` into a fresh machine and runs it with r1 = mem (a 'mem' region), r2 = its length. */
export async function runProgram(insns: Insn[], setup: RunSetup = {}): Promise<RunResult & { machine: Machine; memOff: number }> {
  const machine = await Machine.create();
  const helpers = new Set<number>();
  for (const [id, fn] of Object.entries(setup.helpers ?? {})) {
    machine.setHelper(Number(id), fn);
    helpers.add(Number(id));
  }
  const prog = machine.loadProgram(insns, { name: 'test', helpers });
  const mem = setup.mem ?? new Uint8Array(16);
  const memOff = machine.alloc(mem.length);
  machine.bytes().set(mem, memOff);
  machine.addRegion(memOff, mem.length, { kind: 'mem', name: 'mem', read: true, write: true });
  const r = machine.run(prog, [machine.toVirtual(memOff), BigInt(mem.length)], setup.opts);
  return { ...r, machine, memOff };
}

/** r0 of a program that must not fault. */
export async function r0Of(insns: Insn[], setup: RunSetup = {}): Promise<bigint> {
  const r = await runProgram(insns, setup);
  if (r.fault) throw new Error(r.fault.message);
  return r.r0;
}

export const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
