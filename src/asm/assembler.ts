// An assembler for the uBPF / bpf_conformance text syntax (the language of the bpf_conformance
// `.data` test files and of uBPF's assembler.py), e.g.
//
//   mov32 %r0, 1            lddw %r1, 0x123456789      ldxw %r0, [%r1+4]
//   stxdw [%r10-8], %r1     jeq %r1, 0x5, +2           jsgt32 %r1, %r2, done
//   call 1                  call local func1           call %r1   (callx)
//   be16 %r0   le32 %r0     swap64 %r0                  neg %r0
//   sdiv %r0, 3             smod32 %r0, %r1            movsx1632 %r0, %r1
//   ldxsb %r0, [%r1]        lock fetch add [%r1+0], %r2 lock cmpxchg32 [%r1], %r2
//   ldabsh 12               ldindw %r1, 4              ja32 +100000 (gotol)
//
// Names follow bpf_conformance's src/bpf_assembler.cc (ALU ops with a `32` suffix are class ALU,
// without or with `64` ALU64; movsx<from><to>; `lock [fetch] op[32]`; `call helper|local|runtime`),
// with a few aliases (`bswapN`, `gotol`, `callx`, `ldxs{b,h,w}`, helper names in `call`).
// Registers may be written `%r1` or `r1`; immediates are decimal or 0x-hex, optionally negative;
// `#`, `//` and `;` start comments; `name:` defines a label.
//
// Each line may also be written in the syntax llvm-objdump prints (llvm-syntax.ts), so the
// disassembler's output assembles back. There `call 0x3` is helper 3 and a signed `call -0x3` /
// `call +3` is a BPF-to-BPF call (objdump cannot tell a forward pseudo call from a helper call).
// Encodings: RFC 9669 §3-§5.
import { helperId } from '../helpers/names.js';
import type { Insn } from './insn.js';
import { parseLlvmInstruction, type LlvmParse } from './llvm-syntax.js';
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_AND,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_B,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DIV,
  BPF_DW,
  BPF_END,
  BPF_EXIT,
  BPF_FETCH,
  BPF_H,
  BPF_IMM,
  BPF_IND,
  BPF_JA,
  BPF_JEQ,
  BPF_JGE,
  BPF_JGT,
  BPF_JLE,
  BPF_JLT,
  BPF_JMP,
  BPF_JMP32,
  BPF_JNE,
  BPF_JSET,
  BPF_JSGE,
  BPF_JSGT,
  BPF_JSLE,
  BPF_JSLT,
  BPF_K,
  BPF_LD,
  BPF_LDX,
  BPF_LSH,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOD,
  BPF_MOV,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_RSH,
  BPF_ST,
  BPF_STX,
  BPF_SUB,
  BPF_TO_BE,
  BPF_TO_LE,
  BPF_W,
  BPF_X,
  BPF_XCHG,
  BPF_XOR,
} from './opcodes.js';

/** A syntax error, naming the 1-based source line. */
export class AssembleError extends Error {
  constructor(
    readonly line: number,
    readonly problem: string,
  ) {
    super(`line ${line}: ${problem}`);
    this.name = 'AssembleError';
  }
}

const ALU_OPS: Record<string, number> = {
  add: BPF_ADD,
  sub: BPF_SUB,
  mul: BPF_MUL,
  div: BPF_DIV,
  sdiv: BPF_DIV,
  or: BPF_OR,
  and: BPF_AND,
  lsh: BPF_LSH,
  rsh: BPF_RSH,
  mod: BPF_MOD,
  smod: BPF_MOD,
  xor: BPF_XOR,
  mov: BPF_MOV,
  arsh: BPF_ARSH,
};

const JUMP_OPS: Record<string, number> = {
  jeq: BPF_JEQ,
  jgt: BPF_JGT,
  jge: BPF_JGE,
  jset: BPF_JSET,
  jne: BPF_JNE,
  jsgt: BPF_JSGT,
  jsge: BPF_JSGE,
  jlt: BPF_JLT,
  jle: BPF_JLE,
  jslt: BPF_JSLT,
  jsle: BPF_JSLE,
};

const SIZES: Record<string, number> = { b: BPF_B, h: BPF_H, w: BPF_W, dw: BPF_DW };

const ATOMIC_OPS: Record<string, number> = { add: BPF_ADD, or: BPF_OR, and: BPF_AND, xor: BPF_XOR };

