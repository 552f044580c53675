import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { Testbed } from '../../src/testbed/testbed.js';

const object = readFileSync(join(import.meta.dirname, '../../fixtures/obj/helpers/core.o'));

/** struct args in bpf/helpers/core.c */
function args(fields: { a?: bigint; b?: bigint; ip4?: number[]; ip6?: number[]; name?: string } = {}): Uint8Array {
  const buf = new Uint8Array(56);
  const view = new DataView(buf.buffer);
  view.setBigUint64(0, fields.a ?? 0n, true);
  view.setBigUint64(8, fields.b ?? 0n, true);
  buf.set(fields.ip4 ?? [0, 0, 0, 0], 16);
  buf.set(fields.ip6 ?? new Array(16).fill(0), 20);
  buf.set(new TextEncoder().encode(fields.name ?? ''), 36);
  return buf;
}

const u32 = (r0: bigint) => Number(BigInt.asUintN(32, r0));
const s32 = (r0: bigint) => Number(BigInt.asIntN(32, r0));

// Every expectation here was checked against Linux 6.18 with BPF_PROG_TEST_RUN on the same
// object (syscall programs with ctx_in; the tc programs with a 64-byte packet) and its trace_pipe.
let bed: Testbed;
beforeEach(async () => {
  bed = await Testbed.fromObject(new Uint8Array(object), { name: 'core.o', environment: { seed: 42 } });
});

describe('bpf_trace_printk', () => {
  it('formats integers, addresses, strings and widths as the kernel does', () => {
    const res = bed.runWithMemory(
      'printk_formats',
      args({ a: 0xffff_fffen, b: 0x8000_0000_0000_0001n, ip4: [10, 96, 0, 10], ip6: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], name: 'kube' }),
    );
    expect(res.fault).toBeUndefined();
    expect(res.printk).toEqual([
      'd=-2 u=4294967294 x=fffffffe',
      'lld=-9223372036854775807 llx=8000000000000001',
      'ip4=10.96.0.10 ip6=fd00:0000:0000:0000:0000:0000:0000:0001',
      's=kube pad=[   42] [42   ] [00042]',
    ]);
  });
});

describe('bpf_loop', () => {
  it('calls the callback with the index until it returns 1 and returns the iterations run', () => {
    const res = bed.runWithMemory('loop_until_nine', args());
    expect(res.fault).toBeUndefined();
    expect(u32(res.r0)).toBe(10);
    const bss = bed.map('core.bss').read(Uint8Array.of(0, 0, 0, 0))!;
    expect(new DataView(bss.buffer, bss.byteOffset).getBigUint64(0, true)).toBe(45n); // 0 + 1 + ... + 9
  });

  it('returns -EINVAL for non-zero flags without calling back', () => {
    expect(s32(bed.runWithMemory('loop_bad_flags', args()).r0)).toBe(-22);
  });
});

describe('bpf_tail_call', () => {
  it('jumps into the program in the PROG_ARRAY slot and never returns', () => {
    const res = bed.runWithMemory('tail_call_hit', args());
    expect(u32(res.r0)).toBe(7);
    expect(res.tailCalls).toEqual([{ fromProg: bed.program('tail_call_hit').progId, toProg: bed.program('tail_target').progId, index: 0 }]);
  });

  it('falls through on an empty slot and on an index past max_entries', () => {
    const res = bed.runWithMemory('tail_call_miss', args());
    expect(u32(res.r0)).toBe(3);
    expect(res.tailCalls).toEqual([]);
  });

  it('stops after MAX_TAIL_CALL_CNT (33) tail calls and falls through', () => {
    const res = bed.runWithMemory('tail_call_limit', args());
    expect(res.tailCalls).toHaveLength(33);
    expect(u32(res.r0)).toBe(99); // the 34th attempt falls through in tail_loop
    const bss = bed.map('core.bss').read(Uint8Array.of(0, 0, 0, 0))!;
    expect(new DataView(bss.buffer, bss.byteOffset).getUint32(8, true)).toBe(33);
  });
});

describe('bpf_spin_lock', () => {
  it('guards a map value and releases the lock word', () => {
    expect(u32(bed.runWithMemory('spin_count', args()).r0)).toBe(1);
    expect(u32(bed.runWithMemory('spin_count', args()).r0)).toBe(2);
    const value = bed.map('locks').read(Uint8Array.of(0, 0, 0, 0))!;
    expect([...value.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
  });
});

describe('time and randomness', () => {
  it('reads the virtual clock and a seeded generator, so runs repeat exactly', async () => {
    const first = bed.runWithMemory('clocks', args());
    const again = await Testbed.fromObject(new Uint8Array(object), { name: 'core.o', environment: { seed: 42 } });
    const second = again.runWithMemory('clocks', args());
    expect(first.memory).toEqual(second.memory);
    const view = new DataView(first.memory!.buffer);
    expect(view.getBigUint64(0, true)).toBe(1_000_000_000n); // monotonic starts at 1 s
    expect(view.getBigUint64(8, true)).toBe(1_000_000_000n); // nothing suspended: boot == monotonic
    const other = await Testbed.fromObject(new Uint8Array(object), { name: 'core.o', environment: { seed: 43 } });
    expect(new DataView(other.runWithMemory('clocks', args()).memory!.buffer).getUint32(16, true)).not.toBe(view.getUint32(16, true));
    expect(u32(first.r0)).toBe(0);
  });
});
