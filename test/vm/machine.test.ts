import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/vm/machine.js';
import { VBASE } from '../../src/vm/types.js';
import { B, DW, ldx, mov64, ret } from './build.js';
import { execRaw } from '../../src/vm/exec.js';
import { encodeInsns } from '../../src/asm/insn.js';

describe('Machine memory', () => {
  it('alloc returns zeroed, aligned, non-overlapping blocks and reuses freed ones', async () => {
    const m = await Machine.create();
    const a = m.alloc(24, 64);
    expect(a % 64).toBe(0);
    m.bytes().fill(0xee, a, a + 24);
    const b = m.alloc(8);
    expect(b >= a + 24 || b + 8 <= a).toBe(true);
    m.free(a);
    const c = m.alloc(24, 64);
    expect(c).toBe(a);
    expect([...m.bytes().slice(c, c + 24)].every((x) => x === 0)).toBe(true);
    expect(() => m.free(a + 1)).toThrow(/was not allocated/);
  });

  it('grows memory for large allocations and bytes() sees the new size', async () => {
    const m = await Machine.create();
    const before = m.bytes().length;
    const big = m.alloc(before * 2);
    expect(m.bytes().length).toBeGreaterThanOrEqual(big + before * 2);
    m.bytes()[big + before * 2 - 1] = 1;
  });

  it('each machine has its own memory', async () => {
    const a = await Machine.create();
    const b = await Machine.create();
    const off = a.alloc(8);
    a.bytes()[off] = 7;
    expect(b.bytes()[off]).not.toBe(7);
  });

  it('translates between wasm offsets and BPF virtual addresses', async () => {
    const m = await Machine.create();
    const off = m.alloc(8);
    expect(m.toVirtual(off)).toBe(VBASE + BigInt(off));
    expect(m.toOffset(m.toVirtual(off))).toBe(off);
    expect(m.toOffset(0n)).toBeUndefined();
    expect(m.toOffset(VBASE - 1n)).toBeUndefined();
  });

  it('lists regions with their bounds, the stack first', async () => {
    const m = await Machine.create();
    const off = m.alloc(32);
    const id = m.addRegion(off, 32, { kind: 'packet', name: 'packet', read: true, write: true });
    const regions = m.regions();
    expect(regions[0].kind).toBe('stack');
    expect(regions.find((r) => r.id === id)).toMatchObject({ name: 'packet', offset: off, length: 32, start: VBASE + BigInt(off) });
  });

  it('resizeRegion moves the bounds the program sees', async () => {
    const m = await Machine.create();
    const off = m.alloc(64);
    const id = m.addRegion(off, 16, { kind: 'packet', name: 'packet', read: true, write: true });
    const prog = m.loadProgram(ret(ldx(B, 0, 1, 20)), { name: 'p', helpers: new Set() });
    expect(m.run(prog, [m.toVirtual(off)]).fault?.code).toBe('read_oob');
    m.resizeRegion(id, off, 64);
    expect(m.run(prog, [m.toVirtual(off)]).fault).toBeUndefined();
  });

  it('code addresses resolve back to program and instruction', async () => {
    const m = await Machine.create();
    const prog = m.loadProgram(ret(mov64(0, 0)), { name: 'p', helpers: new Set() });
    const addr = m.codeAddress(prog, 1);
    expect(m.resolveCodeAddress(addr)).toEqual({ progId: prog, insnIndex: 1 });
    expect(m.resolveCodeAddress(addr + 1n)).toBeUndefined();
  });

  it('refuses regions that would expose VM-internal memory', async () => {
    const m = await Machine.create();
    const prog = m.loadProgram(ret(mov64(0, 0)), { name: 'p', helpers: new Set() });
    const code = m.toOffset(m.codeAddress(prog, 0))!;
    expect(() => m.addRegion(code, 16, { kind: 'mem', name: 'evil', read: true, write: true })).toThrow(/VM-internal/);
    expect(() => m.addRegion(16, 16, { kind: 'mem', name: 'low', read: true, write: true })).toThrow(/not inside the VM heap/);
    expect(() => m.free(code)).toThrow(/belongs to the VM/);
  });

  it('fault messages end with the C source line when the program has line info', async () => {
    const m = await Machine.create();
    const prog = m.loadProgram(ret(mov64(1, 0), ldx(DW, 0, 1, 0)), {
      name: 'xdp_main',
      helpers: new Set(),
      sourceLine: (i) => (i === 1 ? { file: 'prog.c', line: 42, column: 5, text: '  return *p;' } : undefined),
    });
    const r = m.run(prog);
    expect(r.fault?.message).toContain('in xdp_main at insn 1');
    expect(r.fault?.message).toContain('at prog.c:42: return *p;');
  });

  it('code is not readable by programs', async () => {
    const m = await Machine.create();
    const prog = m.loadProgram(ret(ldx(DW, 0, 1, 0)), { name: 'p', helpers: new Set() });
    const r = m.run(prog, [m.codeAddress(prog, 0)]);
    expect(r.fault?.code).toBe('read_oob');
  });

  it('a run starts with the same poisoned stack whatever the previous run left', async () => {
    const m = await Machine.create();
    const writer = m.loadProgram(ret({ opcode: 0x7a, dst: 10, src: 0, off: -8, imm: 42 }, mov64(0, 0)), { name: 'w', helpers: new Set() });
    const reader = m.loadProgram(ret(ldx(DW, 0, 10, -8)), { name: 'r', helpers: new Set() });
    const fresh = m.run(reader).r0;
    m.run(writer);
    expect(m.run(reader).r0).toBe(fresh);
    // uninitialised stack is not zero, as it is not in the kernel (root may read it)
    expect(fresh).toBe(0xccccccccccccccccn);
  });

  it('can zero the stack instead (stackFill: 0)', async () => {
    const m = await Machine.create({ stackFill: 0 });
    const reader = m.loadProgram(ret(ldx(DW, 0, 10, -8)), { name: 'r', helpers: new Set() });
    expect(m.run(reader).r0).toBe(0n);
  });
});

describe('execRaw', () => {
  it('runs with r1 = the memory, r2 = its length, and returns the memory afterwards', async () => {
    // r0 = r2; *(u8 *)(r1 + 0) = 0x7f; exit
    const code = encodeInsns([{ opcode: 0xbf, dst: 0, src: 2, off: 0, imm: 0 }, { opcode: 0x72, dst: 1, src: 0, off: 0, imm: 0x7f }, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
    const r = await execRaw(code, new Uint8Array([1, 2, 3]));
    expect(r.r0).toBe(3n);
    expect([...r.mem]).toEqual([0x7f, 2, 3]);
    expect(r.insnCount).toBe(3);
  });

  it('reports faults and honours the budget', async () => {
    const loop = encodeInsns([{ opcode: 0x05, dst: 0, src: 0, off: -1, imm: 0 }, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
    const r = await execRaw(loop, new Uint8Array(0), { budget: 50 });
    expect(r.fault?.code).toBe('budget');
    expect(r.insnCount).toBe(50);
  });

  it('calls the given helpers', async () => {
    const code = encodeInsns([{ opcode: 0x85, dst: 0, src: 0, off: 0, imm: 1 }, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 }]);
    const r = await execRaw(code, new Uint8Array(0), { helpers: new Map([[1, ({ args }) => args[1] + 1n]]) });
    expect(r.r0).toBe(1n);
  });
});
