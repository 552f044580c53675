// The kernel runner, and the edge semantics of RFC 9669 checked against the real kernel
// (JIT or interpreter, whichever this kernel runs). Each expectation is what RFC 9669 says; a
// case the kernel answers differently would fail here and be recorded in the VM's comments.
import { describe, expect, it } from 'vitest';
import {
  BPF_ADD,
  BPF_ARSH,
  BPF_B,
  BPF_DIV,
  BPF_DW,
  BPF_FETCH,
  BPF_H,
  BPF_JEQ,
  BPF_JGT,
  BPF_JA,
  BPF_JMP32,
  BPF_JNE,
  BPF_LSH,
  BPF_MOD,
  BPF_MOV,
  BPF_NEG,
  BPF_RSH,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_W,
  BPF_ALU,
  BPF_ALU64,
  BPF_CMPXCHG,
  BPF_PSEUDO_CALL,
  BPF_XCHG,
  OP_CALL,
} from '../../src/asm/opcodes.js';
import { kernelAvailable, runInKernel } from '../../src/node/kernel.js';
import {
  alu32i,
  alu32r,
  alu64i,
  alu64r,
  atomic,
  bytecode,
  end,
  exit,
  jmp32i,
  jmpi,
  lddw,
  ldx,
  ldxs,
  stx,
} from './snippet.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`kernel oracle skipped: ${kernel.why}`);

const INT64_MIN = -(1n << 63n);
const INT32_MIN = -(1n << 31n);
const SIGNED = 1; // the `off` field that turns div/mod into sdiv/smod (RFC 9669 §4.1)

/** r0 = a; r1 = b; r0 OP= r1 (64 or 32 bit, off selects signed forms); exit */
function binop(alu: 'alu64' | 'alu32', op: number, a: bigint, b: bigint, off = 0): Uint8Array {
  const apply = alu === 'alu64' ? alu64r(op, 0, 1, off) : alu32r(op, 0, 1, off);
  return bytecode(lddw(0, a), lddw(1, b), apply, exit());
}

async function r0Of(code: Uint8Array, mem?: Uint8Array): Promise<bigint> {
  const result = await runInKernel(code, { mem });
  if (!result.accepted) throw new Error(`the verifier rejected the snippet:\n${result.verifierLog}`);
  return result.r0;
}

const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
const u32 = (v: bigint): bigint => BigInt.asUintN(32, v);

describe.skipIf(!kernel.ok)('kernel runner', () => {
  it('returns the full 64-bit r0 of a snippet, not the 32-bit test-run retval', async () => {
    expect(await r0Of(bytecode(lddw(0, 0x1234_5678_9abc_def0n), exit()))).toBe(0x1234_5678_9abc_def0n);
  });

  it('passes memory in r1 and its length in r2, and returns the memory after the run', async () => {
    // r0 = *(u8 *)(r1 + 1) + r2 ; *(u8 *)(r1 + 0) = r0
    const code = bytecode(ldx(BPF_B, 0, 1, 1), alu64r(BPF_ADD, 0, 2), stx(BPF_B, 1, 0, 0), exit());
    const result = await runInKernel(code, { mem: Uint8Array.of(1, 7, 3) });
    expect(result.accepted).toBe(true);
    if (!result.accepted) return;
    expect(result.r0).toBe(10n);
    expect([...(result.mem ?? [])]).toEqual([10, 7, 3]);
  });

  it('reports a snippet that dereferences r1 without memory as rejected, with the verifier log', async () => {
    const result = await runInKernel(bytecode(ldx(BPF_B, 0, 1, 0), exit()));
    expect(result.accepted).toBe(false);
    if (result.accepted) return;
    expect(result.verifierLog).toMatch(/invalid mem access 'scalar'/);
  });

  it('reports a snippet reading an uninitialised register as rejected', async () => {
    const result = await runInKernel(bytecode(alu64r(BPF_MOV, 0, 5), exit()));
    expect(result.accepted).toBe(false);
  });

  it('reports the kernel time per run for repeated runs', async () => {
    const result = await runInKernel(bytecode(alu64i(BPF_MOV, 0, 1), exit()), { repeat: 1000 });
    expect(result.accepted && result.repeat).toBe(1000);
    expect(result.accepted && result.durationNs).toBeGreaterThan(0);
  });

  it('keeps BPF-to-BPF calls and several exits working when it rewrites the main function', async () => {
    const call = (imm: number) => ({ opcode: OP_CALL, dst: 0, src: BPF_PSEUDO_CALL, off: 0, imm });
    const code = bytecode(
      alu64i(BPF_MOV, 1, 3), //        0: r1 = 3
      call(5), //                       1: call f (7)
      jmpi(BPF_JEQ, 0, 4, 2), //        2: if r0 == 4 goto 5
      alu64i(BPF_MOV, 0, 0), //         3: r0 = 0
      exit(), //                        4
      alu64i(BPF_ADD, 0, 100), //       5: r0 += 100
      exit(), //                        6
      alu64r(BPF_MOV, 0, 1), //         7: f: r0 = r1
      alu64i(BPF_ADD, 0, 1), //         8: r0 += 1
      exit(), //                        9
    );
    for (const mode of ['main', 'subprog'] as const) {
      const result = await runInKernel(code, { mode });
      expect(result.accepted && result.r0, mode).toBe(104n);
    }
  });

  it('still refuses a main function that would fall off its end into the runner epilogue', async () => {
    const result = await runInKernel(bytecode(alu64i(BPF_MOV, 0, 0)));
    expect(result.accepted).toBe(false);
    expect(result.mode).toBe('subprog'); // run unchanged, so the verdict is the verifier's own
    expect(!result.accepted && result.verifierLog).toMatch(/last insn is not an exit or jmp/);
  });

  it('kills a run that takes longer than its timeout and says so', async () => {
    const endless = runInKernel(bytecode(alu64i(BPF_MOV, 0, 1), exit()), { repeat: 0x7fff_ffff, timeoutMs: 300 });
    await expect(endless).rejects.toThrow(/no answer within 300 ms/);
  });

  it('refuses a bytecode length that is not a whole number of instructions', async () => {
    await expect(runInKernel(new Uint8Array(12))).rejects.toThrow(/not a non-empty multiple of 8/);
  });
});

