import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/vm/machine.js';
import { VBASE } from '../../src/vm/types.js';
import {
  B, DW, H, I, W, atomic, exit, lddw, ldx, ldxs, mov64, movReg, r0Of, ret, runProgram, st, stx, u64,
} from './build.js';

const bytes = (...v: number[]): Uint8Array => new Uint8Array(v);

describe('loads and stores', () => {
  it('ldx reads little-endian values of every size', async () => {
    const mem = bytes(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x88);
    expect(await r0Of(ret(ldx(B, 0, 1, 7)), { mem })).toBe(0x88n);
    expect(await r0Of(ret(ldx(H, 0, 1, 0)), { mem })).toBe(0x0201n);
    expect(await r0Of(ret(ldx(W, 0, 1, 0)), { mem })).toBe(0x04030201n);
    expect(await r0Of(ret(ldx(DW, 0, 1, 0)), { mem })).toBe(0x8807060504030201n);
  });

  it('sign-extending loads (BPF_MEMSX) extend to 64 bits', async () => {
    const mem = bytes(0x80, 0xff, 0xff, 0xff, 0, 0, 0, 0);
    expect(await r0Of(ret(ldxs(B, 0, 1, 0)), { mem })).toBe(u64(-128n));
    expect(await r0Of(ret(ldxs(H, 0, 1, 0)), { mem })).toBe(u64(-128n));
    expect(await r0Of(ret(ldxs(W, 0, 1, 0)), { mem })).toBe(u64(-128n));
    expect(await r0Of(ret(ldxs(B, 0, 1, 4)), { mem })).toBe(0n);
  });

  it('st and stx write only their size', async () => {
    const r = await runProgram(ret(st(W, 1, 0, -2), mov64(2, 0x1234), stx(H, 1, 2, 4), st(B, 1, 7, 0x55), mov64(0, 0)), {
      mem: new Uint8Array(8).fill(0xaa),
    });
    expect(r.fault).toBeUndefined();
    expect([...r.machine.bytes().slice(r.memOff, r.memOff + 8)]).toEqual([0xfe, 0xff, 0xff, 0xff, 0x34, 0x12, 0xaa, 0x55]);
  });

  it('the stack is 512 bytes below r10 and keeps values', async () => {
    const prog = ret(mov64(1, 42), stx(DW, 10, 1, -8), stx(DW, 10, 1, -512), ldx(DW, 0, 10, -8), ldx(DW, 2, 10, -512), I(0x0f, 0, 2));
    expect(await r0Of(prog)).toBe(84n);
  });
});

