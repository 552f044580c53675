// Compares one program's final state in bpfbed and in the kernel, and describes a difference
// so that it can be understood from the test output alone: the seed and index that regenerate
// the program, its disassembly, and each register, stack slot and memory byte that differs.
import type { Insn } from '../../asm/insn.js';
import { disassemble } from '../../asm/disasm.js';
import { DATA_LEN, DATA_OFF, REG_COUNT, REGS_OFF, STACK_OFF, STACK_SLOTS, slotOffset } from './layout.js';

/** bpfbed's side of a run: the memory after it, or why there is none. */
export type BpfbedOutcome = { mem: Uint8Array; r0: bigint } | { loadError: string } | { fault: string; mem: Uint8Array };

export interface Difference {
  /** `r3`, `stack r10-32`, `data[+5]`, `load`, `fault`. */
  where: string;
  kernel: string;
  bpfbed: string;
}

const u64At = (bytes: Uint8Array, off: number): bigint => new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(off, true);
const hex64 = (v: bigint): string => `0x${v.toString(16).padStart(16, '0')}`;

/**
 * Every difference between the kernel's memory after the run and bpfbed's outcome, register by
 * register, stack slot by stack slot, data byte by data byte. Empty when they agree.
 */
export function compareOutcomes(kernelMem: Uint8Array, bpfbed: BpfbedOutcome): Difference[] {
  if ('loadError' in bpfbed) return [{ where: 'load', kernel: 'accepted by the verifier', bpfbed: bpfbed.loadError }];
  const diffs: Difference[] = [];
  if ('fault' in bpfbed) diffs.push({ where: 'fault', kernel: 'ran to its exit', bpfbed: bpfbed.fault });
  const mem = bpfbed.mem;
  if (mem.length !== kernelMem.length) {
    diffs.push({ where: 'memory length', kernel: String(kernelMem.length), bpfbed: String(mem.length) });
    return diffs;
  }
  for (let r = 0; r < REG_COUNT; r++) {
    const k = u64At(kernelMem, REGS_OFF + 8 * r);
    const b = u64At(mem, REGS_OFF + 8 * r);
    if (k !== b) diffs.push({ where: `r${r}`, kernel: hex64(k), bpfbed: hex64(b) });
  }
  for (let s = 0; s < STACK_SLOTS; s++) {
    const k = u64At(kernelMem, STACK_OFF + 8 * s);
    const b = u64At(mem, STACK_OFF + 8 * s);
    if (k !== b) diffs.push({ where: `stack r10${slotOffset(s)}`, kernel: hex64(k), bpfbed: hex64(b) });
  }
  for (let i = 0; i < DATA_LEN; i++) {
    const k = kernelMem[DATA_OFF + i];
    const b = mem[DATA_OFF + i];
    if (k !== b) diffs.push({ where: `data[+${i}]`, kernel: `0x${k.toString(16)}`, bpfbed: `0x${b.toString(16)}` });
  }
  return diffs;
}

/** A readable report of one mismatch: how to regenerate it, the program, and the differences. */
export function describeMismatch(seed: number, index: number, insns: readonly Insn[], diffs: readonly Difference[]): string {
  const lines = [`program ${index} of seed ${seed} differs from the kernel (regenerate: generateProgram(${seed}, ${index})):`];
  for (const d of diffs) lines.push(`  ${d.where}: kernel ${d.kernel}, bpfbed ${d.bpfbed}`);
  lines.push('  disassembly:');
  for (const line of disassemble(insns)) lines.push(`  ${line}`);
  return lines.join('\n');
}
