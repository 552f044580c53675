// The assembler, checked through the disassembler (itself checked line by line against
// llvm-objdump-19 in golden.test.ts): each uBPF / bpf_conformance line must encode to the
// instruction LLVM prints as the given text.
import { describe, expect, it } from 'vitest';
import { AssembleError, assemble } from '../../src/asm/assembler.js';
import { formatInsn } from '../../src/asm/disasm.js';

const one = (line: string, alu32 = true): string => formatInsn(assemble(line), 0, { alu32 });

const FORMS: [string, string][] = [
  ['mov32 %r0, 1', 'w0 = 0x1'],
  ['mov %r0, -1', 'r0 = -0x1'],
  ['mov64 %r1, %r2', 'r1 = r2'],
  ['mov32 %r1, %r2', 'w1 = w2'],
  ['add %r1, 5', 'r1 += 0x5'],
  ['sub32 %r1, %r2', 'w1 -= w2'],
  ['mul %r1, 0x10', 'r1 *= 0x10'],
  ['div32 %r1, 3', 'w1 /= 0x3'],
  ['sdiv %r1, -3', 'r1 s/= -0x3'],
  ['sdiv32 %r1, %r2', 'w1 s/= w2'],
  ['mod %r1, %r2', 'r1 %= r2'],
  ['smod %r1, 7', 'r1 s%= 0x7'],
  ['smod32 %r1, %r2', 'w1 s%= w2'],
  ['or %r1, 0xff', 'r1 |= 0xff'],
  ['and32 %r1, 0xffffffff', 'w1 &= -0x1'],
  ['lsh %r1, 63', 'r1 <<= 0x3f'],
  ['rsh32 %r1, %r2', 'w1 >>= w2'],
  ['arsh %r1, 1', 'r1 s>>= 0x1'],
  ['xor32 %r1, %r2', 'w1 ^= w2'],
  ['neg %r1', 'r1 = -r1'],
  ['neg32 %r1', 'w1 = -w1'],
  ['movsx864 %r1, %r2', 'r1 = (s8)r2'],
  ['movsx1664 %r1, %r2', 'r1 = (s16)r2'],
  ['movsx3264 %r1, %r2', 'r1 = (s32)r2'],
  ['movsx832 %r1, %r2', 'w1 = (s8)w2'],
  ['movsx1632 %r1, %r2', 'w1 = (s16)w2'],
  ['le16 %r3', 'r3 = le16 r3'],
  ['le64 %r3', 'r3 = le64 r3'],
  ['be32 %r3', 'r3 = be32 r3'],
  ['swap16 %r3', 'r3 = bswap16 r3'],
  ['bswap64 %r3', 'r3 = bswap64 r3'],
  ['ldxb %r0, [%r1]', 'w0 = *(u8 *)(r1 + 0x0)'],
  ['ldxh %r0, [%r1+2]', 'w0 = *(u16 *)(r1 + 0x2)'],
  ['ldxw %r0, [%r1 + 0x4c]', 'w0 = *(u32 *)(r1 + 0x4c)'],
  ['ldxdw %r0, [%r10-8]', 'r0 = *(u64 *)(r10 - 0x8)'],
  ['ldxsb %r0, [%r1+1]', 'r0 = *(s8 *)(r1 + 0x1)'],
  ['ldxsh %r0, [%r1-2]', 'r0 = *(s16 *)(r1 - 0x2)'],
  ['ldxsw %r0, [%r1]', 'r0 = *(s32 *)(r1 + 0x0)'],
  ['stb [%r10-1], 0x7f', '*(u8 *)(r10 - 0x1) = 0x7f'],
  ['sth [%r10-2], -2', '*(u16 *)(r10 - 0x2) = -0x2'],
  ['stw [%r10-4], 3', '*(u32 *)(r10 - 0x4) = 0x3'],
  ['stdw [%r10-8], 0x44332211', '*(u64 *)(r10 - 0x8) = 0x44332211'],
  ['stxb [%r10-1], %r1', '*(u8 *)(r10 - 0x1) = w1'],
  ['stxdw [%r10-8], %r1', '*(u64 *)(r10 - 0x8) = r1'],
  ['lock add [%r1+8], %r2', 'lock *(u64 *)(r1 + 0x8) += r2'],
  ['lock add32 [%r1], %r2', 'lock *(u32 *)(r1 + 0x0) += w2'],
  ['lock or [%r1], %r2', 'lock *(u64 *)(r1 + 0x0) |= r2'],
  ['lock and32 [%r1], %r2', 'lock *(u32 *)(r1 + 0x0) &= w2'],
  ['lock xor [%r1], %r2', 'lock *(u64 *)(r1 + 0x0) ^= r2'],
  ['lock fetch add [%r1], %r2', 'r2 = atomic_fetch_add((u64 *)(r1 + 0x0), r2)'],
  ['lock fetch or32 [%r1], %r2', 'w2 = atomic_fetch_or((u32 *)(r1 + 0x0), w2)'],
  ['lock fetch and [%r1], %r2', 'r2 = atomic_fetch_and((u64 *)(r1 + 0x0), r2)'],
  ['lock fetch xor32 [%r1], %r2', 'w2 = atomic_fetch_xor((u32 *)(r1 + 0x0), w2)'],
  ['lock xchg [%r1], %r2', 'r2 = xchg_64(r1 + 0x0, r2)'],
  ['lock xchg32 [%r1], %r2', 'w2 = xchg32_32(r1 + 0x0, w2)'],
  ['lock cmpxchg [%r1], %r2', 'r0 = cmpxchg_64(r1 + 0x0, r0, r2)'],
  ['lock cmpxchg32 [%r1], %r2', 'w0 = cmpxchg32_32(r1 + 0x0, w0, w2)'],
  ['lddw %r1, 0x123456789', 'r1 = 0x123456789 ll'],
  ['lddw %r1, -1', 'r1 = -0x1 ll'],
  ['lddw %r1, 0x8000000000000000', 'r1 = -0x8000000000000000 ll'],
  ['lddw %r1, map_by_fd(3)', 'ld_pseudo\tr1, 0x1, 0x3'],
  ['lddw %r1, map_by_idx(2)', 'ld_pseudo\tr1, 0x5, 0x2'],
  ['call 1', 'call 0x1'],
  ['call bpf_map_lookup_elem', 'call 0x1'],
  ['call helper 12', 'call 0xc'],
  ['call %r3', 'callx r3'],
  ['callx %r3', 'callx r3'],
  ['exit', 'exit'],
  ['ja +3', 'goto +0x3'],
  ['ja -1', 'goto -0x1'],
  ['ja32 +100000', 'gotol +0x186a0'],
  ['gotol -2', 'gotol -0x2'],
  ['jeq %r1, 0x5, +2', 'if r1 == 0x5 goto +0x2'],
  ['jne %r1, %r2, -1', 'if r1 != r2 goto -0x1'],
  ['jgt %r1, %r2, +1', 'if r1 > r2 goto +0x1'],
  ['jge %r1, 1, +1', 'if r1 >= 0x1 goto +0x1'],
  ['jlt %r1, 1, +1', 'if r1 < 0x1 goto +0x1'],
  ['jle %r1, 1, +1', 'if r1 <= 0x1 goto +0x1'],
  ['jsgt %r1, -1, +1', 'if r1 s> -0x1 goto +0x1'],
  ['jsge %r1, %r2, +1', 'if r1 s>= r2 goto +0x1'],
  ['jslt %r1, 0, +1', 'if r1 s< 0x0 goto +0x1'],
  ['jsle %r1, %r2, +1', 'if r1 s<= r2 goto +0x1'],
  ['jset %r1, 0x80, +1', 'if r1 & 0x80 goto +0x1'],
  ['jeq32 %r1, %r2, +1', 'if w1 == w2 goto +0x1'],
  ['jsgt32 %r1, 0x80000000, +1', 'if w1 s> -0x80000000 goto +0x1'],
  ['jset32 %r1, 1, +1', 'if w1 & 0x1 goto +0x1'],
  ['ldabsb 12', 'r0 = *(u8 *)skb[0xc]'],
  ['ldabsh 0x10', 'r0 = *(u16 *)skb[0x10]'],
  ['ldabsw 0', 'r0 = *(u32 *)skb[0x0]'],
  ['ldindb %r1, 2', 'r0 = *(u8 *)skb[r1 + 0x2]'],
  ['ldindh %r1, 0', 'r0 = *(u16 *)skb[r1]'],
  ['ldindw %r2, 0', 'r0 = *(u32 *)skb[r2]'],
  ['mov r3, 7', 'r3 = 0x7'],
];

