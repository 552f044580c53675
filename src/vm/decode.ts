// Turns validated BPF instructions into the interpreter's records (src/vm/abi.ts): one 16-byte
// record per slot, with the operation specialised by class, source and the off/imm variants
// (sdiv, movsx, gotol...), jump targets made absolute and lddw's 64-bit constant joined, so the
// loop never re-derives anything from the raw encoding.
import type { Insn } from '../asm/insn.js';
import * as A from './abi.js';

const CLS_LD = 0x00;
const CLS_LDX = 0x01;
const CLS_ST = 0x02;
const CLS_STX = 0x03;
const CLS_ALU = 0x04;
const CLS_JMP = 0x05;
const CLS_JMP32 = 0x06;
const CLS_ALU64 = 0x07;

// ALU operation (opcode >> 4) → [K form for ALU64, K form for ALU32]; the X form is K + 1.
const ALU_OPS: Record<number, [number, number]> = {
  0x0: [A.ADD64_K, A.ADD32_K],
  0x1: [A.SUB64_K, A.SUB32_K],
  0x2: [A.MUL64_K, A.MUL32_K],
  0x3: [A.DIV64_K, A.DIV32_K],
  0x4: [A.OR64_K, A.OR32_K],
  0x5: [A.AND64_K, A.AND32_K],
  0x6: [A.LSH64_K, A.LSH32_K],
  0x7: [A.RSH64_K, A.RSH32_K],
  0x9: [A.MOD64_K, A.MOD32_K],
  0xa: [A.XOR64_K, A.XOR32_K],
  0xb: [A.MOV64_K, A.MOV32_K],
  0xc: [A.ARSH64_K, A.ARSH32_K],
};

// Jump operation (opcode >> 4) → K form for JMP (64-bit); JMP32 adds JMP32_DELTA; X is K + 1.
const JMP_OPS: Record<number, number> = {
  0x1: A.JEQ64_K,
  0x2: A.JGT64_K,
  0x3: A.JGE64_K,
  0x4: A.JSET64_K,
  0x5: A.JNE64_K,
  0x6: A.JSGT64_K,
  0x7: A.JSGE64_K,
  0xa: A.JLT64_K,
  0xb: A.JLE64_K,
  0xc: A.JSLT64_K,
  0xd: A.JSLE64_K,
};
const JMP32_DELTA = A.JEQ32_K - A.JEQ64_K;

/** The internal operation for one validated instruction. */
export function internalOp(insn: Insn): number {
  const { opcode, off, imm } = insn;
  const cls = opcode & 7;
  const x = (opcode & 0x08) !== 0;
  const op = opcode >> 4;
  switch (cls) {
    case CLS_ALU:
    case CLS_ALU64: {
      const is64 = cls === CLS_ALU64;
      if (op === 0x8) return is64 ? A.NEG64 : A.NEG32;
      if (op === 0xd) {
        // BPF_END: ALU | TO_LE / TO_BE, ALU64 | TO_LE = unconditional bswap (RFC 9669 §4.2).
        if (!is64 && !x) return imm === 16 ? A.LE16 : imm === 32 ? A.LE32 : A.LE64;
        return imm === 16 ? A.BSWAP16 : imm === 32 ? A.BSWAP32 : A.BSWAP64;
      }
      if (op === 0xb && x && off !== 0) {
        if (is64) return off === 8 ? A.MOVSX64_8 : off === 16 ? A.MOVSX64_16 : A.MOVSX64_32;
        return off === 8 ? A.MOVSX32_8 : A.MOVSX32_16;
      }
      let k = ALU_OPS[op][is64 ? 0 : 1];
      // off = 1 selects the signed forms of div and mod (RFC 9669 §4.1).
      if (off === 1 && (op === 0x3 || op === 0x9)) k += 2;
      return x ? k + 1 : k;
    }
    case CLS_JMP:
    case CLS_JMP32: {
      if (op === 0x0) return A.JA;
      if (op === 0x8) {
        if (x) return A.CALLX;
        return insn.src === 1 ? A.CALL_LOCAL : A.CALL_HELPER;
      }
      if (op === 0x9) return A.EXIT;
      const k = JMP_OPS[op] + (cls === CLS_JMP32 ? JMP32_DELTA : 0);
      return x ? k + 1 : k;
    }
    case CLS_LD: {
      const mode = opcode & 0xe0;
      if (mode === 0x00) return A.LDDW;
      const size = (opcode >> 3) & 3; // W=0 H=1 B=2
      const base = mode === 0x20 ? A.LDABS_B : A.LDIND_B;
      return base + (size === 2 ? 0 : size === 1 ? 1 : 2);
    }
    case CLS_LDX: {
      const size = (opcode >> 3) & 3;
      if ((opcode & 0xe0) === 0x80) return A.LDXS_B + (size === 2 ? 0 : size === 1 ? 1 : 2);
      return [A.LDX_W, A.LDX_H, A.LDX_B, A.LDX_DW][size];
    }
    case CLS_ST:
      return [A.ST_W, A.ST_H, A.ST_B, A.ST_DW][(opcode >> 3) & 3];
    case CLS_STX: {
      const size = (opcode >> 3) & 3;
      if ((opcode & 0xe0) === 0xc0) {
        // BPF_LOAD_ACQ (0x100) / BPF_STORE_REL (0x110), kernel 6.15+: in a single-threaded VM an
        // acquire load is a plain load and a release store a plain store
        // (Documentation/bpf/standardization/instruction-set.rst, "Atomic operations").
        if (insn.imm === 0x100) return [A.LDX_W, A.LDX_H, A.LDX_B, A.LDX_DW][size];
        if (insn.imm === 0x110) return [A.STX_W, A.STX_H, A.STX_B, A.STX_DW][size];
        return size === 3 ? A.ATOMIC_DW : A.ATOMIC_W;
      }
      return [A.STX_W, A.STX_H, A.STX_B, A.STX_DW][size];
    }
  }
  throw new Error(`internal: no decoding for opcode 0x${opcode.toString(16)}`);
}

