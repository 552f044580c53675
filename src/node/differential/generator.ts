// Seeded random BPF programs for differential testing against the kernel (issue 6). Every
// program is built to pass the kernel's verifier (kernel/bpf/verifier.c) by construction, so
// that nearly all of them run in both and the comparison covers as much as possible:
//   - every register is written before it is read (check_reg_arg: "!read_ok"), and after a
//     BPF-to-BPF call r1..r5 are written again (the verifier marks them NOT_INIT after a call);
//   - shifts by an immediate stay below the operand width and division or modulo by an
//     immediate is never by 0 (check_alu_op: "invalid shift", "div by zero"); shifts and
//     divisions by a register take any value, out-of-range counts and zero divisors included,
//     which is where RFC 9669 §4.1 and the kernel define the result;
//   - jumps go forward to the join of an if / if-else, or back in a bounded loop with a
//     constant trip count, and nothing is unreachable (check_cfg);
//   - stack accesses are at r10 offsets inside slots the prologue initialised, aligned to their
//     size (check_ptr_alignment is strict for the stack), and atomics are aligned;
//   - memory ("map traffic") goes through the pointer the prologue spilled at r10 - 8, reloaded
//     into a register that is overwritten with a scalar right after, so no pointer ever reaches
//     the compared state (pointer values differ between bpfbed and the kernel).
// The program's epilogue stores r0..r9 and the main function's stack slots into the memory
// (layout.ts), so comparing the memory compares every register and every stack byte.
import type { Insn } from '../../asm/insn.js';
import {
  BPF_ADD,
  BPF_ALU,
  BPF_ALU64,
  BPF_AND,
  BPF_ARSH,
  BPF_ATOMIC,
  BPF_B,
  BPF_CMPXCHG,
  BPF_DIV,
  BPF_DW,
  BPF_END,
  BPF_FETCH,
  BPF_H,
  BPF_IMM,
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
  BPF_PSEUDO_CALL,
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
  OP_CALL,
  OP_EXIT,
} from '../../asm/opcodes.js';
import { DATA_LEN, DATA_OFF, MEM_LEN, PTR_SLOT, REGS_OFF, SCRATCH_SLOT, STACK_OFF, STACK_SLOTS, SUB_SLOTS, slotOffset } from './layout.js';
import { Rng } from './rng.js';

export interface GeneratedProgram {
  seed: number;
  index: number;
  insns: Insn[];
  /** The initial memory (layout.ts): zeroed registers and stack areas, random data. */
  mem: Uint8Array;
}

export interface GeneratorOptions {
  /** Units (instruction groups) in the main body; default 6..40. */
  minUnits?: number;
  maxUnits?: number;
}

const ALU_BINARY = [BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH];
const SHIFTS = new Set([BPF_LSH, BPF_RSH, BPF_ARSH]);
const DIVISIONS = new Set([BPF_DIV, BPF_MOD]);
const CONDITIONS = [BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE];
const ATOMIC_OPS = [BPF_ADD, BPF_OR, BPF_AND, BPF_XOR];
const SIZES = [BPF_B, BPF_H, BPF_W, BPF_DW];
const SIZE_BYTES: Record<number, number> = { [BPF_B]: 1, [BPF_H]: 2, [BPF_W]: 4, [BPF_DW]: 8 };

/** 32-bit immediates at the edges of every operation (RFC 9669 §4: imm is sign-extended). */
const EDGE_IMM32 = [0, 1, -1, 2, 7, 8, 15, 16, 31, 32, 33, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, -0x8000_0000, -2, -0x8000, -0x80];
/** 64-bit constants at the edges (for lddw and register operands). */
const EDGE_IMM64 = [
  0n,
  1n,
  0xffff_ffff_ffff_ffffn,
  0x8000_0000_0000_0000n,
  0x7fff_ffff_ffff_ffffn,
  0xffff_ffffn,
  0x8000_0000n,
  0x7fff_ffffn,
  0x1_0000_0000n,
  0xffff_ffff_0000_0000n,
  0xffff_ffff_8000_0000n,
  0x8000_0000_0000_0001n,
  0xffn,
  0x80n,
  0x8000n,
  0xffff_ffff_ffff_ff80n,
];

const BPF_LOAD_ACQ = 0x100;
const BPF_STORE_REL = 0x110;

