// Prints BPF instructions exactly as `llvm-objdump-19 -d` does (LLVM's BPFInstrInfo.td asm
// strings, immediates in hex as objdump's default --print-imm-hex). Checked line by line against
// llvm-objdump-19 output by test/asm/golden.test.ts.
//
// Known, deliberate differences from llvm-objdump-19 without `--mattr=+alu32` (which is what a
// plain `llvm-objdump -d` runs): LLVM decodes the 32-bit atomics other than plain `add` only with
// the alu32 feature and prints `<unknown>` for them, and prints a 32-bit `atomic_fetch_add` as a
// plain `lock ... +=`. We print the alu32 form for those, which says what the instruction does.
import {
  BPF_ABS,
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_AND,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_CALL,
  BPF_CMPXCHG,
  BPF_DIV,
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
  BPF_LSH,
  BPF_MEM,
  BPF_MEMSX,
  BPF_MOD,
  BPF_MOV,
  BPF_MUL,
  BPF_NEG,
  BPF_OR,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_RSH,
  BPF_ST,
  BPF_SUB,
  BPF_X,
  BPF_XCHG,
  BPF_XOR,
  INSN_SIZE,
  classOf,
  sizeBytes,
} from './opcodes.js';
import { lddwImm64, type Insn } from './insn.js';

export interface FormatOptions {
  /**
   * Name of helper `id` (e.g. `bpf_map_lookup_elem`). When it returns a name, a helper call
   * prints as `call bpf_map_lookup_elem` instead of objdump's `call 0x1`.
   */
  helperName?: (id: number) => string | undefined;
  /**
   * Name of the map an lddw with a pseudo source (map fd / index, map value) refers to, by its
   * imm. When it returns a name the lddw prints as `r1 = map[name] ll` or
   * `r1 = map_value[name] + 0x10 ll` instead of objdump's `ld_pseudo r1, 0x5, 0x0`.
   */
  mapName?: (index: number) => string | undefined;
  /** Labels by target instruction index: a jump or pseudo call to it gets ` <label>` appended. */
  labels?: ReadonlyMap<number, string>;
  /**
   * Print as `llvm-objdump --mattr=+alu32` does: 8/16/32-bit loads and stores name `wN`.
   * Default false, which is what a plain `llvm-objdump -d` prints.
   */
  alu32?: boolean;
}

const UNKNOWN = '<unknown>';

/** `0x1f`, `-0x8`: objdump's signed hex. */
export function hex(value: number | bigint): string {
  const big = BigInt(value);
  return big < 0n ? `-0x${(-big).toString(16)}` : `0x${big.toString(16)}`;
}

/** `+0x3`, `-0x1`, `+0x0`: how objdump prints a jump offset. */
const jumpOffset = (off: number): string => (off < 0 ? `-0x${(-off).toString(16)}` : `+0x${off.toString(16)}`);

/** `(r2 + 0x4c)`, `(r10 - 0x8)`. */
const address = (reg: number, off: number): string =>
  off < 0 ? `r${reg} - 0x${(-off).toString(16)}` : `r${reg} + 0x${off.toString(16)}`;

const SIZE_NAMES: Record<number, string> = { 1: 'u8', 2: 'u16', 4: 'u32', 8: 'u64' };

// ALU operators as LLVM spells them (BPFInstrInfo.td, ALU_RR / ALU_RI).
const ALU_OPERATORS: Record<number, string> = {
  [BPF_ADD]: '+=',
  [BPF_SUB]: '-=',
  [BPF_MUL]: '*=',
  [BPF_DIV]: '/=',
  [BPF_OR]: '|=',
  [BPF_AND]: '&=',
  [BPF_LSH]: '<<=',
  [BPF_RSH]: '>>=',
  [BPF_MOD]: '%=',
  [BPF_XOR]: '^=',
  [BPF_ARSH]: 's>>=',
};

// Jump conditions (RFC 9669 §4.3) as LLVM spells them.
const JUMP_CONDITIONS: Record<number, string> = {
  0x10: '==',
  0x20: '>',
  0x30: '>=',
  0x40: '&',
  0x50: '!=',
  0x60: 's>',
  0x70: 's>=',
  0xa0: '<',
  0xb0: '<=',
  0xc0: 's<',
  0xd0: 's<=',
};

// Atomic operations without fetch (RFC 9669 §5.3), imm low byte cleared.
const ATOMIC_OPERATORS: Record<number, [string, string]> = {
  [BPF_ADD]: ['+=', 'add'],
  [BPF_OR]: ['|=', 'or'],
  [BPF_AND]: ['&=', 'and'],
  [BPF_XOR]: ['^=', 'xor'],
};

/**
 * One instruction in llvm-objdump syntax. The second slot of an lddw prints as '' (objdump
 * prints no line for it); an encoding LLVM cannot decode prints as `<unknown>`.
 */