/**
 * Writes the records for `insns` (already validated) into `view` at `at`. `funcStarts` are the
 * slots that begin a function (0, pseudo-call targets, code addresses given out).
 */
export function writeRecords(
  view: DataView,
  at: number,
  insns: readonly Insn[],
  funcStarts: ReadonlySet<number>,
  codeAddress: (insnIndex: number) => bigint,
): void {
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i];
    const r = at + i * A.REC_SIZE;
    const op = internalOp(insn);
    view.setUint8(r + A.REC_OP, op);
    let dst = insn.dst;
    const src = insn.src;
    // callx: clang 19 encodes the register in dst_reg; older LLVM put it in imm.
    if (op === A.CALLX && dst === 0 && insn.imm > 0 && insn.imm <= 10) dst = insn.imm;
    view.setUint8(r + A.REC_DST, dst * 8);
    view.setUint8(r + A.REC_SRC, src * 8);
    view.setUint8(r + A.REC_FLAGS, funcStarts.has(i) ? A.FLAG_FUNC_START : 0);
    let off = insn.off;
    let imm = BigInt(insn.imm);
    if (op === A.JA) off = i + 1 + ((insn.opcode & 7) === CLS_JMP32 ? insn.imm : insn.off);
    else if (op === A.CALL_LOCAL) off = i + 1 + insn.imm;
    else if (op >= A.JEQ64_K && op <= A.JSET32_X) off = i + 1 + insn.off;
    if (op === A.LDDW) {
      const hi = insns[i + 1];
      imm = (BigInt(hi.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
      // BPF_PSEUDO_FUNC (src 4): the address of the function at slot i + 1 + imm.
      if (insn.src === 4) imm = codeAddress(i + 1 + insn.imm);
      view.setInt32(r + A.REC_OFF, 0, true);
      view.setBigUint64(r + A.REC_IMM, imm, true);
      // The second slot: a record that is never executed.
      const r2 = r + A.REC_SIZE;
      view.setUint8(r2 + A.REC_OP, A.LDDW_HI);
      view.setUint8(r2 + A.REC_DST, 0);
      view.setUint8(r2 + A.REC_SRC, 0);
      view.setUint8(r2 + A.REC_FLAGS, 0);
      view.setInt32(r2 + A.REC_OFF, 0, true);
      view.setBigInt64(r2 + A.REC_IMM, 0n, true);
      i++;
      continue;
    }
    view.setInt32(r + A.REC_OFF, off, true);
    view.setBigInt64(r + A.REC_IMM, imm, true);
  }
}

/**
 * Fuses `rA = rB; rA += rC; rX = *(size *)(rA + off)` into one superinstruction on the mov's
 * record (see abi.ts IDX_LDX_*). Only the first record changes.
 */
export function fuseSuperinstructions(view: DataView, at: number, count: number): void {
  const op = (i: number): number => view.getUint8(at + i * A.REC_SIZE + A.REC_OP);
  const dst = (i: number): number => view.getUint8(at + i * A.REC_SIZE + A.REC_DST);
  const src = (i: number): number => view.getUint8(at + i * A.REC_SIZE + A.REC_SRC);
  for (let i = 0; i + 2 < count; i++) {
    if (op(i) !== A.MOV64_X || op(i + 1) !== A.ADD64_X || dst(i + 1) !== dst(i)) continue;
    const load = op(i + 2);
    if (load < A.LDX_B || load > A.LDX_DW || src(i + 2) !== dst(i)) continue;
    view.setUint8(at + i * A.REC_SIZE + A.REC_OP, A.IDX_LDX_B + (load - A.LDX_B));
  }
  for (let i = 0; i + 1 < count; i++) {
    if (op(i) !== A.ADD64_K || dst(i + 1) !== dst(i)) continue;
    const jump = op(i + 1);
    if (jump === A.JLT64_X) view.setUint8(at + i * A.REC_SIZE + A.REC_OP, A.ADDK_JLT_X);
    else if (jump === A.JNE64_X) view.setUint8(at + i * A.REC_SIZE + A.REC_OP, A.ADDK_JNE_X);
  }
}

/** Slots that begin a function inside one program: 0, pseudo-call and pseudo-func targets. */
export function functionStarts(insns: readonly Insn[]): Set<number> {
  const starts = new Set<number>([0]);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i];
    if ((insn.opcode === 0x85 && insn.src === 1) || (insn.opcode === 0x18 && insn.src === 4)) starts.add(i + 1 + insn.imm);
    if (insn.opcode === 0x18) i++;
  }
  return starts;
}
