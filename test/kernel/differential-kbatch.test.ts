// The batch kernel runner (tools/kernel/bpfbed-kbatch.c through src/node/differential/kbatch.ts):
// many programs in one process, one answer per program in order, rejections with the
// verifier's reason, the memory read back after each run.
import { describe, expect, it } from 'vitest';
import { BPF_ALU64, BPF_DW, BPF_K, BPF_MEM, BPF_MOV, BPF_STX, BPF_X, OP_EXIT } from '../../src/asm/opcodes.js';
import { encodeInsns, type Insn } from '../../src/asm/insn.js';
import { kernelAvailable } from '../../src/node/kernel.js';
import { runBatchInKernel, type BatchResult } from '../../src/node/differential/kbatch.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`kernel batch runner tests skipped: ${kernel.why}`);

const slot = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ opcode, dst, src, off, imm });
/** *(u64 *)(r1 + 0) = value ; r0 = value ; exit */
const storeAndReturn = (value: number): Uint8Array =>
  encodeInsns([
    slot(BPF_ALU64 | BPF_MOV | BPF_K, 3, 0, 0, value),
    slot(BPF_STX | BPF_MEM | BPF_DW, 1, 3, 0),
    slot(BPF_ALU64 | BPF_MOV | BPF_X, 0, 3),
    slot(OP_EXIT),
  ]);
/** r0 = r5 ; exit: reads a register nothing wrote. */
const readsUninitialised = encodeInsns([slot(BPF_ALU64 | BPF_MOV | BPF_X, 0, 5), slot(OP_EXIT)]);

describe.skipIf(!kernel.ok)('the batch kernel runner', () => {
  it('answers every program in order: results, memory written, and rejections with the reason', async () => {
    const programs = [];
    for (let i = 0; i < 50; i++) {
      programs.push(i % 5 === 4 ? { code: readsUninitialised, mem: new Uint8Array(0) } : { code: storeAndReturn(i + 1), mem: new Uint8Array(8 + (i % 3) * 8) });
    }
    const answers = new Map<number, BatchResult>();
    await runBatchInKernel(programs, (i, result) => answers.set(i, result));
    expect(answers.size).toBe(50);
    for (let i = 0; i < 50; i++) {
      const result = answers.get(i)!;
      if (i % 5 === 4) {
        expect(result.accepted).toBe(false);
        expect('verifierLog' in result && result.verifierLog).toMatch(/R5 !read_ok/);
      } else {
        expect(result.accepted).toBe(true);
        if (!result.accepted) continue;
        expect(result.retval).toBe(i + 1);
        const expected = new Uint8Array(programs[i].mem.length);
        expected[0] = i + 1;
        expect(result.mem).toEqual(expected);
      }
    }
  });
});