describe('memory faults', () => {
  it('a read past the end of a region names the region and the distance', async () => {
    const r = await runProgram(ret(ldx(W, 0, 1, 14)), { mem: new Uint8Array(16) });
    expect(r.fault?.code).toBe('read_oob');
    expect(r.fault?.insnIndex).toBe(0);
    expect(r.fault?.size).toBe(4);
    expect(r.fault?.message).toContain('2 bytes past its end');
    expect(r.fault?.message).toContain('mem [');
    expect(r.fault?.message).toContain('r0 = *(u32 *)(r1 + 0xe)');
  });

  it('the stack above r10 and below the frame is out of bounds', async () => {
    const above = await runProgram(ret(ldx(B, 0, 10, 0)));
    expect(above.fault?.code).toBe('read_oob');
    const below = await runProgram(ret(st(DW, 10, -520, 1)));
    expect(below.fault?.code).toBe('write_oob');
  });

  it('a NULL pointer dereference is a fault, not a read of wasm address 0', async () => {
    const r = await runProgram(ret(mov64(1, 0), ldx(DW, 0, 1, 0)));
    expect(r.fault?.code).toBe('read_oob');
    expect(r.fault?.address).toBe(0n);
    expect(r.fault?.message).toContain('NULL');
  });

  it('a wild pointer into VM internals (registers, code) is refused', async () => {
    // VBASE + small offsets is where the control block and the decoded code live.
    for (const off of [0n, 8n, 0x100n, 0x400n, 0x2000n]) {
      const r = await runProgram(ret(...lddw(1, VBASE + off), st(DW, 1, 0, 7), mov64(0, 0)));
      expect(r.fault?.code).toBe('write_oob');
    }
    const machine = await Machine.create();
    const prog = machine.loadProgram(ret(...lddw(1, VBASE + 0x10n), ldx(DW, 0, 1, 0)), { name: 'wild', helpers: new Set() });
    expect(machine.run(prog).fault?.code).toBe('read_oob');
  });

  it('an access straddling the end of a region faults even if another region follows', async () => {
    const machine = await Machine.create();
    const a = machine.alloc(16);
    const b = machine.alloc(16);
    expect(b).toBe(a + 16);
    machine.addRegion(a, 16, { kind: 'mem', name: 'a', read: true, write: true });
    machine.addRegion(b, 16, { kind: 'mem', name: 'b', read: true, write: true });
    const prog = machine.loadProgram(ret(ldx(DW, 0, 1, 12)), { name: 'straddle', helpers: new Set() });
    expect(machine.run(prog, [machine.toVirtual(a)]).fault?.code).toBe('read_oob');
  });

  it('writes to a read-only region fault with write_denied and reads succeed', async () => {
    const machine = await Machine.create();
    const off = machine.alloc(8);
    machine.bytes()[off] = 9;
    machine.addRegion(off, 8, { kind: 'global', name: '.rodata', read: true, write: false });
    const read = machine.loadProgram(ret(ldx(B, 0, 1, 0)), { name: 'read', helpers: new Set() });
    const write = machine.loadProgram(ret(st(B, 1, 0, 1)), { name: 'write', helpers: new Set() });
    expect(machine.run(read, [machine.toVirtual(off)]).r0).toBe(9n);
    const r = machine.run(write, [machine.toVirtual(off)]);
    expect(r.fault?.code).toBe('write_denied');
    expect(r.fault?.message).toContain('.rodata');
    expect(machine.bytes()[off]).toBe(9);
  });

  it('removing a region makes it unreachable', async () => {
    const machine = await Machine.create();
    const off = machine.alloc(8);
    const id = machine.addRegion(off, 8, { kind: 'map_value', name: 'v', read: true, write: true });
    const prog = machine.loadProgram(ret(ldx(DW, 0, 1, 0)), { name: 'p', helpers: new Set() });
    expect(machine.run(prog, [machine.toVirtual(off)]).fault).toBeUndefined();
    machine.removeRegion(id);
    expect(machine.run(prog, [machine.toVirtual(off)]).fault?.code).toBe('read_oob');
  });
});

