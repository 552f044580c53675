import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/vm/machine.js';
import type { CtxAccessTable } from '../../src/vm/types.js';
import { B, H, W, ldx, ret, st, stx, mov64 } from './build.js';

// A 16-byte context: [0,4) read-only u32 "len", [4,8) read/write u32 "mark",
// [8,12) u32 pointer field "data" readable with 4-byte loads only.
function table(): CtxAccessTable {
  const readSizes = new Uint8Array(16);
  const writeSizes = new Uint8Array(16);
  readSizes[0] = 1 | 2 | 4;
  readSizes[4] = 4;
  writeSizes[4] = 4;
  readSizes[8] = 4;
  return { readSizes, writeSizes, pointerFields: [{ offset: 8, value: 0xffff_8880_1234_5678n }] };
}

async function setup() {
  const machine = await Machine.create();
  const off = machine.alloc(16);
  const dv = new DataView(machine.bytes().buffer);
  dv.setUint32(off, 60, true);
  dv.setUint32(off + 4, 7, true);
  const region = machine.addCtxRegion(off, 16, '__sk_buff', table());
  const run = (insns: ReturnType<typeof ret>) => {
    const prog = machine.loadProgram(insns, { name: 'tc', helpers: new Set() });
    return machine.run(prog, [machine.toVirtual(off)]);
  };
  return { machine, off, region, run };
}

describe('context access', () => {
  it('allowed reads see the context memory', async () => {
    const { run } = await setup();
    expect(run(ret(ldx(W, 0, 1, 0))).r0).toBe(60n);
    expect(run(ret(ldx(B, 0, 1, 0))).r0).toBe(60n);
    expect(run(ret(ldx(W, 0, 1, 4))).r0).toBe(7n);
  });

  it('pointer fields load their 64-bit shadow value whatever the load size', async () => {
    const { run, machine, region } = await setup();
    expect(run(ret(ldx(W, 0, 1, 8))).r0).toBe(0xffff_8880_1234_5678n);
    machine.setPointerField(region, 8, 0xffff_8880_0000_1000n);
    expect(run(ret(ldx(W, 0, 1, 8))).r0).toBe(0xffff_8880_0000_1000n);
  });

  it('a write to a read-only field is a ctx_write fault naming the offset', async () => {
    const { run, machine, off } = await setup();
    const r = run(ret(st(W, 1, 0, 1), mov64(0, 0)));
    expect(r.fault?.code).toBe('ctx_write');
    expect(r.fault?.message).toContain('ctx_write: write to read-only field at offset 0x0 of __sk_buff');
    expect(new DataView(machine.bytes().buffer).getUint32(off, true)).toBe(60);
  });

  it('writes the table allows reach memory', async () => {
    const { run, machine, off } = await setup();
    expect(run(ret(mov64(2, 99), stx(W, 1, 2, 4), mov64(0, 0))).fault).toBeUndefined();
    expect(new DataView(machine.bytes().buffer).getUint32(off + 4, true)).toBe(99);
  });

  it('a read of a size the table does not allow is a ctx_read fault', async () => {
    const r = (await setup()).run(ret(ldx(H, 0, 1, 4)));
    expect(r.fault?.code).toBe('ctx_read');
    expect(r.fault?.message).toContain('allowed sizes: 4');
    const gap = (await setup()).run(ret(ldx(W, 0, 1, 12)));
    expect(gap.fault?.code).toBe('ctx_read');
  });
});