/** One instruction still waiting for its label to be resolved. */
interface Fixup {
  index: number;
  label: string;
  line: number;
  /** Where the relative offset goes: 'off' (jumps), 'imm' (gotol, pseudo call, code_addr). */
  field: 'off' | 'imm';
}

/** Parses a program; throws AssembleError naming the line and the problem. */
export function assemble(text: string): Insn[] {
  const insns: Insn[] = [];
  const labels = new Map<string, number>();
  const fixups: Fixup[] = [];
  let firstExit: number | undefined;

  text.split(/\r?\n/).forEach((raw, lineIndex) => {
    const line = lineIndex + 1;
    let source = stripComment(raw).trim();
    // Labels: `name:` alone or before an instruction on the same line.
    for (let m = /^([A-Za-z_.$][\w.$]*):\s*/.exec(source); m; m = /^([A-Za-z_.$][\w.$]*):\s*/.exec(source)) {
      if (labels.has(m[1])) throw new AssembleError(line, `label '${m[1]}' is defined twice`);
      labels.set(m[1], insns.length);
      source = source.slice(m[0].length);
    }
    if (source === '') return;
    // The llvm-objdump syntax (llvm-syntax.ts) first: its lines have shapes uBPF lines never have.
    let llvm: LlvmParse | undefined;
    try {
      llvm = parseLlvmInstruction(source);
    } catch (err) {
      throw new AssembleError(line, `${(err as Error).message} in '${source}'`);
    }
    if (llvm) {
      if (llvm.labelRef) fixups.push({ index: insns.length, line, ...llvm.labelRef });
      if (llvm.insns[0].opcode === (BPF_JMP | BPF_EXIT) && firstExit === undefined) firstExit = insns.length;
      insns.push(...llvm.insns);
      return;
    }
    const parser = new LineParser(source, line);
    const emitted = parseInstruction(parser, (label, field) =>
      fixups.push({ index: insns.length, label, line, field }),
    );
    if (emitted[0].opcode === (BPF_JMP | BPF_EXIT) && firstExit === undefined) firstExit = insns.length;
    insns.push(...emitted);
  });

  // bpf_conformance lets a jump name `exit` for the first exit instruction without declaring it.
  if (firstExit !== undefined && !labels.has('exit')) labels.set('exit', firstExit);

  for (const fixup of fixups) {
    const target = labels.get(fixup.label);
    if (target === undefined) throw new AssembleError(fixup.line, `unknown label '${fixup.label}'`);
    const relative = target - fixup.index - 1;
    if (fixup.field === 'off') {
      if (relative < -32768 || relative > 32767) {
        throw new AssembleError(fixup.line, `jump to '${fixup.label}' is ${relative} slots away, more than a 16-bit offset holds`);
      }
      insns[fixup.index].off = relative;
    } else {
      insns[fixup.index].imm = relative;
    }
  }
  return insns;
}

function stripComment(line: string): string {
  // `#` and `//` start comments (bpf_conformance uses `#`); `;` as in llvm-mc.
  const at = line.search(/#|\/\/|;/);
  return at < 0 ? line : line.slice(0, at);
}

const insn = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ opcode, dst, src, off, imm });

type AddFixup = (label: string, field: 'off' | 'imm') => void;

function parseInstruction(p: LineParser, addFixup: AddFixup): Insn[] {
  const mnemonic = p.word().toLowerCase();
  const result = parseByMnemonic(mnemonic, p, addFixup);
  p.end();
  return result;
}