describe('assembler (uBPF / bpf_conformance syntax)', () => {
  for (const [source, llvm] of FORMS) {
    it(`'${source}' encodes as llvm '${llvm}'`, () => {
      expect(one(source)).toBe(llvm);
    });
  }

  it('lddw takes two slots holding the low and high halves', () => {
    expect(assemble('lddw %r1, 0x1122334455667788')).toEqual([
      { opcode: 0x18, dst: 1, src: 0, off: 0, imm: 0x55667788 },
      { opcode: 0, dst: 0, src: 0, off: 0, imm: 0x11223344 },
    ]);
  });

  it('map_val() with an offset sets the second slot imm', () => {
    const [first, second] = assemble('lddw %r2, map_val(map_by_idx(1)) + 16');
    expect(first).toMatchObject({ src: 6, imm: 1 });
    expect(second.imm).toBe(16);
  });

  it('ldindh keeps its imm (RFC 9669 §5.5: src + imm)', () => {
    expect(assemble('ldindh %r1, 4')[0]).toEqual({ opcode: 0x48, dst: 0, src: 1, off: 0, imm: 4 });
  });

  it('resolves labels forward and backward, counting lddw as two slots', () => {
    const insns = assemble(['top:', 'lddw %r1, 1', 'jeq %r1, 0, done', 'ja top', 'done:', 'exit'].join('\n'));
    expect(insns[2].off).toBe(1); // to index 4
    expect(insns[3].off).toBe(-4); // to index 0
  });

  it('resolves call local and gotol labels into imm', () => {
    const insns = assemble(['call local f', 'gotol end', 'f:', 'mov %r0, 1', 'exit', 'end:', 'exit'].join('\n'));
    expect(insns[0]).toMatchObject({ opcode: 0x85, src: 1, imm: 1 });
    expect(insns[1]).toMatchObject({ opcode: 0x06, imm: 2 });
  });

  it('code_addr() makes a BPF_PSEUDO_FUNC lddw whose target is index + imm + 1, as the kernel reads it', () => {
    // kernel/bpf/verifier.c check_ld_imm: find_subprog(env, env->insn_idx + insn->imm + 1).
    const insns = assemble(['lddw %r1, code_addr(f)', 'callx %r1', 'exit', 'f:', 'exit'].join('\n'));
    expect(insns[0]).toMatchObject({ src: 4, imm: 3 });
  });

  it('reads a signed call offset as a BPF-to-BPF call and an unsigned number as a helper', () => {
    expect(assemble('call -3')[0]).toMatchObject({ opcode: 0x85, src: 1, imm: -3 });
    expect(assemble('call +2')[0]).toMatchObject({ opcode: 0x85, src: 1, imm: 2 });
    expect(assemble('call 2')[0]).toMatchObject({ opcode: 0x85, src: 0, imm: 2 });
    expect(assemble('call runtime 7')[0]).toMatchObject({ opcode: 0x85, src: 2, imm: 7 });
  });

  it('lets a jump name `exit` for the first exit, as bpf_conformance does', () => {
    const insns = assemble(['jeq %r1, 0, exit', 'mov %r0, 1', 'exit'].join('\n'));
    expect(insns[0].off).toBe(1);
  });

  it('ignores # comments, blank lines and a label on the same line as an instruction', () => {
    const insns = assemble('# header\n\nstart: mov %r0, 2 # two\n  exit\n');
    expect(insns.map((i) => formatInsn(insns, insns.indexOf(i)))).toEqual(['r0 = 0x2', 'exit']);
  });

  it('encodes %r11..%r15 so validation can reject them', () => {
    expect(assemble('mov %r11, 1')[0].dst).toBe(11);
  });

  const ERRORS: [string, RegExp][] = [
    ['mov %r0, 1\nfrobnicate %r1', /line 2: unknown instruction 'frobnicate'/],
    ['mov %r16, 1', /line 1: register r16 does not exist/],
    ['mov %r0', /line 1: missing operand/],
    ['jeq %r1, 0, nowhere\nexit', /line 1: unknown label 'nowhere'/],
    ['a:\na:\nexit', /line 2: label 'a' is defined twice/],
    ['mov32 %r0, 0x100000000', /line 1: 4294967296 does not fit in a 32-bit immediate/],
    ['ldxw %r0, [%r1+70000]', /line 1: offset 70000 does not fit in 16 bits/],
    ['ldxw %r0, %r1', /line 1: expected '\['/],
    ['exit %r0', /line 1: unexpected '%r0'/],
    ['call bpf_no_such_helper', /line 1: unknown helper 'bpf_no_such_helper'/],
    ['lock nand [%r1], %r2', /line 1: unknown atomic operation 'nand'/],
    ['movsx3232 %r1, %r2', /line 1: 'movsx3232' sign-extends 32 bits into 32/],
  ];
  for (const [source, message] of ERRORS) {
    it(`rejects ${JSON.stringify(source)} with ${message}`, () => {
      expect(() => assemble(source)).toThrow(AssembleError);
      expect(() => assemble(source)).toThrow(message);
    });
  }
});