const insn = (opcode: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ opcode, dst, src, off, imm });

/** An instruction whose jump offset (or call imm) is resolved from a label at assembly. */
interface Item {
  insn: Insn;
  /** Resolve `off` (jumps), or `imm` (gotol, pseudo calls), to this label. */
  target?: string;
  field?: 'off' | 'imm';
}
type Piece = Item | { label: string };

class Assembler {
  readonly pieces: Piece[] = [];
  private nextLabel = 0;

  label(): string {
    return `L${this.nextLabel++}`;
  }
  emit(...insns: Insn[]): void {
    for (const i of insns) this.pieces.push({ insn: i });
  }
  jump(i: Insn, target: string, field: 'off' | 'imm' = 'off'): void {
    this.pieces.push({ insn: i, target, field });
  }
  place(label: string): void {
    this.pieces.push({ label });
  }

  /** Resolves labels into relative offsets (target - (index + 1), RFC 9669 §4.3). */
  resolve(): Insn[] {
    const at = new Map<string, number>();
    let n = 0;
    for (const p of this.pieces) {
      if ('label' in p) at.set(p.label, n);
      else n++;
    }
    const out: Insn[] = [];
    for (const p of this.pieces) {
      if ('label' in p) continue;
      const i = { ...p.insn };
      if (p.target !== undefined) {
        const target = at.get(p.target);
        if (target === undefined) throw new Error(`differential generator: label ${p.target} never placed`);
        const rel = target - (out.length + 1);
        if (p.field === 'imm') i.imm = rel;
        else {
          if (rel < -0x8000 || rel > 0x7fff) throw new Error('differential generator: jump out of 16-bit range');
          i.off = rel;
        }
      }
      out.push(i);
    }
    return out;
  }
}

/** What the generator may do in the function it is writing. */
interface Scope {
  /** Stack slots (r10 offsets of 8-byte slots) initialised in this frame. */
  slots: number[];
  /** Registers that must not be written (a loop counter). */
  frozen: Set<number>;
  /** Whether memory (the pointer at r10 - 8) is reachable: main function only. */
  hasMem: boolean;
  /** Subprogram labels this function may call (only later ones: no recursion). */
  callees: string[];
  /** Nesting depth of ifs and loops, to keep programs small. */
  depth: number;
  inLoop: boolean;
}

class ProgramWriter {
  readonly asm = new Assembler();
  /** Subprograms the main function calls: check_cfg refuses one that nothing calls. */
  private readonly called = new Set<string>();

  constructor(private readonly rng: Rng) {}

  // ---- values ----

  imm32(): number {
    const r = this.rng;
    return r.chance(0.6) ? r.pick(EDGE_IMM32) : r.chance(0.5) ? r.between(-300, 300) : r.s32();
  }

  imm64(): bigint {
    const r = this.rng;
    if (r.chance(0.5)) return r.pick(EDGE_IMM64);
    if (r.chance(0.3)) return BigInt.asUintN(64, BigInt(r.between(-1000, 1000)));
    return r.u64();
  }

  reg(): number {
    return this.rng.below(10);
  }

  /** A register to store: never `base`, which holds the memory pointer in memoryTraffic. */
  valueReg(base: number): number {
    return this.rng.pick([0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((x) => x !== base));
  }

  /** A register that may be written here. */
  dstReg(scope: Scope, exclude: number[] = []): number {
    const free = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].filter((r) => !scope.frozen.has(r) && !exclude.includes(r));
    return this.rng.pick(free);
  }

  lddw(dst: number, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    this.asm.emit(
      insn(BPF_LD | BPF_IMM | BPF_DW, dst, 0, 0, Number(BigInt.asIntN(32, v))),
      insn(0, 0, 0, 0, Number(BigInt.asIntN(32, v >> 32n))),
    );
  }

  /** Sets a register to a fresh value: lddw, mov64 imm (sign-extended) or mov32 imm. */
  setReg(dst: number): void {
    const r = this.rng;
    const kind = r.below(3);
    if (kind === 0) this.lddw(dst, this.imm64());
    else this.asm.emit(insn((kind === 1 ? BPF_ALU64 : BPF_ALU) | BPF_MOV | BPF_K, dst, 0, 0, this.imm32()));
  }

  // ---- units ----