describe('atomics', () => {
  const memWith = (v: bigint): Uint8Array => {
    const m = new Uint8Array(8);
    new DataView(m.buffer).setBigUint64(0, v, true);
    return m;
  };
  const memValue = (r: Awaited<ReturnType<typeof runProgram>>): bigint =>
    new DataView(r.machine.bytes().buffer).getBigUint64(r.memOff, true);

  it.each([
    ['add', 0x00, 10n, 3n, 13n],
    ['or', 0x40, 0x10n, 0x01n, 0x11n],
    ['and', 0x50, 0x18n, 0x0cn, 0x08n],
    ['xor', 0xa0, 0x18n, 0x0cn, 0x14n],
  ])('%s updates memory; the fetch form returns the old value', async (_, op, initial, operand, want) => {
    const plain = await runProgram(ret(mov64(2, Number(operand)), atomic(DW, 1, 2, 0, op), movReg(0, 2)), { mem: memWith(initial) });
    expect(memValue(plain)).toBe(want);
    expect(plain.r0).toBe(operand);
    const fetch = await runProgram(ret(mov64(2, Number(operand)), atomic(DW, 1, 2, 0, op | 1), movReg(0, 2)), { mem: memWith(initial) });
    expect(memValue(fetch)).toBe(want);
    expect(fetch.r0).toBe(initial);
  });

  it('32-bit atomics touch 4 bytes and zero-extend the fetched value', async () => {
    const r = await runProgram(ret(...lddw(2, 0xffff_ffff_0000_0001n), atomic(W, 1, 2, 0, 0x01), movReg(0, 2)), {
      mem: memWith(0x1111_1111_ffff_ffffn),
    });
    expect(r.r0).toBe(0xffff_ffffn);
    expect(memValue(r)).toBe(0x1111_1111_0000_0000n);
  });

  it('xchg swaps', async () => {
    const r = await runProgram(ret(mov64(2, 5), atomic(DW, 1, 2, 0, 0xe1), movReg(0, 2)), { mem: memWith(9n) });
    expect(r.r0).toBe(9n);
    expect(memValue(r)).toBe(5n);
  });

  it('cmpxchg stores only when memory equals r0 and always loads the old value into r0', async () => {
    const hit = await runProgram(ret(mov64(0, 9), mov64(2, 5), atomic(DW, 1, 2, 0, 0xf1)), { mem: memWith(9n) });
    expect(hit.r0).toBe(9n);
    expect(memValue(hit)).toBe(5n);
    const miss = await runProgram(ret(mov64(0, 8), mov64(2, 5), atomic(DW, 1, 2, 0, 0xf1)), { mem: memWith(9n) });
    expect(miss.r0).toBe(9n);
    expect(memValue(miss)).toBe(9n);
    const w = await runProgram(ret(...lddw(0, 0xdead_0000_0009n), mov64(2, 5), atomic(W, 1, 2, 0, 0xf1)), { mem: memWith(0x7_0000_0009n) });
    expect(w.r0).toBe(9n);
    expect(memValue(w)).toBe(0x7_0000_0005n);
  });

  it('load-acquire and store-release (kernel 6.15) act as a load into dst and a store of src', async () => {
    const acq = await runProgram(ret(atomic(B, 1, 1, 1, 0x100), movReg(0, 1)), { mem: memWith(0x1234_5678_9abc_def0n) });
    expect(acq.r0).toBe(0xden);
    const rel = await runProgram(ret(mov64(2, 0x55), atomic(H, 1, 2, 2, 0x110), mov64(0, 0)), { mem: memWith(0n) });
    expect(memValue(rel)).toBe(0x55_0000n);
  });

  it('an atomic on a read-only region faults', async () => {
    const machine = await Machine.create();
    const off = machine.alloc(8);
    machine.addRegion(off, 8, { kind: 'global', name: '.rodata', read: true, write: false });
    const prog = machine.loadProgram(ret(mov64(2, 1), atomic(DW, 1, 2, 0, 0)), { name: 'p', helpers: new Set() });
    expect(machine.run(prog, [machine.toVirtual(off)]).fault?.code).toBe('write_denied');
  });
});

describe('legacy packet loads (LD_ABS / LD_IND)', () => {
  async function packetRun(insns: ReturnType<typeof ret>, packet: Uint8Array) {
    const machine = await Machine.create();
    const off = machine.alloc(packet.length);
    machine.bytes().set(packet, off);
    const region = machine.addRegion(off, packet.length, { kind: 'packet', name: 'packet', read: true, write: false });
    const prog = machine.loadProgram(insns, { name: 'sock', helpers: new Set() });
    return machine.run(prog, [0n], { ldAbsRegion: region });
  }
  const pkt = bytes(0x11, 0x22, 0x33, 0x44, 0x55, 0x66);

  it('reads bytes, halfwords and words in network byte order', async () => {
    expect((await packetRun([I(0x30, 0, 0, 0, 1), exit()], pkt)).r0).toBe(0x22n);
    expect((await packetRun([I(0x28, 0, 0, 0, 1), exit()], pkt)).r0).toBe(0x2233n);
    expect((await packetRun([I(0x20, 0, 0, 0, 2), exit()], pkt)).r0).toBe(0x33445566n);
  });

  it('LD_IND adds the source register', async () => {
    expect((await packetRun([mov64(7, 3), I(0x50, 0, 7, 0, 1), exit()], pkt)).r0).toBe(0x55n);
  });

  it('an out-of-bounds load ends the program with r0 = 0', async () => {
    const r = await packetRun([mov64(0, 7), I(0x20, 0, 0, 0, 4), mov64(0, 99), exit()], pkt);
    expect(r.fault).toBeUndefined();
    expect(r.r0).toBe(0n);
    expect(r.insnCount).toBe(2);
  });
});