export function formatInsn(insns: readonly Insn[], index: number, opts: FormatOptions = {}): string {
  const insn = insns[index];
  if (!insn) throw new RangeError(`formatInsn: no instruction at index ${index} (program has ${insns.length})`);
  if (index > 0 && isLddwFirstSlot(insns, index - 1)) return '';
  switch (classOf(insn.opcode)) {
    case BPF_ALU:
    case BPF_ALU64:
      return formatAlu(insn);
    case BPF_JMP:
    case BPF_JMP32:
      return formatJump(insn, index, opts);
    case BPF_LD:
      return formatLd(insns, index, opts);
    case BPF_LDX:
      return formatLdx(insn, opts);
    case BPF_ST:
      return formatSt(insn);
    default:
      return formatStx(insn, opts);
  }
}

/** True when insns[index] is an lddw whose second slot is insns[index + 1]. */
function isLddwFirstSlot(insns: readonly Insn[], index: number): boolean {
  // Walk back so that a run of lddw opcodes (a constant whose low half is 0x18...) pairs correctly.
  let start = index;
  while (start > 0 && insns[start - 1].opcode === (BPF_LD | BPF_IMM | BPF_DW)) start--;
  return insns[index].opcode === (BPF_LD | BPF_IMM | BPF_DW) && (index - start) % 2 === 0;
}

function formatAlu(insn: Insn): string {
  const is64 = classOf(insn.opcode) === BPF_ALU64;
  const r = is64 ? 'r' : 'w';
  const op = insn.opcode & 0xf0;
  const useReg = (insn.opcode & BPF_X) !== 0;
  const dst = `${r}${insn.dst}`;
  const source = useReg ? `${r}${insn.src}` : hex(insn.imm);
  switch (op) {
    case BPF_NEG:
      return useReg ? UNKNOWN : `${dst} = -${dst}`;
    case BPF_END:
      return formatEnd(insn, is64);
    case BPF_MOV:
      if (insn.off === 0) return `${dst} = ${source}`;
      if (!useReg) return UNKNOWN;
      // movsx (RFC 9669 §4.1): off is the source width in bits.
      if (insn.off === 8 || insn.off === 16 || (insn.off === 32 && is64)) return `${dst} = (s${insn.off})${r}${insn.src}`;
      // LLVM 19 decodes off=1 in a 64-bit mov as the arena address-space cast.
      if (insn.off === 1 && is64) return `${dst} = addr_space_cast(r${insn.src}, ${hex(insn.imm >>> 16)}, ${hex(insn.imm & 0xffff)})`;
      return UNKNOWN;
    case BPF_DIV:
    case BPF_MOD: {
      // sdiv / smod (RFC 9669 §4.1) are off=1.
      if (insn.off !== 0 && insn.off !== 1) return UNKNOWN;
      const sign = insn.off === 1 ? 's' : '';
      return `${dst} ${sign}${ALU_OPERATORS[op]} ${source}`;
    }
    default: {
      const operator = ALU_OPERATORS[op];
      if (!operator || insn.off !== 0) return UNKNOWN;
      return `${dst} ${operator} ${source}`;
    }
  }
}

function formatEnd(insn: Insn, is64: boolean): string {
  if (insn.imm !== 16 && insn.imm !== 32 && insn.imm !== 64) return UNKNOWN;
  // RFC 9669 §4.2: in BPF_ALU the source bit picks le / be; BPF_ALU64 with source 0 is bswap.
  let name: string;
  if (is64) {
    if (insn.opcode & BPF_X) return UNKNOWN;
    name = 'bswap';
  } else {
    name = insn.opcode & BPF_X ? 'be' : 'le';
  }
  return `r${insn.dst} = ${name}${insn.imm} r${insn.dst}`;
}

function formatJump(insn: Insn, index: number, opts: FormatOptions): string {
  const is32 = classOf(insn.opcode) === BPF_JMP32;
  const op = insn.opcode & 0xf0;
  const useReg = (insn.opcode & BPF_X) !== 0;
  const label = (target: number): string => {
    const name = opts.labels?.get(target);
    return name === undefined ? '' : ` <${name}>`;
  };
  switch (op) {
    case BPF_JA:
      if (useReg) return UNKNOWN;
      // gotol (RFC 9669 §4.3): BPF_JMP32 | BPF_JA takes its offset from imm.
      if (is32) return `gotol ${jumpOffset(insn.imm)}${label(index + 1 + insn.imm)}`;
      return `goto ${jumpOffset(insn.off)}${label(index + 1 + insn.off)}`;
    case BPF_CALL:
      if (is32) return UNKNOWN;
      if (useReg) return `callx r${insn.dst}`;
      if (insn.src === BPF_PSEUDO_CALL) return `call ${hex(insn.imm)}${label(index + 1 + insn.imm)}`;
      if (insn.src === 0) {
        const name = opts.helperName?.(insn.imm);
        if (name) return `call ${name}`;
      }
      return `call ${hex(insn.imm)}`;
    case BPF_EXIT:
      return is32 || useReg ? UNKNOWN : 'exit';
    default: {
      const condition = JUMP_CONDITIONS[op];
      if (!condition) return UNKNOWN;
      const r = is32 ? 'w' : 'r';
      const right = useReg ? `${r}${insn.src}` : hex(insn.imm);
      return `if ${r}${insn.dst} ${condition} ${right} goto ${jumpOffset(insn.off)}${label(index + 1 + insn.off)}`;
    }
  }
}

