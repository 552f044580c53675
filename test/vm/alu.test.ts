import { describe, expect, it } from 'vitest';
import {
  ADD, AND, ARSH, DIV, END, LSH, MOD, MOV, MUL, NEG, OR, RSH, SUB, XOR,
  alu32Imm, alu32Reg, alu64Imm, alu64Reg, lddw, mov64, r0Of, ret, u64,
} from './build.js';

const INT64_MIN = -(1n << 63n);
const r0WithR1 = (a: bigint, b: bigint, ...body: ReturnType<typeof mov64>[]) =>
  r0Of(ret(...lddw(0, a), ...lddw(1, b), ...body));

describe('ALU64', () => {
  it.each([
    ['add', ADD, 5n, 7n, 12n],
    ['sub wraps', SUB, 1n, 2n, u64(-1n)],
    ['mul wraps', MUL, 1n << 62n, 8n, 0n],
    ['div is unsigned', DIV, u64(-2n), 2n, (1n << 63n) - 1n],
    ['or', OR, 0xf0n, 0x0fn, 0xffn],
    ['and', AND, 0xf0n, 0x3cn, 0x30n],
    ['xor', XOR, 0xffn, 0x0fn, 0xf0n],
    ['mod', MOD, 17n, 5n, 2n],
    ['lsh', LSH, 1n, 63n, 1n << 63n],
    ['rsh is logical', RSH, u64(-1n), 60n, 0xfn],
    ['arsh is arithmetic', ARSH, u64(-16n), 2n, u64(-4n)],
  ])('%s (register form)', async (_, op, a, b, want) => {
    expect(await r0WithR1(a, b, alu64Reg(op, 0, 1))).toBe(want);
  });

  it('immediates are sign-extended to 64 bits', async () => {
    expect(await r0Of(ret(mov64(0, 0), alu64Imm(ADD, 0, -1)))).toBe(u64(-1n));
    // div by imm: (u64)(s64)imm, so dividing by -1 as unsigned gives 0 for small dst.
    expect(await r0Of(ret(mov64(0, 100), alu64Imm(DIV, 0, -1)))).toBe(0n);
  });

  it('division by zero gives 0 and modulo by zero leaves dst', async () => {
    expect(await r0WithR1(1234n, 0n, alu64Reg(DIV, 0, 1))).toBe(0n);
    expect(await r0WithR1(u64(-5n), 0n, alu64Reg(MOD, 0, 1))).toBe(u64(-5n));
    expect(await r0Of(ret(mov64(0, 9), alu64Imm(DIV, 0, 0)))).toBe(0n);
    expect(await r0Of(ret(mov64(0, 9), alu64Imm(MOD, 0, 0)))).toBe(9n);
  });

  it('sdiv and smod (off = 1) are signed, with the kernel results for 0 and -1', async () => {
    expect(await r0WithR1(u64(-7n), 2n, alu64Reg(DIV, 0, 1, 1))).toBe(u64(-3n));
    expect(await r0WithR1(u64(-7n), 2n, alu64Reg(MOD, 0, 1, 1))).toBe(u64(-1n));
    expect(await r0WithR1(u64(INT64_MIN), u64(-1n), alu64Reg(DIV, 0, 1, 1))).toBe(u64(INT64_MIN));
    expect(await r0WithR1(u64(INT64_MIN), u64(-1n), alu64Reg(MOD, 0, 1, 1))).toBe(0n);
    expect(await r0WithR1(u64(-7n), 0n, alu64Reg(DIV, 0, 1, 1))).toBe(0n);
    expect(await r0WithR1(u64(-7n), 0n, alu64Reg(MOD, 0, 1, 1))).toBe(u64(-7n));
    expect(await r0Of(ret(mov64(0, 7), alu64Imm(DIV, 0, -1, 1)))).toBe(u64(-7n));
  });

  it('shift counts are masked to 6 bits', async () => {
    expect(await r0WithR1(1n, 65n, alu64Reg(LSH, 0, 1))).toBe(2n);
    expect(await r0WithR1(4n, 66n, alu64Reg(RSH, 0, 1))).toBe(1n);
  });

  it('neg, mov and movsx', async () => {
    expect(await r0Of(ret(mov64(0, 5), alu64Imm(NEG, 0, 0)))).toBe(u64(-5n));
    expect(await r0WithR1(0n, 0x1_8000_0080n, alu64Reg(MOV, 0, 1, 8))).toBe(u64(-128n));
    expect(await r0WithR1(0n, 0x1_8000_8000n, alu64Reg(MOV, 0, 1, 16))).toBe(u64(-32768n));
    expect(await r0WithR1(0n, 0x1_8000_0000n, alu64Reg(MOV, 0, 1, 32))).toBe(u64(-(1n << 31n)));
    expect(await r0WithR1(0n, 0x7fn, alu64Reg(MOV, 0, 1, 8))).toBe(0x7fn);
  });
});

