// Reads one instruction in the syntax llvm-objdump prints for BPF (the syntax of disasm.ts and of
// clang's inline asm), e.g. `r1 = *(u32 *)(r2 + 0x4c)`, `if w1 s< -0x1 goto +0x3 <LBB0_2>`,
// `lock *(u64 *)(r1 + 0x0) += r2`, `r1 = 0x123 ll`. The assembler tries it before the uBPF
// syntax, so a program may mix both and disassembler output assembles back to the same bytes.
import type { Insn } from './insn.js';
import {
  BPF_ABS,
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDX,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOV,
  BPF_NEG,
  BPF_PSEUDO_CALL,
  BPF_ST,
  BPF_STX,
  BPF_TO_BE,
  BPF_X,
  BPF_XCHG,
} from './opcodes.js';

/** A label an instruction refers to, resolved by the assembler. */
export interface LabelRef {
  label: string;
  field: 'off' | 'imm';
}

export interface LlvmParse {
  insns: Insn[];
  labelRef?: LabelRef;
}

const ALU: Record<string, [number, number]> = {
  '+=': [0x00, 0],
  '-=': [0x10, 0],
  '*=': [0x20, 0],
  '/=': [0x30, 0],
  's/=': [0x30, 1],
  '|=': [0x40, 0],
  '&=': [0x50, 0],
  '<<=': [0x60, 0],
  '>>=': [0x70, 0],
  '%=': [0x90, 0],
  's%=': [0x90, 1],
  '^=': [0xa0, 0],
  's>>=': [0xc0, 0],
};

const CONDITIONS: Record<string, number> = {
  '==': 0x10,
  '>': 0x20,
  '>=': 0x30,
  '&': 0x40,
  '!=': 0x50,
  's>': 0x60,
  's>=': 0x70,
  '<': 0xa0,
  '<=': 0xb0,
  's<': 0xc0,
  's<=': 0xd0,
};

const ATOMIC: Record<string, number> = { '+=': 0x00, '|=': 0x40, '&=': 0x50, '^=': 0xa0, add: 0x00, or: 0x40, and: 0x50, xor: 0xa0 };

const SIZE: Record<string, number> = { u8: 0x10, u16: 0x08, u32: 0x00, u64: 0x18, s8: 0x10, s16: 0x08, s32: 0x00 };

const NUM = String.raw`([+-]?\s*(?:0x[0-9a-fA-F]+|\d+))`;
const REG = String.raw`([rw])(\d+)`;
const ADDR = String.raw`\(\s*r(\d+)\s*(?:([+-])\s*(0x[0-9a-fA-F]+|\d+))?\s*\)`;
const TARGET = String.raw`([+-]\s*(?:0x[0-9a-fA-F]+|\d+)|[A-Za-z_.$][\w.$]*)`;

const re = (source: string): RegExp => new RegExp(`^${source.replace(/ /g, String.raw`\s*`)}$`);

// Each pattern is tried on the whole line with any trailing objdump `<label>` removed.
const PATTERNS = {
  lddw: re(`r(\\d+) = ${NUM} ll`),
  ldPseudo: re(`ld_pseudo\\s+r(\\d+) , ${NUM} , ${NUM}`),
  aluOp: re(`${REG} (s?[-+*/|&%^]=|<<=|s?>>=) (?:${REG}|${NUM})`),
  mov: re(`${REG} = (?:${REG}|${NUM})`),
  neg: re(`${REG} = - ${REG}`),
  movsx: re(`${REG} = \\(s(8|16|32)\\) ${REG}`),
  end: re(`r(\\d+) = (le|be|bswap)(16|32|64) r(\\d+)`),
  load: re(`${REG} = \\* \\( ([us](?:8|16|32|64)) \\s*\\* \\) ${ADDR}`),
  store: re(`\\* \\( (u(?:8|16|32|64)) \\s*\\* \\) ${ADDR} = (?:${REG}|${NUM})`),
  lock: re(`lock\\s+\\* \\( (u32|u64) \\s*\\* \\) ${ADDR} ([-+|&^]=) ${REG}`),
  fetch: re(`${REG} = atomic_fetch_(add|or|and|xor) \\( \\( (u32|u64) \\s*\\* \\) ${ADDR} , ${REG} \\)`),
  xchg: re(`${REG} = (xchg_64|xchg32_32) \\( r(\\d+) (?:([+-]) (0x[0-9a-fA-F]+|\\d+))? , ${REG} \\)`),
  cmpxchg: re(`${REG} = (cmpxchg_64|cmpxchg32_32) \\( r(\\d+) (?:([+-]) (0x[0-9a-fA-F]+|\\d+))? , ${REG} , ${REG} \\)`),
  skbAbs: re(`r0 = \\* \\( (u8|u16|u32) \\s*\\* \\) skb \\[ ${NUM} \\]`),
  skbInd: re(`r0 = \\* \\( (u8|u16|u32) \\s*\\* \\) skb \\[ r(\\d+) (?:([+-]) (0x[0-9a-fA-F]+|\\d+))? \\]`),
  jump: re(`if ${REG} (==|!=|s?>=?|s?<=?|&) (?:${REG}|${NUM}) goto ${TARGET}`),
  goto: re(`(goto|gotol) ${TARGET}`),
  callLocal: re(`call ([+-]?0x[0-9a-fA-F]+|[+-]?\\d+)`),
  callx: re(`callx r(\\d+)`),
  exit: re(`exit`),
};

