import { describe, expect, it } from 'vitest';
import {
  I, JEQ, JGE, JGT, JLE, JLT, JNE, JSET, JSGE, JSGT, JSLE, JSLT,
  exit, ja, jmp32Imm, jmp32Reg, jmpImm, jmpReg, lddw, mov64, r0Of, u64,
} from './build.js';

// r0 = 1 if the jump is taken, 0 otherwise. r1 and r2 hold the operands.
async function taken(jump: ReturnType<typeof jmpImm>, a: bigint, b: bigint): Promise<boolean> {
  const r0 = await r0Of([...lddw(1, a), ...lddw(2, b), mov64(0, 0), jump, exit(), mov64(0, 1), exit()]);
  return r0 === 1n;
}

const NEG1 = u64(-1n);
// Each row: name, op, a, b, taken as 64-bit, taken as 32-bit (only low halves compared).
const CASES: [string, number, bigint, bigint, boolean, boolean][] = [
  ['jeq', JEQ, 0x1_0000_0005n, 5n, false, true],
  ['jne', JNE, 0x1_0000_0005n, 5n, true, false],
  ['jgt unsigned', JGT, NEG1, 1n, true, true],
  ['jge equal', JGE, 7n, 7n, true, true],
  ['jlt unsigned', JLT, 1n, NEG1, true, true],
  ['jle', JLE, 0x1_0000_0000n, 1n, false, true],
  ['jsgt signed', JSGT, NEG1, 1n, false, false],
  ['jsge signed', JSGE, 1n, NEG1, true, true],
  ['jslt signed', JSLT, NEG1, 0n, true, true],
  ['jsle 32-bit sign bit', JSLE, 0x8000_0000n, 0n, false, true],
  ['jset', JSET, 0x1_0000_0000n, 0x1_0000_0000n, true, false],
];

describe('conditional jumps', () => {
  it.each(CASES)('%s (JMP, register)', async (_, op, a, b, t64) => {
    expect(await taken(jmpReg(op, 1, 2, 1), a, b)).toBe(t64);
  });
  it.each(CASES)('%s (JMP32, register)', async (_, op, a, b, _t64, t32) => {
    expect(await taken(jmp32Reg(op, 1, 2, 1), a, b)).toBe(t32);
  });
  it('immediates are sign-extended for 64-bit compares', async () => {
    expect(await taken(jmpImm(JEQ, 1, -1, 1), NEG1, 0n)).toBe(true);
    expect(await taken(jmpImm(JSLT, 1, -1, 1), u64(-2n), 0n)).toBe(true);
    expect(await taken(jmp32Imm(JEQ, 1, -1, 1), 0xffff_ffffn, 0n)).toBe(true);
  });
});

describe('unconditional jumps', () => {
  it('ja jumps by off, gotol (JMP32 | JA) by imm', async () => {
    expect(await r0Of([mov64(0, 1), ja(1), mov64(0, 2), exit()])).toBe(1n);
    expect(await r0Of([mov64(0, 1), I(0x06, 0, 0, 0, 1), mov64(0, 2), exit()])).toBe(1n);
  });
  it('backward jumps loop', async () => {
    // r0 = 0; r1 = 10; loop: r0 += 3; r1 -= 1; if r1 != 0 goto loop
    const prog = [mov64(0, 0), mov64(1, 10), I(0x07, 0, 0, 0, 3), I(0x17, 1, 0, 0, 1), jmpImm(JNE, 1, 0, -3), exit()];
    expect(await r0Of(prog)).toBe(30n);
  });
});