  /** One ALU / ALU64 instruction of any operation, K or X, with edge operands. */
  alu(scope: Scope): void {
    const r = this.rng;
    const cls = r.chance(0.5) ? BPF_ALU64 : BPF_ALU;
    const width = cls === BPF_ALU64 ? 64 : 32;
    const dst = this.dstReg(scope);
    const op = r.pick(ALU_BINARY);
    if (r.chance(0.5)) {
      let imm = this.imm32();
      // The verifier refuses shifts by an immediate >= width and division by an immediate 0.
      if (SHIFTS.has(op)) imm = r.below(width);
      if (DIVISIONS.has(op) && imm === 0) imm = r.pick([1, -1, 3, -0x8000_0000]);
      // sdiv / smod (off = 1, RFC 9669 §4.1) exist for DIV and MOD only.
      const off = DIVISIONS.has(op) && r.chance(0.5) ? 1 : 0;
      this.asm.emit(insn(cls | op | BPF_K, dst, 0, off, imm));
      return;
    }
    const src = this.reg();
    // Make the interesting register operands likely: shift counts around and past the width,
    // zero and -1 divisors (RFC 9669 §4.1: division by 0 gives 0, modulo by 0 keeps dst).
    if (SHIFTS.has(op) && src !== dst && !scope.frozen.has(src) && r.chance(0.5)) {
      this.asm.emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, src, 0, 0, r.pick([0, 1, 31, 32, 33, 63, 64, 65, 127, -1, 0x7fff_ffff])));
    }
    if (DIVISIONS.has(op) && src !== dst && !scope.frozen.has(src) && r.chance(0.4)) {
      this.asm.emit(insn(r.pick([BPF_ALU64, BPF_ALU]) | BPF_MOV | BPF_K, src, 0, 0, r.pick([0, -1, 1])));
      if (r.chance(0.4)) this.lddw(dst, r.pick([0x8000_0000_0000_0000n, 0x8000_0000n, 0xffff_ffff_8000_0000n]));
    }
    let off = 0;
    if (DIVISIONS.has(op) && r.chance(0.5)) off = 1; // sdiv / smod
    if (op === BPF_MOV && r.chance(0.4)) off = r.pick(cls === BPF_ALU64 ? [8, 16, 32] : [8, 16]); // movsx
    this.asm.emit(insn(cls | op | BPF_X, dst, src, off, 0));
  }

  /** neg, and the byte swaps: le / be (ALU, source bit) and bswap (ALU64), 16/32/64 (RFC 9669 §4.2). */
  unary(scope: Scope): void {
    const r = this.rng;
    const dst = this.dstReg(scope);
    if (r.chance(0.3)) {
      this.asm.emit(insn(r.pick([BPF_ALU, BPF_ALU64]) | BPF_NEG, dst));
      return;
    }
    const cls = r.pick([BPF_ALU, BPF_ALU64]);
    const srcBit = cls === BPF_ALU ? r.pick([BPF_TO_LE, BPF_TO_BE]) : BPF_K;
    this.asm.emit(insn(cls | BPF_END | srcBit, dst, 0, 0, r.pick([16, 32, 64])));
  }

  /** A store to an initialised stack slot: st imm or stx reg, any size, aligned. */
  stackStore(scope: Scope): void {
    const r = this.rng;
    const size = r.pick(SIZES);
    const off = r.pick(scope.slots) + SIZE_BYTES[size] * r.below(8 / SIZE_BYTES[size]);
    if (r.chance(0.4)) this.asm.emit(insn(BPF_ST | BPF_MEM | size, 10, 0, off, this.imm32()));
    else this.asm.emit(insn(BPF_STX | BPF_MEM | size, 10, this.reg(), off));
  }

  /** A load from an initialised stack slot: any size, zero- or sign-extending (BPF_MEMSX). */
  stackLoad(scope: Scope): void {
    const r = this.rng;
    const size = r.pick(SIZES);
    const off = r.pick(scope.slots) + SIZE_BYTES[size] * r.below(8 / SIZE_BYTES[size]);
    const mode = size !== BPF_DW && r.chance(0.4) ? BPF_MEMSX : BPF_MEM;
    this.asm.emit(insn(BPF_LDX | mode | size, this.dstReg(scope), 10, off));
  }

  /** An atomic operation (RFC 9669 §5.3) on `base + off`, 32 or 64-bit, every operation. */
  atomicOn(scope: Scope, base: number, offFor: (bytes: number) => number): void {
    const r = this.rng;
    if (r.chance(0.2)) {
      // Load-acquire / store-release (imm 0x100 / 0x110, kernel 6.15+, include/uapi/linux/bpf.h
      // BPF_LOAD_ACQ / BPF_STORE_REL): any size; the load's address is in src, its result in dst.
      const size = r.pick(SIZES);
      const off = offFor(SIZE_BYTES[size]);
      if (r.chance(0.5)) this.asm.emit(insn(BPF_STX | BPF_ATOMIC | size, this.dstReg(scope, [base]), base, off, BPF_LOAD_ACQ));
      else this.asm.emit(insn(BPF_STX | BPF_ATOMIC | size, base, this.valueReg(base), off, BPF_STORE_REL));
      return;
    }
    const size = r.pick([BPF_W, BPF_DW]);
    const off = offFor(SIZE_BYTES[size]);
    const kind = r.below(6);
    let imm: number;
    if (kind < 4) imm = r.pick(ATOMIC_OPS) | (r.chance(0.5) ? BPF_FETCH : 0);
    else if (kind === 4) imm = BPF_XCHG;
    else imm = BPF_CMPXCHG;
    // Fetching operations write src (cmpxchg writes r0): keep a loop counter and the base intact.
    const writesSrc = (imm & BPF_FETCH) !== 0;
    const src = writesSrc ? this.dstReg(scope, [base]) : this.valueReg(base);
    if (imm === BPF_CMPXCHG && (scope.frozen.has(0) || base === 0)) imm = BPF_XCHG;
    if (imm === BPF_CMPXCHG && r.chance(0.5)) {
      // Make the comparison succeed sometimes: r0 = the current value.
      this.asm.emit(insn(BPF_LDX | BPF_MEM | size, 0, base, off));
    }
    this.asm.emit(insn(BPF_STX | BPF_ATOMIC | size, base, src, off, imm));
  }

  stackAtomic(scope: Scope): void {
    const slot = this.rng.pick(scope.slots);
    this.atomicOn(scope, 10, (bytes) => slot + bytes * this.rng.below(8 / bytes));
  }

  /**
   * Loads, stores and atomics on the memory: the pointer is reloaded from r10 - 8 into a
   * register and that register is overwritten by a load through it at the end, so that it
   * holds a scalar again before anything else can see it.
   */
  memoryTraffic(scope: Scope): void {
    const r = this.rng;
    const base = this.dstReg(scope);
    this.asm.emit(insn(BPF_LDX | BPF_MEM | BPF_DW, base, 10, PTR_SLOT));
    // Map values need no alignment for plain accesses on this architecture (x86-64 has efficient
    // unaligned access, kernel/bpf/verifier.c check_ptr_alignment), atomics always do.
    const anyOff = (bytes: number): number => DATA_OFF + r.below(DATA_LEN - bytes + 1);
    const alignedOff = (bytes: number): number => DATA_OFF + bytes * r.below(DATA_LEN / bytes);
    const ops = r.between(1, 3);
    for (let i = 0; i < ops; i++) {
      const kind = r.below(4);
      const size = r.pick(SIZES);
      const bytes = SIZE_BYTES[size];
      const off = r.chance(0.7) ? alignedOff(bytes) : anyOff(bytes);
      if (kind === 0) {
        const mode = size !== BPF_DW && r.chance(0.4) ? BPF_MEMSX : BPF_MEM;
        this.asm.emit(insn(BPF_LDX | mode | size, this.dstReg(scope, [base]), base, off));
      } else if (kind === 1) {
        this.asm.emit(insn(BPF_STX | BPF_MEM | size, base, this.valueReg(base), off));
      } else if (kind === 2) {
        this.asm.emit(insn(BPF_ST | BPF_MEM | size, base, 0, off, this.imm32()));
      } else {
        this.atomicOn(scope, base, alignedOff);
      }
    }
    const size = r.pick(SIZES);
    this.asm.emit(insn(BPF_LDX | BPF_MEM | size, base, base, anyOff(SIZE_BYTES[size])));
  }

  /** The condition of an if: JMP or JMP32, K or X, every comparison (RFC 9669 §4.3). */
  condJump(target: string): void {
    const r = this.rng;
    const cls = r.pick([BPF_JMP, BPF_JMP32]);
    const op = r.pick(CONDITIONS);
    if (r.chance(0.5)) this.asm.jump(insn(cls | op | BPF_K, this.reg(), 0, 0, this.imm32()), target);
    else this.asm.jump(insn(cls | op | BPF_X, this.reg(), this.reg()), target);
  }

  /** if (cond) skip; or if (cond) { a } else { b } with ja or gotol (JMP32 | JA, imm offset). */
  ifElse(scope: Scope): void {
    const inner: Scope = { ...scope, depth: scope.depth + 1 };
    const r = this.rng;
    const elseLabel = this.asm.label();
    this.condJump(elseLabel);
    this.units(inner, r.between(1, 3));
    if (r.chance(0.5)) {
      const end = this.asm.label();
      if (r.chance(0.5)) this.asm.jump(insn(BPF_JMP | BPF_JA), end);
      else this.asm.jump(insn(BPF_JMP32 | BPF_JA), end, 'imm'); // gotol
      this.asm.place(elseLabel);
      this.units(inner, r.between(1, 3));
      this.asm.place(end);
    } else {
      this.asm.place(elseLabel);
    }
  }

  /** A bounded loop: counter = 1..4; body; counter -= 1; if counter != 0 goto body. */
  loop(scope: Scope): void {
    const r = this.rng;
    const counter = this.dstReg(scope);
    const inner: Scope = { ...scope, frozen: new Set([...scope.frozen, counter]), depth: scope.depth + 1, inLoop: true };
    this.asm.emit(insn(BPF_ALU64 | BPF_MOV | BPF_K, counter, 0, 0, r.between(1, 4)));
    const top = this.asm.label();
    this.asm.place(top);
    this.units(inner, r.between(1, 4));
    this.asm.emit(insn(BPF_ALU64 | BPF_ADD | BPF_K, counter, 0, 0, -1));
    const cls = r.pick([BPF_JMP, BPF_JMP32]);
    if (r.chance(0.5)) this.asm.jump(insn(cls | BPF_JNE | BPF_K, counter, 0, 0, 0), top);
    else this.asm.jump(insn(cls | BPF_JSGT | BPF_K, counter, 0, 0, 0), top);
  }

  /** A BPF-to-BPF call: r1..r5 = arguments, call, then r1..r5 written again (they are clobbered). */
  call(scope: Scope, callee = this.rng.pick(scope.callees)): void {
    const r = this.rng;
    this.called.add(callee);
    for (let a = 1; a <= 5; a++) {
      if (!scope.frozen.has(a) && r.chance(0.5)) this.asm.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, a, r.pick([0, 6, 7, 8, 9])));
    }
    this.asm.jump(insn(OP_CALL, 0, BPF_PSEUDO_CALL), callee, 'imm');
    for (let a = 1; a <= 5; a++) {
      if (r.chance(0.5)) this.asm.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, a, r.pick([0, 6, 7, 8, 9])));
      else this.setReg(a);
    }
  }

  /** `count` random units. */
  units(scope: Scope, count: number): void {
    const r = this.rng;
    for (let i = 0; i < count; i++) {
      const roll = r.below(100);
      if (roll < 30) this.alu(scope);
      else if (roll < 38) this.unary(scope);
      else if (roll < 44) this.setReg(this.dstReg(scope));
      else if (roll < 52) this.stackStore(scope);
      else if (roll < 60) this.stackLoad(scope);
      else if (roll < 67) this.stackAtomic(scope);
      else if (roll < 75 && scope.hasMem) this.memoryTraffic(scope);
      else if (roll < 85 && scope.depth < 2) this.ifElse(scope);
      else if (roll < 90 && scope.depth < 2 && !scope.inLoop) this.loop(scope);
      else if (roll < 96 && scope.callees.length > 0 && ![0, 1, 2, 3, 4, 5].some((x) => scope.frozen.has(x))) this.call(scope);
      else this.alu(scope);
    }
  }

  // ---- functions ----

  /** Initialises every register (r1 is spilled first) and every stack slot of the frame. */
  prologue(slots: number[], main: boolean): void {
    if (main) this.asm.emit(insn(BPF_STX | BPF_MEM | BPF_DW, 10, 1, PTR_SLOT));
    // A subprogram starts with r1..r5 (its arguments) set and r0, r6..r9 unset.
    const regs = main ? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9] : [0, 6, 7, 8, 9];
    for (const reg of regs) {
      if (!main && this.rng.chance(0.4)) this.asm.emit(insn(BPF_ALU64 | BPF_MOV | BPF_X, reg, this.rng.between(1, 5)));
      else this.setReg(reg);
    }
    for (const slot of slots) {
      const r = this.rng;
      const how = r.below(3);
      if (how === 0) this.asm.emit(insn(BPF_STX | BPF_MEM | BPF_DW, 10, this.reg(), slot));
      else if (how === 1) this.asm.emit(insn(BPF_ST | BPF_MEM | BPF_DW, 10, 0, slot, this.imm32()));
      else {
        this.asm.emit(insn(BPF_ST | BPF_MEM | BPF_W, 10, 0, slot, this.imm32()));
        this.asm.emit(insn(BPF_ST | BPF_MEM | BPF_W, 10, 0, slot + 4, this.imm32()));
      }
    }
  }

  /** Stores r0..r9 and the stack slots into the memory (layout.ts), then returns 0. */
  epilogue(): void {
    const e = (i: Insn): void => this.asm.emit(i);
    e(insn(BPF_STX | BPF_MEM | BPF_DW, 10, 0, SCRATCH_SLOT));
    e(insn(BPF_LDX | BPF_MEM | BPF_DW, 0, 10, PTR_SLOT));
    for (let reg = 1; reg <= 9; reg++) e(insn(BPF_STX | BPF_MEM | BPF_DW, 0, reg, REGS_OFF + 8 * reg));
    e(insn(BPF_LDX | BPF_MEM | BPF_DW, 1, 10, SCRATCH_SLOT));
    e(insn(BPF_STX | BPF_MEM | BPF_DW, 0, 1, REGS_OFF));
    for (let k = 0; k < STACK_SLOTS; k++) {
      e(insn(BPF_LDX | BPF_MEM | BPF_DW, 1, 10, slotOffset(k)));
      e(insn(BPF_STX | BPF_MEM | BPF_DW, 0, 1, STACK_OFF + 8 * k));
    }
    e(insn(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 0));
    e(insn(OP_EXIT));
  }

  write(opts: GeneratorOptions): Insn[] {
    const r = this.rng;
    const subCount = r.chance(0.35) ? r.between(1, 3) : 0;
    const subLabels = Array.from({ length: subCount }, () => this.asm.label());
    const mainSlots = Array.from({ length: STACK_SLOTS }, (_, k) => slotOffset(k));
    this.prologue(mainSlots, true);
    const main: Scope = { slots: mainSlots, frozen: new Set(), hasMem: true, callees: subLabels, depth: 0, inLoop: false };
    this.units(main, r.between(opts.minUnits ?? 6, opts.maxUnits ?? 40));
    for (const label of subLabels) if (!this.called.has(label)) this.call(main, label);
    this.epilogue();
    subLabels.forEach((label, i) => {
      this.asm.place(label);
      const slots = Array.from({ length: r.between(0, SUB_SLOTS) }, (_, k) => -8 - 8 * k);
      if (slots.length === 0) slots.push(-8);
      this.prologue(slots, false);
      const scope: Scope = { slots, frozen: new Set(), hasMem: false, callees: subLabels.slice(i + 1), depth: 0, inLoop: false };
      this.units(scope, r.between(2, 10));
      this.asm.emit(insn(OP_EXIT));
    });
    return this.asm.resolve();
  }
}

/** Program `index` of run `seed`: the same numbers always give the same program and memory. */
export function generateProgram(seed: number, index: number, opts: GeneratorOptions = {}): GeneratedProgram {
  const rng = new Rng(seed, index);
  const insns = new ProgramWriter(rng).write(opts);
  const mem = new Uint8Array(MEM_LEN);
  for (let i = DATA_OFF; i < MEM_LEN; i++) mem[i] = rng.chance(0.3) ? rng.pick([0, 0xff, 0x80, 0x7f]) : rng.below(256);
  return { seed, index, insns, mem };
}