const toInt = (text: string): bigint => {
  const t = text.replace(/\s+/g, '');
  const negative = t.startsWith('-');
  const magnitude = BigInt(t.replace(/^[+-]/, ''));
  return negative ? -magnitude : magnitude;
};

function imm32(text: string): number {
  const v = toInt(text);
  if (v < -(1n << 31n) || v >= 1n << 32n) throw new Error(`${v} does not fit in a 32-bit immediate`);
  return Number(BigInt.asIntN(32, v));
}

function off16(sign: string | undefined, text: string | undefined): number {
  if (text === undefined) return 0;
  const v = toInt(sign === undefined ? text : `${sign}${text}`);
  if (v < -32768n || v > 32767n) throw new Error(`offset ${v} does not fit in 16 bits`);
  return Number(v);
}

function reg(text: string): number {
  const n = Number(text);
  if (n > 15) throw new Error(`register r${n} does not exist`);
  return n;
}

const insn = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ opcode, dst, src, off, imm });

/**
 * Parses `text` if it is an instruction in llvm-objdump syntax; undefined if it is not (the caller
 * then tries the uBPF syntax). Throws an Error naming the problem for a malformed llvm line.
 */
export function parseLlvmInstruction(text: string): LlvmParse | undefined {
  const line = text.replace(/\s*<[^<>]*>\s*$/, '').trim();
  let m: RegExpExecArray | null;
  const target = (t: string, field: 'off' | 'imm'): { value: number; labelRef?: LabelRef } => {
    if (/^[+-]/.test(t)) return { value: field === 'off' ? off16(undefined, t.replace(/\s+/g, '')) : imm32(t) };
    return { value: 0, labelRef: { label: t, field } };
  };

  if ((m = PATTERNS.exit.exec(line))) return { insns: [insn(BPF_JMP | BPF_EXIT)] };
  if ((m = PATTERNS.lddw.exec(line))) {
    const v = toInt(m[2]);
    if (v < -(1n << 63n) || v >= 1n << 64n) throw new Error(`${v} does not fit in 64 bits`);
    return {
      insns: [
        insn(BPF_LD | BPF_IMM | BPF_DW, reg(m[1]), 0, 0, Number(BigInt.asIntN(32, v))),
        insn(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
      ],
    };
  }
  if ((m = PATTERNS.ldPseudo.exec(line))) {
    return { insns: [insn(BPF_LD | BPF_IMM | BPF_DW, reg(m[1]), reg(String(toInt(m[2]))), 0, imm32(m[3])), insn(0)] };
  }
  if ((m = PATTERNS.neg.exec(line))) {
    if (m[1] !== m[3] || m[2] !== m[4]) throw new Error('neg takes the same register on both sides');
    return { insns: [insn((m[1] === 'w' ? BPF_ALU : BPF_ALU64) | BPF_NEG, reg(m[2]))] };
  }
  if ((m = PATTERNS.movsx.exec(line))) {
    const cls = m[1] === 'w' ? BPF_ALU : BPF_ALU64;
    if (m[1] !== m[4]) throw new Error('movsx takes registers of the same width');
    if (cls === BPF_ALU && m[3] === '32') throw new Error('(s32) into a 32-bit register is not an instruction');
    return { insns: [insn(cls | BPF_MOV | BPF_X, reg(m[2]), reg(m[5]), Number(m[3]))] };
  }
  if ((m = PATTERNS.end.exec(line))) {
    if (m[1] !== m[4]) throw new Error(`${m[2]}${m[3]} takes the same register on both sides`);
    // RFC 9669 §4.2: le/be are class ALU (source bit = to-be), bswap is ALU64 source 0.
    const opcode = m[2] === 'bswap' ? BPF_ALU64 | BPF_END : BPF_ALU | BPF_END | (m[2] === 'be' ? BPF_TO_BE : 0);
    return { insns: [insn(opcode, reg(m[1]), 0, 0, Number(m[3]))] };
  }
  if ((m = PATTERNS.load.exec(line))) {
    const signed = m[3].startsWith('s');
    if (signed && m[3] === 's64') throw new Error('there is no sign-extending 64-bit load');
    const mode = signed ? BPF_MEMSX : BPF_MEM;
    return { insns: [insn(BPF_LDX | mode | SIZE[m[3]], reg(m[2]), reg(m[4]), off16(m[5], m[6]))] };
  }
  if ((m = PATTERNS.store.exec(line))) {
    const [, type, base, sign, offText, , srcReg, immText] = m;
    if (srcReg !== undefined) return { insns: [insn(BPF_STX | BPF_MEM | SIZE[type], reg(base), reg(srcReg), off16(sign, offText))] };
    return { insns: [insn(BPF_ST | BPF_MEM | SIZE[type], reg(base), 0, off16(sign, offText), imm32(immText))] };
  }
  if ((m = PATTERNS.lock.exec(line))) {
    const size = m[1] === 'u64' ? BPF_DW : 0;
    return { insns: [insn(BPF_STX | BPF_ATOMIC | size, reg(m[2]), reg(m[7]), off16(m[3], m[4]), ATOMIC[m[5]])] };
  }
  if ((m = PATTERNS.fetch.exec(line))) {
    const size = m[4] === 'u64' ? BPF_DW : 0;
    if (m[2] !== m[9]) throw new Error('atomic_fetch_* returns into its source register');
    return { insns: [insn(BPF_STX | BPF_ATOMIC | size, reg(m[5]), reg(m[9]), off16(m[6], m[7]), ATOMIC[m[3]] | BPF_FETCH)] };
  }
  if ((m = PATTERNS.xchg.exec(line))) {
    const size = m[3] === 'xchg_64' ? BPF_DW : 0;
    if (m[2] !== m[8]) throw new Error('xchg returns into its source register');
    return { insns: [insn(BPF_STX | BPF_ATOMIC | size, reg(m[4]), reg(m[8]), off16(m[5], m[6]), BPF_XCHG)] };
  }
  if ((m = PATTERNS.cmpxchg.exec(line))) {
    const size = m[3] === 'cmpxchg_64' ? BPF_DW : 0;
    if (m[2] !== '0' || m[8] !== '0') throw new Error('cmpxchg compares with and returns into r0');
    return { insns: [insn(BPF_STX | BPF_ATOMIC | size, reg(m[4]), reg(m[10]), off16(m[5], m[6]), BPF_CMPXCHG)] };
  }
  if ((m = PATTERNS.skbAbs.exec(line))) return { insns: [insn(BPF_LD | BPF_ABS | SIZE[m[1]], 0, 0, 0, imm32(m[2]))] };
  if ((m = PATTERNS.skbInd.exec(line))) {
    const imm = m[4] === undefined ? 0 : imm32(`${m[3]}${m[4]}`);
    return { insns: [insn(BPF_LD | BPF_IND | SIZE[m[1]], 0, reg(m[2]), 0, imm)] };
  }
  if ((m = PATTERNS.mov.exec(line))) {
    const cls = m[1] === 'w' ? BPF_ALU : BPF_ALU64;
    if (m[3] !== undefined) {
      if (m[3] !== m[1]) throw new Error('mov takes registers of the same width');
      return { insns: [insn(cls | BPF_MOV | BPF_X, reg(m[2]), reg(m[4]))] };
    }
    return { insns: [insn(cls | BPF_MOV, reg(m[2]), 0, 0, imm32(m[5]))] };
  }
  if ((m = PATTERNS.aluOp.exec(line))) {
    const cls = m[1] === 'w' ? BPF_ALU : BPF_ALU64;
    if (!ALU[m[3]]) throw new Error(`unknown operator '${m[3]}'`);
    const [op, off] = ALU[m[3]];
    if (m[4] !== undefined) {
      if (m[4] !== m[1]) throw new Error(`${m[3]} takes registers of the same width`);
      return { insns: [insn(cls | op | BPF_X, reg(m[2]), reg(m[5]), off)] };
    }
    return { insns: [insn(cls | op, reg(m[2]), 0, off, imm32(m[6]))] };
  }
  if ((m = PATTERNS.jump.exec(line))) {
    const cls = m[1] === 'w' ? BPF_JMP32 : BPF_JMP;
    const condition = CONDITIONS[m[3]];
    if (condition === undefined) throw new Error(`unknown condition '${m[3]}'`);
    const { value, labelRef } = target(m[7], 'off');
    if (m[4] !== undefined) {
      if (m[4] !== m[1]) throw new Error('a comparison takes registers of the same width');
      return { insns: [insn(cls | condition | BPF_X, reg(m[2]), reg(m[5]), value)], labelRef };
    }
    return { insns: [insn(cls | condition, reg(m[2]), 0, value, imm32(m[6]))], labelRef };
  }
  if ((m = PATTERNS.goto.exec(line))) {
    // gotol (RFC 9669 §4.3): {JA, K, JMP32} with the offset in imm.
    if (m[1] === 'gotol') {
      const { value, labelRef } = target(m[2], 'imm');
      return { insns: [insn(BPF_JMP32 | BPF_JA, 0, 0, 0, value)], labelRef };
    }
    const { value, labelRef } = target(m[2], 'off');
    return { insns: [insn(BPF_JMP | BPF_JA, 0, 0, value)], labelRef };
  }
  if ((m = PATTERNS.callx.exec(line))) return { insns: [insn(BPF_JMP | BPF_CALL | BPF_X, reg(m[1]))] };
  if (/^call\s+[+-]/.test(line) && (m = PATTERNS.callLocal.exec(line))) {
    // objdump prints a pseudo call's relative imm with a sign only when negative; a leading sign
    // here means a relative (local) call.
    return { insns: [insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, imm32(m[1]))] };
  }
  return undefined;
}