describe.skipIf(!kernel.ok)('RFC 9669 edge semantics agree with the kernel', () => {
  it('unsigned division by zero gives 0, 64 and 32 bit (§4.1)', async () => {
    expect(await r0Of(binop('alu64', BPF_DIV, 12345n, 0n))).toBe(0n);
    expect(await r0Of(binop('alu32', BPF_DIV, 0xffff_ffff_0000_1234n, 0n))).toBe(0n);
  });

  it('modulo by zero leaves the destination; the 32-bit form zero-extends it (§4.1)', async () => {
    expect(await r0Of(binop('alu64', BPF_MOD, 0xdead_beef_0000_0007n, 0n))).toBe(0xdead_beef_0000_0007n);
    expect(await r0Of(binop('alu32', BPF_MOD, 0xdead_beef_0000_0007n, 0n))).toBe(7n);
  });

  it('signed division and modulo by zero behave as the unsigned ones (§4.1)', async () => {
    expect(await r0Of(binop('alu64', BPF_DIV, -5n, 0n, SIGNED))).toBe(0n);
    expect(await r0Of(binop('alu64', BPF_MOD, -5n, 0n, SIGNED))).toBe(u64(-5n));
    expect(await r0Of(binop('alu32', BPF_DIV, -5n, 0n, SIGNED))).toBe(0n);
    expect(await r0Of(binop('alu32', BPF_MOD, -5n, 0n, SIGNED))).toBe(u32(-5n));
  });

  it('sdiv truncates toward zero and smod takes the sign of the dividend (§4.1)', async () => {
    expect(await r0Of(binop('alu64', BPF_DIV, -7n, 2n, SIGNED))).toBe(u64(-3n));
    expect(await r0Of(binop('alu64', BPF_MOD, -7n, 2n, SIGNED))).toBe(u64(-1n));
    expect(await r0Of(binop('alu64', BPF_MOD, 7n, -2n, SIGNED))).toBe(1n);
    expect(await r0Of(binop('alu32', BPF_DIV, -7n, 2n, SIGNED))).toBe(u32(-3n));
    expect(await r0Of(binop('alu32', BPF_MOD, -7n, 2n, SIGNED))).toBe(u32(-1n));
  });

  it('INT_MIN sdiv -1 is INT_MIN and INT_MIN smod -1 is 0, register and immediate forms', async () => {
    expect(await r0Of(binop('alu64', BPF_DIV, INT64_MIN, -1n, SIGNED))).toBe(u64(INT64_MIN));
    expect(await r0Of(binop('alu64', BPF_MOD, INT64_MIN, -1n, SIGNED))).toBe(0n);
    expect(await r0Of(binop('alu32', BPF_DIV, INT32_MIN, -1n, SIGNED))).toBe(u32(INT32_MIN));
    expect(await r0Of(binop('alu32', BPF_MOD, INT32_MIN, -1n, SIGNED))).toBe(0n);
    expect(await r0Of(bytecode(lddw(0, INT64_MIN), alu64i(BPF_DIV, 0, -1, SIGNED), exit()))).toBe(u64(INT64_MIN));
    expect(await r0Of(bytecode(lddw(0, INT64_MIN), alu64i(BPF_MOD, 0, -1, SIGNED), exit()))).toBe(0n);
  });

  it('the 32-bit signed forms use only the low 32 bits of both operands', async () => {
    // low halves: -8 and 3 -> -2
    expect(await r0Of(binop('alu32', BPF_DIV, 0x1234_5678_ffff_fff8n, 0xffff_0000_0000_0003n, SIGNED))).toBe(u32(-2n));
  });

  it('shift counts from a register are masked to 63 (64-bit) and 31 (32-bit) (§4.1)', async () => {
    expect(await r0Of(binop('alu64', BPF_LSH, 1n, 65n))).toBe(2n);
    expect(await r0Of(binop('alu32', BPF_LSH, 1n, 33n))).toBe(2n);
    expect(await r0Of(binop('alu64', BPF_RSH, 0x8000_0000_0000_0000n, 127n))).toBe(1n);
    expect(await r0Of(binop('alu32', BPF_ARSH, 0x8000_0000n, 63n))).toBe(0xffff_ffffn);
  });

  it('32-bit arsh sign-extends from bit 31 and zero-extends the result', async () => {
    expect(await r0Of(bytecode(lddw(0, 0x0000_0001_8000_0000n), alu32i(BPF_ARSH, 0, 4), exit()))).toBe(0xf800_0000n);
  });

  it('every 32-bit operation zero-extends into the upper half (§4.1)', async () => {
    const high = 0xffff_ffff_0000_0005n;
    expect(await r0Of(bytecode(lddw(0, high), alu32i(BPF_ADD, 0, 0), exit()))).toBe(5n);
    expect(await r0Of(bytecode(lddw(0, high), alu32i(BPF_NEG, 0, 0), exit()))).toBe(u32(-5n));
    expect(await r0Of(bytecode(lddw(1, high), alu32r(BPF_MOV, 0, 1), exit()))).toBe(5n);
  });

  it('movsx sign-extends 8/16/32 bits in ALU64 and 8/16 bits then zero-extends in ALU (§4.1)', async () => {
    expect(await r0Of(bytecode(lddw(1, 0x80n), alu64r(BPF_MOV, 0, 1, 8), exit()))).toBe(u64(-128n));
    expect(await r0Of(bytecode(lddw(1, 0x8000n), alu64r(BPF_MOV, 0, 1, 16), exit()))).toBe(u64(-32768n));
    expect(await r0Of(bytecode(lddw(1, 0x8000_0000n), alu64r(BPF_MOV, 0, 1, 32), exit()))).toBe(u64(INT32_MIN));
    expect(await r0Of(bytecode(lddw(1, 0xffn), alu32r(BPF_MOV, 0, 1, 8), exit()))).toBe(0xffff_ffffn);
  });

  it('le truncates to its width, be swaps and truncates, ALU64 bswap swaps unconditionally (§4.2)', async () => {
    const v = 0x0102_0304_0506_0708n;
    expect(await r0Of(bytecode(lddw(0, v), end(BPF_ALU, BPF_TO_LE, 0, 16), exit()))).toBe(0x0708n);
    expect(await r0Of(bytecode(lddw(0, v), end(BPF_ALU, BPF_TO_LE, 0, 32), exit()))).toBe(0x0506_0708n);
    expect(await r0Of(bytecode(lddw(0, v), end(BPF_ALU, BPF_TO_LE, 0, 64), exit()))).toBe(v);
    expect(await r0Of(bytecode(lddw(0, v), end(BPF_ALU, BPF_TO_BE, 0, 16), exit()))).toBe(0x0807n);
    expect(await r0Of(bytecode(lddw(0, v), end(BPF_ALU, BPF_TO_BE, 0, 32), exit()))).toBe(0x0807_0605n);
    expect(await r0Of(bytecode(lddw(0, v), end(BPF_ALU64, BPF_TO_LE, 0, 16), exit()))).toBe(0x0807n);
    expect(await r0Of(bytecode(lddw(0, v), end(BPF_ALU64, BPF_TO_LE, 0, 64), exit()))).toBe(0x0807_0605_0403_0201n);
  });

  it('an ALU64 immediate is sign-extended to 64 bits, an ALU one is used as 32 bits', async () => {
    expect(await r0Of(bytecode(alu64i(BPF_MOV, 0, -1), exit()))).toBe(u64(-1n));
    expect(await r0Of(bytecode(alu32i(BPF_MOV, 0, -1), exit()))).toBe(0xffff_ffffn);
  });

  it('an unsigned division by an immediate uses the sign-extended immediate as unsigned (64) or u32 (32)', async () => {
    expect(await r0Of(bytecode(lddw(0, -1n), alu64i(BPF_DIV, 0, -1), exit()))).toBe(1n);
    expect(await r0Of(bytecode(lddw(0, 0xffff_fffen), alu32i(BPF_DIV, 0, -1), exit()))).toBe(0n);
    expect(await r0Of(bytecode(alu64i(BPF_MOV, 0, 5), alu64i(BPF_MOD, 0, -2), exit()))).toBe(5n);
  });

  it('neg of INT64_MIN is INT64_MIN', async () => {
    expect(await r0Of(bytecode(lddw(0, INT64_MIN), alu64i(BPF_NEG, 0, 0), exit()))).toBe(u64(INT64_MIN));
  });

  it('gotol (JMP32 ja) jumps by its 32-bit immediate, not by off (§4.3)', async () => {
    // r0 = 1; if r0 != 1 goto +1; gotol +1; r0 = 2; exit   (off = 0, imm = 1)
    const gotol = { opcode: BPF_JMP32 | BPF_JA, dst: 0, src: 0, off: 0, imm: 1 };
    const code = bytecode(alu64i(BPF_MOV, 0, 1), jmpi(BPF_JNE, 0, 1, 1), gotol, alu64i(BPF_MOV, 0, 2), exit());
    expect(await r0Of(code)).toBe(1n);
  });

  it('JMP32 compares only the low 32 bits, JMP the full 64 bits (§4.3)', async () => {
    // r1 = 0x1_0000_0000: low half is 0
    const jump = (cond: ReturnType<typeof jmpi>) =>
      bytecode(lddw(1, 0x1_0000_0000n), alu64i(BPF_MOV, 0, 1), cond, alu64i(BPF_MOV, 0, 2), exit());
    expect(await r0Of(jump(jmp32i(BPF_JEQ, 1, 0, 1)))).toBe(1n);
    expect(await r0Of(jump(jmpi(BPF_JEQ, 1, 0, 1)))).toBe(2n);
    // the immediate of JMP is sign-extended: -1 is u64 max, greater than any r1
    expect(await r0Of(jump(jmpi(BPF_JGT, 1, -1, 1)))).toBe(2n);
  });

  it('sign-extending loads extend from the loaded width (§5.2)', async () => {
    const mem = Uint8Array.of(0x80, 0xff, 0xff, 0xff, 0, 0, 0, 0);
    expect(await r0Of(bytecode(ldxs(BPF_B, 0, 1, 0), exit()), mem)).toBe(u64(-128n));
    expect(await r0Of(bytecode(ldxs(BPF_H, 0, 1, 0), exit()), mem)).toBe(u64(-128n));
    expect(await r0Of(bytecode(ldxs(BPF_W, 0, 1, 0), exit()), mem)).toBe(u64(-128n));
    expect(await r0Of(bytecode(ldx(BPF_W, 0, 1, 0), exit()), mem)).toBe(0xffff_ff80n);
  });

  it('atomic fetch-add, xchg and cmpxchg return the old value and update memory (§5.3)', async () => {
    const mem = new Uint8Array(8);
    new DataView(mem.buffer).setBigUint64(0, 40n, true);
    const fetchAdd = await runInKernel(
      bytecode(alu64i(BPF_MOV, 0, 2), atomic(BPF_DW, 1, 0, 0, BPF_ADD | BPF_FETCH), exit()),
      { mem },
    );
    expect(fetchAdd.accepted && fetchAdd.r0).toBe(40n);
    expect(fetchAdd.accepted && new DataView(fetchAdd.mem!.buffer).getBigUint64(0, true)).toBe(42n);

    const xchg = await runInKernel(bytecode(alu64i(BPF_MOV, 0, 7), atomic(BPF_W, 1, 0, 0, BPF_XCHG), exit()), { mem });
    expect(xchg.accepted && xchg.r0).toBe(40n);

    // cmpxchg: compares with r0 (40), stores r2 (9) when equal, r0 = old value
    const cmpxchg = await runInKernel(
      bytecode(alu64i(BPF_MOV, 0, 40), alu64i(BPF_MOV, 2, 9), atomic(BPF_DW, 1, 2, 0, BPF_CMPXCHG), exit()),
      { mem },
    );
    expect(cmpxchg.accepted && cmpxchg.r0).toBe(40n);
    expect(cmpxchg.accepted && cmpxchg.mem![0]).toBe(9);
  });
});