describe('ALU32', () => {
  it('results are zero-extended into the upper half', async () => {
    expect(await r0WithR1(0xffff_ffff_0000_0001n, 1n, alu32Reg(ADD, 0, 1))).toBe(2n);
    expect(await r0Of(ret(...lddw(0, u64(-1n)), alu32Imm(MOV, 0, -1)))).toBe(0xffff_ffffn);
    expect(await r0WithR1(0n, 0xaaaa_bbbb_cccc_ddddn, alu32Reg(MOV, 0, 1))).toBe(0xcccc_ddddn);
    expect(await r0Of(ret(mov64(0, 1), alu32Imm(NEG, 0, 0)))).toBe(0xffff_ffffn);
  });

  it('division by zero gives 0 and modulo by zero keeps the zero-extended low half', async () => {
    expect(await r0WithR1(0xffff_ffff_0000_0009n, 0n, alu32Reg(DIV, 0, 1))).toBe(0n);
    expect(await r0WithR1(0xffff_ffff_0000_0009n, 0n, alu32Reg(MOD, 0, 1))).toBe(9n);
    expect(await r0WithR1(0xffff_ffff_0000_0009n, 0xffff_ffff_0000_0000n, alu32Reg(MOD, 0, 1))).toBe(9n);
  });

  it('sdiv32 and smod32 follow the kernel for INT_MIN / -1, x % -1 and 0', async () => {
    expect(await r0WithR1(0x8000_0000n, 0xffff_ffffn, alu32Reg(DIV, 0, 1, 1))).toBe(0x8000_0000n);
    expect(await r0WithR1(0x8000_0000n, 0xffff_ffffn, alu32Reg(MOD, 0, 1, 1))).toBe(0n);
    expect(await r0WithR1(0xffff_fff9n, 2n, alu32Reg(DIV, 0, 1, 1))).toBe(0xffff_fffdn);
    expect(await r0WithR1(0xffff_0000_ffff_fff9n, 0n, alu32Reg(MOD, 0, 1, 1))).toBe(0xffff_fff9n);
    expect(await r0WithR1(0xffff_0000_ffff_fff9n, 0n, alu32Reg(DIV, 0, 1, 1))).toBe(0n);
  });

  it('shift counts are masked to 5 bits and arsh sign-fills from bit 31', async () => {
    expect(await r0WithR1(1n, 33n, alu32Reg(LSH, 0, 1))).toBe(2n);
    expect(await r0WithR1(0x8000_0000n, 4n, alu32Reg(ARSH, 0, 1))).toBe(0xf800_0000n);
    expect(await r0WithR1(0x1_0000_0000n, 1n, alu32Reg(RSH, 0, 1))).toBe(0n);
  });

  it('movsx32 sign-extends 8 and 16 bits into 32 and zero-extends', async () => {
    expect(await r0WithR1(0n, 0x80n, alu32Reg(MOV, 0, 1, 8))).toBe(0xffff_ff80n);
    expect(await r0WithR1(0n, 0x8000n, alu32Reg(MOV, 0, 1, 16))).toBe(0xffff_8000n);
  });
});

describe('byte order', () => {
  const V = 0x0102_0304_0506_0708n;
  it.each([
    ['le16 truncates', 0x04 | END, 16, 0x0708n],
    ['le32 truncates', 0x04 | END, 32, 0x0506_0708n],
    ['le64 is a no-op', 0x04 | END, 64, V],
    ['be16 swaps and truncates', 0x0c | END, 16, 0x0807n],
    ['be32 swaps and truncates', 0x0c | END, 32, 0x0807_0605n],
    ['be64 swaps', 0x0c | END, 64, 0x0807_0605_0403_0201n],
    ['bswap16', 0x07 | END, 16, 0x0807n],
    ['bswap32', 0x07 | END, 32, 0x0807_0605n],
    ['bswap64', 0x07 | END, 64, 0x0807_0605_0403_0201n],
  ])('%s', async (_, opcode, imm, want) => {
    expect(await r0Of(ret(...lddw(0, V), { opcode, dst: 0, src: 0, off: 0, imm }))).toBe(want);
  });
});
