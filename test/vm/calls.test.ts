import { describe, expect, it } from 'vitest';
import { HelperFault, Machine } from '../../src/vm/machine.js';
import type { HelperCall } from '../../src/vm/types.js';
import {
  ADD, DW, I, JEQ, MUL, SUB, alu64Imm, alu64Reg, call, callLocal, exit, jmpImm, ldx, mov64, movReg, r0Of, ret, runProgram, st, stx, B,
} from './build.js';

describe('BPF-to-BPF calls', () => {
  it('pass r1..r5, return r0 and keep the caller\'s r6..r9', async () => {
    const prog = [
      mov64(6, 100),
      mov64(1, 5),
      callLocal(2), // → 5
      alu64Reg(ADD, 0, 6),
      exit(),
      mov64(6, 1), // the callee clobbers r6
      movReg(0, 1),
      alu64Imm(MUL, 0, 2),
      exit(),
    ];
    expect(await r0Of(prog)).toBe(110n);
  });

  it('give the callee a fresh stack frame and let it use a pointer into the caller\'s', async () => {
    const own = [st(DW, 10, -8, 7), callLocal(2), ldx(DW, 0, 10, -8), exit(), st(DW, 10, -8, 99), mov64(0, 0), exit()];
    expect(await r0Of(own)).toBe(7n);
    const viaPointer = [st(DW, 10, -8, 5), movReg(1, 10), alu64Imm(ADD, 1, -8), callLocal(1), exit(), ldx(DW, 0, 1, 0), exit()];
    expect(await r0Of(viaPointer)).toBe(5n);
  });

  // f(n): if n == 0 return 0; return f(n - 1). main calls f(depth).
  const recursion = (n: number) => [
    mov64(1, n),
    callLocal(1), // → 3
    exit(),
    jmpImm(JEQ, 1, 0, 2), // → 6
    alu64Imm(SUB, 1, 1),
    callLocal(-3), // → 3
    exit(),
  ];

  it('allow 8 frames, the kernel\'s MAX_CALL_FRAMES, and fault on the 9th', async () => {
    expect((await runProgram(recursion(6))).fault).toBeUndefined();
    const r = await runProgram(recursion(7));
    expect(r.fault?.code).toBe('call_depth');
    expect(r.fault?.insnIndex).toBe(5);
  });

  it('callx calls a function through a BPF_PSEUDO_FUNC address', async () => {
    // r2 = &f (lddw src=4, imm = offset to f); callx r2 (clang 19: register in dst_reg)
    const prog = [I(0x18, 2, 4, 0, 4), I(0, 0, 0, 0, 0), mov64(1, 20), I(0x8d, 2, 0, 0, 0), exit(), movReg(0, 1), alu64Imm(ADD, 0, 1), exit()];
    expect(await r0Of(prog)).toBe(21n);
  });

  it('callx to an address that is not a function start faults', async () => {
    const machine = await Machine.create();
    const prog = machine.loadProgram([mov64(0, 0), I(0x8d, 2, 0, 0, 0), exit(), exit()], { name: 'cx', helpers: new Set() });
    const notStart = machine.run(prog, [0n, 0n]);
    expect(notStart.fault?.code).toBe('bad_callx');
    machine.setReg(2, 0n);
    const addr = machine.codeAddress(prog, 3);
    const prog2 = machine.loadProgram([I(0x18, 2, 0, 0, Number(BigInt.asIntN(32, addr))), I(0, 0, 0, 0, Number(BigInt.asIntN(32, addr >> 32n))), I(0x8d, 2, 0, 0, 0), exit()], { name: 'cross', helpers: new Set() });
    // A code address of another program is not a function of this one.
    expect(machine.run(prog2).fault?.code).toBe('bad_callx');
  });
});