function formatLd(insns: readonly Insn[], index: number, opts: FormatOptions): string {
  const insn = insns[index];
  const mode = insn.opcode & 0xe0;
  const size = sizeBytes(insn.opcode);
  if (mode === BPF_IMM && size === 8) {
    if (insn.src === 0) return `r${insn.dst} = ${hex(BigInt.asIntN(64, lddwImm64(insns, index)))} ll`;
    const name = opts.mapName?.(insn.imm);
    if (name !== undefined) {
      if (insn.src === BPF_PSEUDO_MAP_FD || insn.src === BPF_PSEUDO_MAP_IDX) return `r${insn.dst} = map[${name}] ll`;
      if (insn.src === BPF_PSEUDO_MAP_VALUE || insn.src === BPF_PSEUDO_MAP_IDX_VALUE) {
        const valueOffset = (insns[index + 1]?.imm ?? 0) >>> 0;
        return `r${insn.dst} = map_value[${name}] + ${hex(valueOffset)} ll`;
      }
    }
    // LLVM's LD_pseudo: `ld_pseudo $dst, $src, $imm` (BPFInstrInfo.td), with its tab.
    return `ld_pseudo\tr${insn.dst}, ${hex(insn.src)}, ${hex(insn.imm)}`;
  }
  if (size === 8) return UNKNOWN;
  // Legacy packet loads (RFC 9669 §5.5). LLVM prints only the register for IND (its encoder
  // always leaves imm 0); an IND with a non-zero imm prints it as `skb[r1 + 0x4]`, which objdump
  // would hide, so that the line says which byte is loaded.
  if (mode === BPF_ABS) return `r0 = *(${SIZE_NAMES[size]} *)skb[${hex(insn.imm)}]`;
  if (mode === BPF_IND) {
    const plus = insn.imm === 0 ? '' : insn.imm < 0 ? ` - ${hex(-insn.imm)}` : ` + ${hex(insn.imm)}`;
    return `r0 = *(${SIZE_NAMES[size]} *)skb[r${insn.src}${plus}]`;
  }
  return UNKNOWN;
}

function formatLdx(insn: Insn, opts: FormatOptions): string {
  const mode = insn.opcode & 0xe0;
  const size = sizeBytes(insn.opcode);
  const where = address(insn.src, insn.off);
  if (mode === BPF_MEM) {
    const r = opts.alu32 && size < 8 ? 'w' : 'r';
    return `${r}${insn.dst} = *(${SIZE_NAMES[size]} *)(${where})`;
  }
  if (mode === BPF_MEMSX && size < 8) return `r${insn.dst} = *(s${size * 8} *)(${where})`;
  return UNKNOWN;
}

function formatSt(insn: Insn): string {
  if ((insn.opcode & 0xe0) !== BPF_MEM) return UNKNOWN;
  const size = sizeBytes(insn.opcode);
  return `*(${SIZE_NAMES[size]} *)(${address(insn.dst, insn.off)}) = ${hex(insn.imm)}`;
}

function formatStx(insn: Insn, opts: FormatOptions): string {
  const mode = insn.opcode & 0xe0;
  const size = sizeBytes(insn.opcode);
  const where = address(insn.dst, insn.off);
  const type = SIZE_NAMES[size];
  if (mode === BPF_MEM) {
    const r = opts.alu32 && size < 8 ? 'w' : 'r';
    return `*(${type} *)(${where}) = ${r}${insn.src}`;
  }
  if (mode !== BPF_ATOMIC || (size !== 4 && size !== 8)) return UNKNOWN;
  const is64 = size === 8;
  // LLVM 19 prints the 64-bit atomics and a 32-bit plain add with rN (the default feature set)
  // and the other 32-bit forms with wN, as `--mattr=+alu32` does; see the note at the top.
  const r = is64 ? 'r' : 'w';
  const value = `${r}${insn.src}`;
  if (insn.imm === BPF_XCHG) return `${value} = ${is64 ? 'xchg_64' : 'xchg32_32'}(${where}, ${value})`;
  if (insn.imm === BPF_CMPXCHG) {
    return `${r}0 = ${is64 ? 'cmpxchg_64' : 'cmpxchg32_32'}(${where}, ${r}0, ${value})`;
  }
  const operator = ATOMIC_OPERATORS[insn.imm & ~BPF_FETCH];
  if (!operator || (insn.imm & ~(0xf0 | BPF_FETCH)) !== 0) return UNKNOWN;
  if (insn.imm & BPF_FETCH) return `${value} = atomic_fetch_${operator[1]}((${type} *)(${where}), ${value})`;
  const plain32AddReg = !is64 && insn.imm === BPF_ADD && !opts.alu32 ? `r${insn.src}` : value;
  return `lock *(${type} *)(${where}) ${operator[0]} ${plain32AddReg}`;
}