function parseByMnemonic(mnemonic: string, p: LineParser, addFixup: AddFixup): Insn[] {
  if (mnemonic === 'exit') return [insn(BPF_JMP | BPF_EXIT)];
  if (mnemonic === 'lddw') return parseLddw(p, addFixup);
  if (mnemonic === 'call') return [parseCall(p, addFixup)];
  if (mnemonic === 'callx') return [insn(BPF_JMP | BPF_CALL | BPF_X, p.register())];
  if (mnemonic === 'lock') return [parseAtomic(p)];
  if (mnemonic === 'ja' || mnemonic === 'goto') {
    const i = insn(BPF_JMP | BPF_JA);
    i.off = p.jumpTarget('off', addFixup);
    return [i];
  }
  if (mnemonic === 'ja32' || mnemonic === 'gotol') {
    // RFC 9669 §4.3: {JA, K, JMP32} takes its 32-bit offset from imm.
    const i = insn(BPF_JMP32 | BPF_JA);
    i.imm = p.jumpTarget('imm', addFixup);
    return [i];
  }

  let m: RegExpExecArray | null;
  // Byte swaps (RFC 9669 §4.2): le/be are class ALU, swap/bswap class ALU64 source 0.
  if ((m = /^(le|be|swap|bswap)(16|32|64)$/.exec(mnemonic))) {
    const opcode =
      m[1] === 'le' ? BPF_ALU | BPF_END | BPF_TO_LE : m[1] === 'be' ? BPF_ALU | BPF_END | BPF_TO_BE : BPF_ALU64 | BPF_END;
    return [insn(opcode, p.register(), 0, 0, Number(m[2]))];
  }
  // movsx<from><to> (bpf_conformance): movsx864, movsx1664, movsx3264 (ALU64), movsx832, movsx1632 (ALU).
  if ((m = /^movsx(8|16|32)(32|64)?$/.exec(mnemonic))) {
    const from = Number(m[1]);
    const to = m[2] === undefined ? 64 : Number(m[2]);
    if (from >= to) throw p.error(`'${mnemonic}' sign-extends ${from} bits into ${to}: the source must be narrower`);
    const dst = p.register();
    p.comma();
    const src = p.register();
    return [insn((to === 32 ? BPF_ALU : BPF_ALU64) | BPF_MOV | BPF_X, dst, src, from)];
  }
  if ((m = /^neg(32|64)?$/.exec(mnemonic))) {
    const dst = p.register();
    // uBPF's assembler accepted (and ignored) a second operand; bpf_conformance takes one.
    if (p.tryComma()) p.operandToken();
    return [insn((m[1] === '32' ? BPF_ALU : BPF_ALU64) | BPF_NEG | BPF_K, dst)];
  }
  if ((m = /^([a-z]+?)(32|64)?$/.exec(mnemonic)) && ALU_OPS[m[1]] !== undefined) {
    const cls = m[2] === '32' ? BPF_ALU : BPF_ALU64;
    const signed = m[1] === 'sdiv' || m[1] === 'smod';
    const dst = p.register();
    p.comma();
    const i = insn(cls | ALU_OPS[m[1]], dst, 0, signed ? 1 : 0);
    if (p.peekRegister()) {
      i.opcode |= BPF_X;
      i.src = p.register();
    } else {
      i.imm = p.imm32();
    }
    return [i];
  }
  if ((m = /^(j[a-z]+?)(32)?$/.exec(mnemonic)) && JUMP_OPS[m[1]] !== undefined) {
    const i = insn((m[2] ? BPF_JMP32 : BPF_JMP) | JUMP_OPS[m[1]], p.register());
    p.comma();
    if (p.peekRegister()) {
      i.opcode |= BPF_X;
      i.src = p.register();
    } else {
      i.imm = p.imm32();
    }
    p.comma();
    i.off = p.jumpTarget('off', addFixup);
    return [i];
  }
  if ((m = /^ldx(s?)(b|h|w|dw)$/.exec(mnemonic))) {
    if (m[1] && m[2] === 'dw') throw p.error(`'ldxsdw' does not exist: sign-extending loads are 8, 16 or 32 bits`);
    const dst = p.register();
    p.comma();
    const [src, off] = p.memory();
    return [insn(BPF_LDX | (m[1] ? BPF_MEMSX : BPF_MEM) | SIZES[m[2]], dst, src, off)];
  }
  if ((m = /^st(x?)(b|h|w|dw)$/.exec(mnemonic))) {
    const [dst, off] = p.memory();
    p.comma();
    if (m[1]) return [insn(BPF_STX | BPF_MEM | SIZES[m[2]], dst, p.register(), off)];
    return [insn(BPF_ST | BPF_MEM | SIZES[m[2]], dst, 0, off, p.imm32())];
  }
  // Legacy packet access (RFC 9669 §5.5): ldabs<size> imm, ldind<size> %src, imm.
  if ((m = /^ldabs(b|h|w|dw)$/.exec(mnemonic))) {
    return [insn(BPF_LD | BPF_ABS | SIZES[m[1]], 0, 0, 0, p.imm32())];
  }
  if ((m = /^ldind(b|h|w|dw)$/.exec(mnemonic))) {
    const src = p.register();
    p.comma();
    return [insn(BPF_LD | BPF_IND | SIZES[m[1]], 0, src, 0, p.imm32())];
  }
  throw p.error(`unknown instruction '${mnemonic}'`);
}

