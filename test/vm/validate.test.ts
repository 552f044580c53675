import { describe, expect, it } from 'vitest';
import { Machine, ProgramLoadError } from '../../src/vm/machine.js';
import { validateProgram } from '../../src/vm/validate.js';
import type { Insn } from '../../src/asm/insn.js';
import { DW, I, JEQ, W, alu64Imm, call, callLocal, exit, jmpImm, lddw, mov64, ret, ADD, MOV, alu64Reg, alu32Reg, st } from './build.js';

const problems = (insns: Insn[], helpers: number[] = []) =>
  validateProgram(insns, { helpers: new Set(helpers), helperName: (id) => (id === 174 ? 'bpf_xyz' : undefined) });
const firstMessage = (insns: Insn[], helpers: number[] = []) => problems(insns, helpers)[0]?.message;

describe('validation', () => {
  it('accepts a well-formed program', () => {
    expect(problems(ret(mov64(0, 0)))).toEqual([]);
  });

  it('refuses helpers that are not emulated, with number and name', () => {
    expect(firstMessage(ret(call(174)))).toBe('helper 174 (bpf_xyz) is not emulated');
    expect(firstMessage(ret(call(999)))).toBe('helper 999 (bpf_999) is not emulated');
    expect(problems(ret(call(174)), [174])).toEqual([]);
  });

  it('refuses unknown opcodes and invalid registers', () => {
    expect(firstMessage(ret(I(0xff)))).toMatch(/unknown opcode 0xff/);
    expect(firstMessage(ret(I(0x07, 11, 0, 0, 1)))).toMatch(/invalid register r11/);
  });

  it('refuses writes to r10', () => {
    expect(firstMessage(ret(mov64(10, 0)))).toMatch(/r10 is read-only/);
    expect(problems(ret(st(DW, 10, -8, 0), mov64(0, 0)))).toEqual([]);
  });

  it('refuses jumps outside the program or into the middle of an lddw', () => {
    expect(firstMessage([jmpImm(JEQ, 0, 0, 5), exit()])).toMatch(/jump target 6 is outside the program/);
    expect(firstMessage([jmpImm(JEQ, 0, 0, 1), ...lddw(0, 1n), exit()])).toMatch(/second slot of an lddw/);
    expect(firstMessage([jmpImm(JEQ, 0, 0, -2), exit()])).toMatch(/outside the program/);
  });

  it('refuses programs that fall off their end', () => {
    expect(firstMessage([mov64(0, 0)])).toMatch(/falls off its end/);
    expect(firstMessage([mov64(0, 0), jmpImm(JEQ, 0, 0, -1)])).toMatch(/falls off its end/);
    expect(firstMessage([I(0x18, 0, 0, 0, 1)])).toMatch(/lddw is missing its second slot/);
  });

  it('refuses pseudo calls that do not land on an instruction start', () => {
    expect(firstMessage([callLocal(5), exit()])).toMatch(/call target 6 is outside/);
    expect(firstMessage([callLocal(1), exit(), ...lddw(0, 1n), exit()].map((x, i) => (i === 0 ? callLocal(2) : x)))).toMatch(/second slot/);
  });

  it('refuses reserved fields the kernel verifier checks', () => {
    expect(firstMessage(ret(I(0x07, 0, 1, 0, 1)))).toBe('BPF_ALU64 uses reserved fields'); // K form with src
    expect(firstMessage(ret(alu64Reg(ADD, 0, 1, 1)))).toBe('BPF_ALU64 uses reserved fields'); // off on add
    expect(firstMessage(ret(alu32Reg(MOV, 0, 1, 32)))).toBe('BPF_MOV uses reserved fields'); // movsx32 of 32
    expect(firstMessage(ret(I(0xd4, 0, 0, 0, 8)))).toBe('BPF_END uses reserved fields');
    expect(firstMessage([I(0x95, 0, 0, 0, 1)])).toBe('BPF_EXIT uses reserved fields');
    expect(firstMessage(ret(I(0x61 | W, 0, 1, 0, 3)))).toBe('BPF_LDX uses reserved fields');
    expect(firstMessage(ret(I(0x18, 0, 0, 0, 1), I(0, 1, 0, 0, 0)))).toBe('invalid bpf_ld_imm64 insn');
    expect(firstMessage(ret(I(0xc3 | DW, 1, 2, 0, 0x02)))).toMatch(/invalid atomic opcode 0x2/);
    expect(firstMessage(ret(alu64Imm(ADD, 0, 1, 1)))).toBe('BPF_ALU64 uses reserved fields');
  });

  it('refuses lddw pseudo sources other than function addresses', () => {
    expect(firstMessage(ret(I(0x18, 1, 1, 0, 3), I(0, 0, 0, 0, 0)))).toMatch(/pseudo source 1 must be resolved/);
  });

  it('loadProgram throws a ProgramLoadError naming program, instruction and disassembly', async () => {
    const machine = await Machine.create();
    let error: unknown;
    try {
      machine.loadProgram([mov64(0, 0), call(174), exit()], { name: 'xdp_prog', helpers: new Set() });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ProgramLoadError);
    const message = (error as Error).message;
    expect(message).toContain('xdp_prog');
    expect(message).toContain('insn 1');
    expect(message).toContain('call');
    expect(message).toContain('helper 174 (bpf_');
  });
});
