// The fused `rA = rB; rA += rC; rX = *(rA + off)` group (src/vm/abi.ts IDX_LDX_*) must behave
// exactly like its three instructions: counts, faults, budget, traces, jumps into the middle.
import { describe, expect, it } from 'vitest';
import { ADD, B, JEQ, JLT, JNE, W, alu64Imm, alu64Reg, exit, jmpImm, jmpReg, ldx, mov64, movReg, runProgram } from './build.js';

const group = (off = 0, size = B) => [movReg(5, 1), alu64Reg(ADD, 5, 3), ldx(size, 0, 5, off)];
const mem = new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80]);

describe('fused indexed loads', () => {
  it('load the indexed element and count three instructions', async () => {
    const r = await runProgram([mov64(3, 2), ...group(), exit()], { mem });
    expect(r.r0).toBe(30n);
    expect(r.insnCount).toBe(5);
    expect(r.machine.reg(5)).toBe(r.machine.toVirtual(r.memOff) + 2n);
    const w = await runProgram([mov64(3, 1), ...group(1, W), exit()], { mem });
    expect(w.r0).toBe(BigInt(30 | (40 << 8) | (50 << 16) | (60 << 24)));
  });

  it('fault at the load with the index of the load', async () => {
    const r = await runProgram([mov64(3, 8), ...group(), exit()], { mem });
    expect(r.fault?.code).toBe('read_oob');
    expect(r.fault?.insnIndex).toBe(3);
    expect(r.insnCount).toBe(4);
  });

  it('stop at exactly the budget inside the group', async () => {
    const r = await runProgram([mov64(3, 2), ...group(), exit()], { mem, opts: { budget: 3 } });
    expect(r.fault?.code).toBe('budget');
    expect(r.fault?.insnIndex).toBe(3);
    expect(r.insnCount).toBe(3);
  });

  it('still run the add and the load alone when a jump lands between them', async () => {
    // r5 = r1 - 100 (so the fused mov is skipped), then jump to the add.
    const prog = [mov64(3, 1), movReg(5, 1), jmpImm(JEQ, 3, 1, 1), ...group(), exit()];
    const r = await runProgram(prog, { mem });
    expect(r.r0).toBe(20n);
    expect(r.insnCount).toBe(6);
  });

  it('appear one by one in a trace', async () => {
    const r = await runProgram([mov64(3, 2), ...group(), exit()], { mem, opts: { traceLimit: 10 } });
    expect(r.trace?.map((t) => t.insnIndex)).toEqual([0, 1, 2, 3, 4]);
    expect(r.r0).toBe(30n);
  });
});

// `rA += imm; if rA < rB goto` / `if rA != rB goto` (abi.ts ADDK_J*_X), the step of a loop.
describe('fused loop steps', () => {
  // r0 = 0; r2 = 10; loop: r0 += 3; if r0 < r2 goto loop (JLT) or != (JNE); exit
  const loop = (op: number, step: number, limit: number) => [mov64(0, 0), mov64(2, limit), alu64Imm(ADD, 0, step), jmpReg(op, 0, 2, -2), exit()];

  it('loop like their two instructions', async () => {
    const lt = await runProgram(loop(JLT, 3, 10));
    expect(lt.r0).toBe(12n);
    expect(lt.insnCount).toBe(2 + 4 * 2 + 1);
    const ne = await runProgram(loop(JNE, 2, 10));
    expect(ne.r0).toBe(10n);
    expect(ne.insnCount).toBe(2 + 5 * 2 + 1);
  });

  it('stop at exactly the budget between the add and the jump', async () => {
    const r = await runProgram(loop(JLT, 3, 10), { opts: { budget: 3 } });
    expect(r.fault?.code).toBe('budget');
    expect(r.fault?.insnIndex).toBe(3);
    expect(r.machine.reg(0)).toBe(3n);
  });

  it('keep the jump usable as a jump target of its own', async () => {
    // Enter at the jump (skipping the add) once: r0 = 9 < 10 → loop once more.
    const prog = [mov64(0, 9), mov64(2, 10), jmpImm(JEQ, 0, 9, 1), alu64Imm(ADD, 0, 3), jmpReg(JLT, 0, 2, -2), exit()];
    const r = await runProgram(prog);
    expect(r.r0).toBe(12n);
    expect(r.insnCount).toBe(3 + 1 + 2 + 1);
  });

  it('appear one by one in a trace', async () => {
    const r = await runProgram(loop(JLT, 5, 10), { opts: { traceLimit: 20 } });
    expect(r.trace?.map((t) => t.insnIndex)).toEqual([0, 1, 2, 3, 2, 3, 4]);
  });
});