function parseCall(p: LineParser, addFixup: AddFixup): Insn {
  // callx (bpf_conformance `call %rN`): the register is in dst_reg, as LLVM encodes it.
  if (p.peekRegister()) return insn(BPF_JMP | BPF_CALL | BPF_X, p.register());
  const mode = p.peekWord()?.toLowerCase();
  if (mode === 'local') {
    p.word();
    const i = insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL);
    i.imm = p.jumpTarget('imm', addFixup);
    return i;
  }
  if (mode === 'runtime' || mode === 'kfunc') {
    p.word();
    return insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_KFUNC_CALL, 0, p.imm32());
  }
  if (mode === 'helper') {
    p.word();
    if (p.peekRegister()) return insn(BPF_JMP | BPF_CALL | BPF_X, p.register());
  }
  const name = p.peekWord();
  if (name !== undefined) {
    p.word();
    const id = helperId(name);
    if (id === undefined) throw p.error(`unknown helper '${name}'`);
    return insn(BPF_JMP | BPF_CALL, 0, 0, 0, id);
  }
  return insn(BPF_JMP | BPF_CALL, 0, 0, 0, p.imm32());
}

function parseLddw(p: LineParser, addFixup: AddFixup): Insn[] {
  const dst = p.register();
  p.comma();
  const first = insn(BPF_LD | BPF_IMM | BPF_DW, dst);
  const second = insn(0);
  const fn = p.peekWord()?.toLowerCase();
  // Pseudo sources (RFC 9669 §5.4 table, kernel uapi BPF_PSEUDO_*), written as the RFC writes them.
  if (fn === undefined) {
    const value = p.imm64();
    first.imm = Number(BigInt.asIntN(32, value));
    second.imm = Number(BigInt.asIntN(32, value >> 32n));
    return [first, second];
  }
  p.word();
  p.expect('(');
  switch (fn) {
    case 'map_by_fd':
    case 'map_by_idx':
      first.src = fn === 'map_by_fd' ? BPF_PSEUDO_MAP_FD : BPF_PSEUDO_MAP_IDX;
      first.imm = p.imm32();
      p.expect(')');
      break;
    case 'map_val': {
      const inner = p.word().toLowerCase();
      if (inner !== 'map_by_fd' && inner !== 'map_by_idx') throw p.error(`map_val() takes map_by_fd(N) or map_by_idx(N), not '${inner}'`);
      first.src = inner === 'map_by_fd' ? BPF_PSEUDO_MAP_VALUE : BPF_PSEUDO_MAP_IDX_VALUE;
      p.expect('(');
      first.imm = p.imm32();
      p.expect(')');
      p.expect(')');
      if (p.tryChar('+')) second.imm = p.imm32();
      break;
    }
    case 'var_addr':
      first.src = BPF_PSEUDO_BTF_ID;
      first.imm = p.imm32();
      p.expect(')');
      break;
    case 'code_addr':
      // Target = this slot + imm + 1, as kernel/bpf/verifier.c check_ld_imm reads BPF_PSEUDO_FUNC.
      first.src = BPF_PSEUDO_FUNC;
      first.imm = p.jumpTarget('imm', addFixup);
      p.expect(')');
      break;
    default:
      throw p.error(`unknown lddw source '${fn}' (map_by_fd, map_by_idx, map_val, var_addr, code_addr)`);
  }
  return [first, second];
}

function parseAtomic(p: LineParser): Insn {
  // bpf_conformance: `lock [fetch] <op>[32] [dst+off], src`, op in add/or/and/xor/xchg/cmpxchg.
  let word = p.word().toLowerCase();
  let fetch = false;
  if (word === 'fetch') {
    fetch = true;
    word = p.word().toLowerCase();
  }
  const m = /^(add|or|and|xor|xchg|cmpxchg)(32|64)?$/.exec(word);
  if (!m) throw p.error(`unknown atomic operation '${word}' (add, or, and, xor, xchg, cmpxchg)`);
  const size = m[2] === '32' ? BPF_W : BPF_DW;
  const [dst, off] = p.memory();
  p.comma();
  const src = p.register();
  let imm: number;
  // RFC 9669 §5.3: xchg and cmpxchg always carry FETCH.
  if (m[1] === 'xchg') imm = BPF_XCHG;
  else if (m[1] === 'cmpxchg') imm = BPF_CMPXCHG;
  else imm = ATOMIC_OPS[m[1]] | (fetch ? BPF_FETCH : 0);
  return insn(BPF_STX | BPF_ATOMIC | size, dst, src, off, imm);
}

/** A cursor over one line's operands. */
class LineParser {
  private at = 0;

  constructor(
    private readonly text: string,
    private readonly line: number,
  ) {}

