// formatInsn / disassemble options and edge cases beyond what the llvm-objdump golden files show.
import { describe, expect, it } from 'vitest';
import { disassemble, formatInsn, hex } from '../../src/asm/disasm.js';
import type { Insn } from '../../src/asm/insn.js';
import { helperName } from '../../src/helpers/names.js';

const I = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ opcode, dst, src, off, imm });

describe('formatInsn', () => {
  it('prints the second slot of an lddw as an empty string', () => {
    const insns = [I(0x18, 1, 0, 0, 5), I(0, 0, 0, 0, 1), I(0x95)];
    expect(formatInsn(insns, 0)).toBe('r1 = 0x100000005 ll');
    expect(formatInsn(insns, 1)).toBe('');
    expect(formatInsn(insns, 2)).toBe('exit');
  });

  it('pairs consecutive lddw correctly', () => {
    const insns = [I(0x18, 1), I(0), I(0x18, 2, 0, 0, 7), I(0)];
    expect(insns.map((_, i) => formatInsn(insns, i))).toEqual(['r1 = 0x0 ll', '', 'r2 = 0x7 ll', '']);
  });

  it('appends a label to jumps whose target has one', () => {
    const insns = [I(0x15, 1, 0, 1, 0), I(0x05, 0, 0, -2), I(0x06, 0, 0, 0, -3), I(0x95)];
    const labels = new Map([
      [2, 'LBB0_3'],
      [0, 'entry'],
    ]);
    expect(formatInsn(insns, 0, { labels })).toBe('if r1 == 0x0 goto +0x1 <LBB0_3>');
    expect(formatInsn(insns, 1, { labels })).toBe('goto -0x2 <entry>');
    expect(formatInsn(insns, 2, { labels })).toBe('gotol -0x3 <entry>');
    expect(formatInsn(insns, 0)).toBe('if r1 == 0x0 goto +0x1');
  });

  it('names helpers when helperName is given, and keeps call 0x.. for unknown ones', () => {
    const insns = [I(0x85, 0, 0, 0, 1), I(0x85, 0, 0, 0, 9999), I(0x85, 0, 1, 0, -1)];
    expect(formatInsn(insns, 0, { helperName })).toBe('call bpf_map_lookup_elem');
    expect(formatInsn(insns, 1, { helperName })).toBe('call 0x270f');
    expect(formatInsn(insns, 2, { helperName })).toBe('call -0x1'); // a pseudo call is not a helper
  });

  it('names maps of pseudo lddw sources when mapName is given', () => {
    const mapName = (i: number) => ['ct_map', 'globals'][i];
    const insns = [I(0x18, 1, 5, 0, 0), I(0), I(0x18, 2, 6, 0, 1), I(0, 0, 0, 0, 16), I(0x18, 3, 1, 0, 7), I(0)];
    expect(formatInsn(insns, 0, { mapName })).toBe('r1 = map[ct_map] ll');
    expect(formatInsn(insns, 2, { mapName })).toBe('r2 = map_value[globals] + 0x10 ll');
    expect(formatInsn(insns, 4, { mapName })).toBe('ld_pseudo\tr3, 0x1, 0x7'); // no name for 7
    expect(formatInsn(insns, 0)).toBe('ld_pseudo\tr1, 0x5, 0x0');
  });

  it('prints encodings LLVM cannot decode as <unknown>', () => {
    const insns = [I(0xff), I(0xd4, 1, 0, 0, 8), I(0x87, 0, 0, 0, 0), I(0xb7, 1, 0, 3, 1), I(0xdb, 1, 2, 0, 0x02), I(0x8f)];
    expect(formatInsn(insns, 0)).toBe('<unknown>');
    expect(formatInsn(insns, 1)).toBe('<unknown>'); // le8
    expect(formatInsn(insns, 2)).toBe('r0 = -r0');
    expect(formatInsn(insns, 3)).toBe('<unknown>'); // mov imm with off
    expect(formatInsn(insns, 4)).toBe('<unknown>'); // atomic imm 0x02
    expect(formatInsn(insns, 5)).toBe('<unknown>'); // neg with X
  });

  it('prints the arena cast that LLVM 19 decodes from mov with off=1', () => {
    expect(formatInsn([I(0xbf, 1, 2, 1, 0x00010002)], 0)).toBe('r1 = addr_space_cast(r2, 0x1, 0x2)');
  });

  it('throws a RangeError naming the index when it is out of range', () => {
    expect(() => formatInsn([I(0x95)], 3)).toThrow(/no instruction at index 3 \(program has 1\)/);
  });

  it('hex prints signed values as objdump does', () => {
    expect([hex(0), hex(-1), hex(0x4c), hex(-0x8000000000000000n)]).toEqual(['0x0', '-0x1', '0x4c', '-0x8000000000000000']);
  });
});

describe('disassemble', () => {
  const prog = [I(0x61, 1, 1, 0xc, 0), I(0x18, 2, 0, 0, 0x30), I(0), I(0xb7, 0, 0, 0, 2), I(0x95)];

  it('lays out one line per instruction with objdump indices, skipping the lddw second slot', () => {
    expect(disassemble(prog)).toEqual([
      '       0:\tr1 = *(u32 *)(r1 + 0xc)',
      '       1:\tr2 = 0x30 ll',
      '       3:\tr0 = 0x2',
      '       4:\texit',
    ]);
  });

  it('shows raw bytes as objdump does, 16 for an lddw', () => {
    expect(disassemble(prog, { rawBytes: true }).slice(0, 2)).toEqual([
      '       0:\t61 11 0c 00 00 00 00 00\tr1 = *(u32 *)(r1 + 0xc)',
      '       1:\t18 02 00 00 30 00 00 00 00 00 00 00 00 00 00 00\tr2 = 0x30 ll',
    ]);
  });

  it('interleaves a C source line each time the line changes, as objdump -S does', () => {
    const lines = [
      { file: 'a.c', line: 3, text: '  int k = ctx->ifindex;' },
      { file: 'a.c', line: 4, text: '  return 2;' },
    ];
    const sourceLine = (i: number) => (i < 3 ? lines[0] : i === 3 ? lines[1] : undefined);
    expect(disassemble(prog, { sourceLine })).toEqual([
      ';   int k = ctx->ifindex;',
      '       0:\tr1 = *(u32 *)(r1 + 0xc)',
      '       1:\tr2 = 0x30 ll',
      ';   return 2;',
      '       3:\tr0 = 0x2',
      '       4:\texit',
    ]);
  });

  it('prints function headers and <func+0xNN> jump labels from symbols', () => {
    const code = [I(0x15, 1, 0, 1, 0), I(0xb7, 0, 0, 0, 1), I(0x95), I(0xb7, 0, 0, 0, 2), I(0x95)];
    const symbols = new Map([
      [0, 'main'],
      [3, 'helper'],
    ]);
    expect(disassemble(code, { symbols })).toEqual([
      '0000000000000000 <main>:',
      '       0:\tif r1 == 0x0 goto +0x1 <main+0x10>',
      '       1:\tr0 = 0x1',
      '       2:\texit',
      '',
      '0000000000000018 <helper>:',
      '       3:\tr0 = 0x2',
      '       4:\texit',
    ]);
  });
});