export interface DisassembleOptions extends FormatOptions {
  /** Show the raw bytes as objdump does without --no-show-raw-insn (default false). */
  rawBytes?: boolean;
  /**
   * Source position of an instruction (BTF line info). A line is printed as `; text` before the
   * first instruction of each new position, as `llvm-objdump -d -S` does.
   */
  sourceLine?: (index: number) => { file: string; line: number; text: string } | undefined;
  /**
   * Function symbols by starting index. Each starts a `<name>:` block (objdump's
   * `0000000000000000 <name>:` header) and names jump targets `<name+0x58>` as objdump does
   * when opts.labels does not name them.
   */
  symbols?: ReadonlyMap<number, string>;
}

/**
 * A whole program in llvm-objdump layout: `     12:\t<insn>` per instruction (the second slot of an
 * lddw has no line, as in objdump), optional raw bytes, function headers and C source lines.
 */
export function disassemble(insns: readonly Insn[], opts: DisassembleOptions = {}): string[] {
  const lines: string[] = [];
  const labels = opts.symbols ? symbolLabels(insns, opts.symbols, opts.labels) : opts.labels;
  const formatOpts: FormatOptions = { ...opts, labels };
  let lastSource: string | undefined;
  for (let i = 0; i < insns.length; i++) {
    const symbol = opts.symbols?.get(i);
    if (symbol !== undefined) {
      if (lines.length > 0) lines.push('');
      lines.push(`${(i * INSN_SIZE).toString(16).padStart(16, '0')} <${symbol}>:`);
    }
    const text = formatInsn(insns, i, formatOpts);
    if (text === '') continue;
    const source = opts.sourceLine?.(i);
    if (source) {
      const key = `${source.file}:${source.line}`;
      if (key !== lastSource) {
        lines.push(`; ${source.text}`);
        lastSource = key;
      }
    }
    const wide = insns[i].opcode === (BPF_LD | BPF_IMM | BPF_DW) && i + 1 < insns.length;
    const raw = opts.rawBytes ? `${rawBytes(insns.slice(i, wide ? i + 2 : i + 1))}\t` : '';
    lines.push(`${String(i).padStart(8)}:\t${raw}${text}`);
  }
  return lines;
}

function rawBytes(slots: readonly Insn[]): string {
  const bytes: number[] = [];
  for (const s of slots) {
    bytes.push(s.opcode, (s.dst & 0x0f) | ((s.src & 0x0f) << 4), s.off & 0xff, (s.off >> 8) & 0xff);
    for (let k = 0; k < 4; k++) bytes.push((s.imm >>> (8 * k)) & 0xff);
  }
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** objdump's `<func+0x58>` names for every jump target, the nearest preceding symbol. */
function symbolLabels(
  insns: readonly Insn[],
  symbols: ReadonlyMap<number, string>,
  given: ReadonlyMap<number, string> | undefined,
): Map<number, string> {
  const starts = [...symbols.keys()].sort((a, b) => a - b);
  const labels = new Map<number, string>();
  const nameFor = (target: number): string | undefined => {
    let start: number | undefined;
    for (const s of starts) if (s <= target) start = s;
    if (start === undefined) return undefined;
    const delta = (target - start) * INSN_SIZE;
    return delta === 0 ? symbols.get(start) : `${symbols.get(start)}+0x${delta.toString(16)}`;
  };
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i];
    const cls = classOf(insn.opcode);
    if (cls !== BPF_JMP && cls !== BPF_JMP32) continue;
    const op = insn.opcode & 0xf0;
    if (op === BPF_EXIT || (op === BPF_CALL && insn.src !== BPF_PSEUDO_CALL)) continue;
    if (op === BPF_CALL) continue; // objdump prints pseudo calls without a label
    const target = i + 1 + (cls === BPF_JMP32 && op === BPF_JA ? insn.imm : insn.off);
    const name = given?.get(target) ?? nameFor(target);
    if (name !== undefined) labels.set(target, name);
  }
  if (given) for (const [k, v] of given) labels.set(k, v);
  return labels;
}