describe('helpers', () => {
  it('see r1..r5 as unsigned 64-bit values and set r0', async () => {
    let seen: HelperCall | undefined;
    const prog = ret(mov64(1, -1), mov64(2, 2), mov64(3, 3), mov64(4, 4), mov64(5, 5), call(7));
    const r = await runProgram(prog, {
      helpers: {
        7: (c) => {
          seen = c;
          return -2n;
        },
      },
    });
    expect(seen?.args).toEqual([2n ** 64n - 1n, 2n, 3n, 4n, 5n]);
    expect(seen?.helperId).toBe(7);
    expect(seen?.insnIndex).toBe(5);
    expect(r.r0).toBe(2n ** 64n - 2n);
  });

  it('a helper that throws ends the run with a helper fault carrying its message', async () => {
    const r = await runProgram(ret(call(5)), { helpers: { 5: () => { throw new Error('clock broke'); } } });
    expect(r.fault?.code).toBe('helper');
    expect(r.fault?.message).toContain('clock broke');
    expect(r.fault?.message).toContain('bpf_ktime_get_ns');
  });

  it('a helper can stop the run with a fault of its own code', async () => {
    const r = await runProgram(ret(call(12)), { helpers: { 12: () => { throw new HelperFault('tail_call_limit', 'more than 33 tail calls'); } } });
    expect(r.fault?.code).toBe('tail_call_limit');
    expect(r.fault?.insnIndex).toBe(0);
    expect(r.fault?.message).toContain('more than 33 tail calls');
  });

  it('callSubprogram runs a callback in a new frame re-entrantly and restores the caller\'s registers', async () => {
    const machine = await Machine.create();
    // main: r6 = 1000; r1 = 3; call helper 181 (bpf_loop-like: calls cb(i) for i < r1, sums r0)
    //       r0 += r6; exit.  cb at 6: r0 = r1 * 10; exit
    const insns = [mov64(6, 1000), mov64(1, 3), call(181), alu64Reg(ADD, 0, 6), exit(), exit(), movReg(0, 1), alu64Imm(MUL, 0, 10), exit()];
    let prog = -1;
    machine.setHelper(181, ({ args }) => {
      let sum = 0n;
      for (let i = 0n; i < args[0]; i++) sum += machine.callSubprogram(prog, 6, [i]);
      return sum;
    });
    prog = machine.loadProgram(insns, { name: 'loop', helpers: new Set([181]) });
    machine.codeAddress(prog, 6);
    const r = machine.run(prog);
    expect(r.fault).toBeUndefined();
    expect(r.r0).toBe(1030n);
    // 5 main instructions + 3 callbacks of 3 instructions share the budget count.
    expect(r.insnCount).toBe(5 + 9);
  });

  it('a fault inside a callback stops the whole run at the callback\'s instruction', async () => {
    const machine = await Machine.create();
    const insns = [call(181), exit(), mov64(1, 0), ldx(DW, 0, 1, 0), exit()];
    let prog = -1;
    machine.setHelper(181, () => machine.callSubprogram(prog, 2, []));
    prog = machine.loadProgram(insns, { name: 'cb', helpers: new Set([181]) });
    machine.codeAddress(prog, 2);
    const r = machine.run(prog);
    expect(r.fault?.code).toBe('read_oob');
    expect(r.fault?.insnIndex).toBe(3);
  });

  it('a callback counts as a frame towards MAX_CALL_FRAMES', async () => {
    const machine = await Machine.create();
    // main calls f(6) which recurses down to depth 7 and calls helper 181 there; the callback
    // would be a 9th frame.
    const insns = [
      mov64(1, 6), callLocal(1), exit(), // 0..2
      jmpImm(JEQ, 1, 0, 2), alu64Imm(SUB, 1, 1), callLocal(-3), exit(), // 3..6: f
      call(181), exit(), // 7..8
      mov64(0, 1), exit(), // 9..10: callback
    ];
    insns[3] = jmpImm(JEQ, 1, 0, 3); // f(0) → 7
    let prog = -1;
    machine.setHelper(181, () => machine.callSubprogram(prog, 9, []));
    prog = machine.loadProgram(insns, { name: 'deep', helpers: new Set([181]) });
    machine.codeAddress(prog, 9);
    const r = machine.run(prog);
    expect(r.fault?.code).toBe('call_depth');
  });

  it('a callback shares the run\'s budget', async () => {
    const machine = await Machine.create();
    const insns = [call(181), exit(), I(0x05, 0, 0, -1, 0), exit()];
    let prog = -1;
    machine.setHelper(181, () => machine.callSubprogram(prog, 2, []));
    prog = machine.loadProgram(insns, { name: 'spin', helpers: new Set([181]) });
    machine.codeAddress(prog, 2);
    const r = machine.run(prog, [], { budget: 500 });
    expect(r.fault?.code).toBe('budget');
    expect(r.insnCount).toBe(500);
    expect(r.fault?.insnIndex).toBe(2);
  });

  it('regions added by a helper during a run are visible to the rest of the run', async () => {
    const machine = await Machine.create();
    const off = machine.alloc(8);
    machine.bytes()[off] = 77;
    machine.setHelper(1, () => {
      machine.addRegion(off, 8, { kind: 'map_value', name: 'value', read: true, write: true });
      return machine.toVirtual(off);
    });
    // r0 = helper(); *(r10 - 8) = r0 (the stack still works); r0 = *(u8 *)r0
    const prog = machine.loadProgram(ret(call(1), stx(DW, 10, 0, -8), ldx(DW, 1, 10, -8), ldx(B, 0, 1, 0)), { name: 'p', helpers: new Set([1]) });
    expect(machine.run(prog).r0).toBe(77n);
  });

  it('a tail call continues in the target program with the same r1', async () => {
    const machine = await Machine.create();
    const target = machine.loadProgram(ret(movReg(0, 1), alu64Imm(ADD, 0, 1)), { name: 'target', helpers: new Set() });
    machine.setHelper(12, ({ args }) => {
      if (args[2] === 0n) machine.requestTailCall(target);
      return 0n;
    });
    // bpf_tail_call(ctx, map, index): falls through (r0 = 99) when the helper does not jump.
    const caller = machine.loadProgram(ret(movReg(7, 1), mov64(3, 0), call(12), mov64(0, 99)), { name: 'caller', helpers: new Set([12]) });
    const r = machine.run(caller, [41n]);
    expect(r.r0).toBe(42n);
    expect(machine.tailCallCount).toBe(1);
    const fallthrough = machine.loadProgram(ret(mov64(3, 1), call(12), mov64(0, 99)), { name: 'ft', helpers: new Set([12]) });
    expect(machine.run(fallthrough, [41n]).r0).toBe(99n);
  });
});

