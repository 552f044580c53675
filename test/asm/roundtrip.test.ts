// Disassembler output assembles back to the same instructions: formatInsn (llvm-objdump syntax)
// and the assembler's llvm-syntax reader agree on every instruction of the ISA corpus and of the
// compiled objects under fixtures/obj/isa.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AssembleError, assemble } from '../../src/asm/assembler.js';
import { parseConformanceTest } from '../../src/asm/conformance.js';
import { formatInsn } from '../../src/asm/disasm.js';
import { decodeInsns, type Insn } from '../../src/asm/insn.js';

const ROOT = join(import.meta.dirname, '../..');

/** The program as llvm-objdump text, one instruction per line. */
const asText = (insns: readonly Insn[], alu32: boolean): string =>
  insns
    .map((_, i) => formatInsn(insns, i, { alu32 }))
    .filter((line) => line !== '')
    .join('\n');

/**
 * llvm-objdump prints a BPF-to-BPF call with a non-negative offset exactly like a helper call
 * (`call 0x3`), so that one form cannot survive the trip: it comes back as a helper call.
 */
const expectedAfterTrip = (insns: readonly Insn[]): Insn[] =>
  insns.map((i) => (i.opcode === 0x85 && i.src === 1 && i.imm >= 0 ? { ...i, src: 0 } : { ...i }));

function corpusPrograms(): [string, Insn[]][] {
  const dir = join(ROOT, 'fixtures/isa');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.data'))
    .sort()
    .map((f) => [f, assemble(parseConformanceTest(readFileSync(join(dir, f), 'utf8')).asm)]);
}

/** Every executable section of the compiled objects, read with the same minimal ELF walk as golden.test.ts. */
function objectSections(): [string, Insn[]][] {
  const dir = join(ROOT, 'fixtures/obj/isa');
  const out: [string, Insn[]][] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.o'))) {
    const file = new Uint8Array(readFileSync(join(dir, f)));
    const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
    const shoff = Number(view.getBigUint64(0x28, true));
    const shnum = view.getUint16(0x3c, true);
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * 64;
      const flags = Number(view.getBigUint64(at + 8, true));
      const offset = Number(view.getBigUint64(at + 24, true));
      const size = Number(view.getBigUint64(at + 32, true));
      if (flags & 4 && size > 0) out.push([`${f} section #${i}`, decodeInsns(file.subarray(offset, offset + size))]);
    }
  }
  return out;
}

describe('disassemble → assemble round trip', () => {
  const programs = [...corpusPrograms(), ...objectSections()];

  it('has programs to check', () => {
    expect(programs.length).toBeGreaterThan(150);
  });

  for (const alu32 of [false, true]) {
    it(`gives back every instruction (${alu32 ? '--mattr=+alu32' : 'plain'} syntax)`, () => {
      for (const [name, insns] of programs) {
        // Encodings LLVM cannot print (the corpus's must-reject programs) have no text to go back from.
        if (insns.some((_, k) => formatInsn(insns, k) === '<unknown>')) continue;
        expect(assemble(asText(insns, alu32)), name).toEqual(expectedAfterTrip(insns));
      }
    });
  }

  it('accepts objdump jump labels and label names as targets', () => {
    const insns = assemble(['if r1 > r2 goto +0x1 <LBB0_3>', 'r0 = 0x1', 'LBB0_3:', 'if w1 s< -0x1 goto LBB0_3', 'exit'].join('\n'));
    expect(insns[0]).toMatchObject({ opcode: 0x2d, dst: 1, src: 2, off: 1 });
    expect(insns[2]).toMatchObject({ opcode: 0xc6, dst: 1, imm: -1, off: -1 });
  });

  it('lets one program mix the llvm and the uBPF syntax', () => {
    const insns = assemble('r0 = 0x2\nadd %r0, 3\nw0 *= w0\nexit');
    expect(insns.map((i) => i.opcode)).toEqual([0xb7, 0x07, 0x2c, 0x95]);
  });

  it.each([
    ['r1 = (s32)r2 ; fine', undefined],
    ['w1 = (s32)w2', /line 1: \(s32\) into a 32-bit register is not an instruction/],
    ['r1 += w2', /line 1: \+= takes registers of the same width/],
    ['r1 = bswap16 r2', /line 1: bswap16 takes the same register on both sides/],
    ['r1 = *(s64 *)(r2 + 0x0)', /line 1: there is no sign-extending 64-bit load/],
    ['r1 = 0x100000000', /line 1: 4294967296 does not fit in a 32-bit immediate/],
    ['r2 = cmpxchg_64(r1 + 0x0, r2, r3)', /line 1: cmpxchg compares with and returns into r0/],
  ])('%s', (source, error) => {
    if (error === undefined) expect(() => assemble(source)).not.toThrow();
    else expect(() => assemble(source)).toThrow(AssembleError), expect(() => assemble(source)).toThrow(error);
  });
});