  error(problem: string): AssembleError {
    return new AssembleError(this.line, `${problem} in '${this.text}'`);
  }

  private skipSpace(): void {
    while (this.at < this.text.length && /\s/.test(this.text[this.at])) this.at++;
  }

  end(): void {
    this.skipSpace();
    if (this.at < this.text.length) throw this.error(`unexpected '${this.text.slice(this.at)}'`);
  }

  tryChar(c: string): boolean {
    this.skipSpace();
    if (this.text[this.at] === c) {
      this.at++;
      return true;
    }
    return false;
  }

  expect(c: string): void {
    if (!this.tryChar(c)) throw this.error(`expected '${c}'${this.where()}`);
  }

  comma(): void {
    // bpf_conformance separates operands with ", "; accept a bare space too.
    this.skipSpace();
    if (this.text[this.at] === ',') this.at++;
    else if (this.at >= this.text.length) throw this.error('missing operand');
  }

  tryComma(): boolean {
    this.skipSpace();
    if (this.text[this.at] !== ',') return false;
    this.at++;
    return true;
  }

  private where(): string {
    const rest = this.text.slice(this.at).trim();
    return rest ? ` before '${rest}'` : ' at the end of the line';
  }

  word(): string {
    const w = this.peekWord();
    if (w === undefined) throw this.error(`expected a name${this.where()}`);
    this.skipSpace();
    this.at += w.length;
    return w;
  }

  peekWord(): string | undefined {
    this.skipSpace();
    return /^[A-Za-z_][\w.$]*/.exec(this.text.slice(this.at))?.[0];
  }

  /** The raw next operand (up to a comma), for operands that are read and dropped. */
  operandToken(): string {
    this.skipSpace();
    const m = /^[^,]+/.exec(this.text.slice(this.at));
    if (!m) throw this.error(`missing operand${this.where()}`);
    this.at += m[0].length;
    return m[0].trim();
  }

  peekRegister(): boolean {
    this.skipSpace();
    return /^%?r\d+\b/i.test(this.text.slice(this.at));
  }

  register(): number {
    this.skipSpace();
    const m = /^%?r(\d+)\b/i.exec(this.text.slice(this.at));
    if (!m) throw this.error(`expected a register (%r0..%r10)${this.where()}`);
    const n = Number(m[1]);
    // %r11..%r15 encode (bpf_conformance uses them in tests the VM must reject).
    if (n > 15) throw this.error(`register r${n} does not exist`);
    this.at += m[0].length;
    return n;
  }

  private number(): bigint {
    this.skipSpace();
    const m = /^([+-]?)\s*(0x[0-9a-f]+|\d+)\b/i.exec(this.text.slice(this.at));
    if (!m) throw this.error(`expected a number${this.where()}`);
    this.at += m[0].length;
    const magnitude = BigInt(m[2]);
    return m[1] === '-' ? -magnitude : magnitude;
  }

  /** A 32-bit immediate: -2^31..2^32-1, stored as the s32 with those bits. */
  imm32(): number {
    const value = this.number();
    if (value < -(1n << 31n) || value >= 1n << 32n) throw this.error(`${value} does not fit in a 32-bit immediate`);
    return Number(BigInt.asIntN(32, value));
  }

  imm64(): bigint {
    const value = this.number();
    if (value < -(1n << 63n) || value >= 1n << 64n) throw this.error(`${value} does not fit in 64 bits`);
    return value;
  }

  /** A 16-bit offset: -32768..65535 (bpf_conformance wraps), stored as s16. */
  private off16(): number {
    const value = this.number();
    if (value < -32768n || value > 65535n) throw this.error(`offset ${value} does not fit in 16 bits`);
    return Number(BigInt.asIntN(16, value));
  }

  /** `+3`, `-1` or a label (resolved later). */
  jumpTarget(field: 'off' | 'imm', addFixup: AddFixup): number {
    this.skipSpace();
    const rest = this.text.slice(this.at);
    if (/^[+-]/.test(rest) || /^\d/.test(rest)) return field === 'off' ? this.off16() : this.imm32();
    addFixup(this.word(), field);
    return 0;
  }

  /** `[%r1+4]`, `[%r10-8]`, `[%r1]`, spaces allowed. */
  memory(): [number, number] {
    this.expect('[');
    const reg = this.register();
    let off = 0;
    this.skipSpace();
    if (this.text[this.at] === '+' || this.text[this.at] === '-') off = this.off16();
    this.expect(']');
    return [reg, off];
  }
}