describe('budget', () => {
  it('an endless loop stops with a budget fault after exactly the budget', async () => {
    const r = await runProgram([mov64(0, 0), alu64Imm(ADD, 0, 1), I(0x05, 0, 0, -2, 0), exit()], { opts: { budget: 1000 } });
    expect(r.fault?.code).toBe('budget');
    expect(r.insnCount).toBe(1000);
    expect(r.fault?.message).toContain('1000 instructions');
  });

  it('the default budget is one million instructions', async () => {
    const r = await runProgram([I(0x05, 0, 0, -1, 0), exit()]);
    expect(r.fault?.code).toBe('budget');
    expect(r.insnCount).toBe(1_000_000);
  });

  it('a program within budget counts every instruction it ran', async () => {
    const r = await runProgram(ret(mov64(0, 1), mov64(0, 2)), { opts: { budget: 3 } });
    expect(r.fault).toBeUndefined();
    expect(r.insnCount).toBe(3);
  });
});

describe('trace', () => {
  it('records pc, frame and registers after each instruction', async () => {
    const prog = [mov64(0, 1), callLocal(1), exit(), mov64(0, 5), exit()];
    const r = await runProgram(prog, { opts: { traceLimit: 100 } });
    expect(r.trace?.map((t) => [t.insnIndex, t.frame])).toEqual([[0, 0], [1, 0], [3, 1], [4, 1], [2, 0]]);
    expect(r.trace?.[0].regs[0]).toBe(1n);
    expect(r.trace?.[2].regs[0]).toBe(5n);
    expect(r.trace?.[2].regs[10]).toBe(r.trace![0].regs[10] - 512n);
  });

  it('keeps the last entries when the limit is reached', async () => {
    const r = await runProgram([mov64(0, 0), alu64Imm(ADD, 0, 1), jmpImm(JEQ, 0, 50, 1), I(0x05, 0, 0, -3, 0), exit()], { opts: { traceLimit: 4 } });
    expect(r.trace).toHaveLength(4);
    expect(r.trace?.at(-1)?.insnIndex).toBe(4);
    expect(r.trace?.at(-1)?.regs[0]).toBe(50n);
  });

  it('is absent when not asked for', async () => {
    expect((await runProgram(ret(mov64(0, 0)))).trace).toBeUndefined();
  });
});
