// The BPF interpreter. Semantics: RFC 9669 and the kernel's interpreter (kernel/bpf/core.c,
// ___bpf_prog_run) with the rewrites the verifier makes before a program runs
// (kernel/bpf/verifier.c, do_misc_fixups; net/core/filter.c, bpf_gen_ld_abs). Where RFC 9669
// and the kernel differ, the kernel wins and a comment says so.
//
// Memory: no managed objects at all (runtime "stub", never collects). The host owns the linear
// memory above __heap_base with its own allocator (src/vm/machine.ts); this module keeps its
// state in static data (control block, helper kinds, call frames, stacks) and reads the tables
// the host writes (programs, regions). Programs arrive pre-decoded (src/vm/decode.ts) as
// 16-byte records, one per BPF slot; the layout is in src/vm/abi.ts, shared with the host.
import * as A from '../src/vm/abi';
import { nativeHelper } from './native';

/** BPF virtual address of wasm offset 0 (src/vm/types.ts VBASE). */
const VBASE: u64 = 0xffff_8880_0000_0000;

const CTRL: usize = memory.data(A.CB_SIZE, 16);
const KINDS: usize = memory.data(A.HELPERS_MAX, 16);
const FRAMES: usize = memory.data(A.FRAME_SIZE * A.MAX_FRAMES, 16);
const STACKS: usize = memory.data(A.STACK_FRAME_SIZE * A.MAX_FRAMES, 16);
const STACK_TOP: usize = STACKS + A.STACK_FRAME_SIZE * A.MAX_FRAMES;

@external('env', 'hostHelper')
declare function hostHelper(id: i32): void;

// One-entry caches of the last readable and the last writable region (wasm offsets). They
// always describe a real region of at least 8 bytes (the stack when nothing better is known),
// so the fast check `off - lo <= len - size` needs no validity flag. CTX regions are never cached.
let rLo: u64 = 0;
let rLen: u64 = 0;
let wLo: u64 = 0;
let wLen: u64 = 0;
// A second cached region for each (the one used before the current): a packet program goes back
// and forth between its stack and the packet or a map value, and each switch was a table search.
// A length of 0 marks the entry empty (the fast test `off - lo <= len - size` needs len >= 8).
let rLo2: u64 = 0;
let rLen2: u64 = 0;
let wLo2: u64 = 0;
let wLen2: u64 = 0;
/** Fault code of the current run (0 = none); mirrored into the control block on return. */
let faulted: i32 = 0;

export function ctrlBase(): usize {
  return CTRL;
}
export function helperKinds(): usize {
  return KINDS;
}
export function heapBase(): usize {
  return __heap_base;
}
export function stackTop(): usize {
  return STACK_TOP;
}

// ---- regions ----

function setStackRegion(depth: i32): void {
  // Region 0 is the stack: every active frame, from the deepest up to frame 0, so that a pointer
  // to a caller's stack passed to a callee stays valid, while inactive frames below are not.
  const table = <usize>load<u32>(CTRL + A.CB_REGIONS);
  const lo = STACK_TOP - <usize>(depth + 1) * A.STACK_FRAME_SIZE;
  store<u32>(table, <u32>lo);
  store<u32>(table, <u32>(STACK_TOP - lo), 4);
  resetCache();
}

/** Called by the host whenever it rewrites the region table. */
export function resetCache(): void {
  const table = <usize>load<u32>(CTRL + A.CB_REGIONS);
  rLo = <u64>load<u32>(table);
  rLen = <u64>load<u32>(table, 4);
  wLo = rLo;
  wLen = rLen;
  rLen2 = 0;
  wLen2 = 0;
}

function setFault(code: i32, off: u64, size: i32): void {
  faulted = code;
  store<u64>(CTRL + A.CB_FAULT_ADDR, off + VBASE);
  store<i32>(CTRL + A.CB_FAULT_SIZE, size);
}

/**
 * Finds the region holding [off, off+size) and checks its permission. Returns the region's
 * table entry, or 0 after recording a fault.
 */
function findRegion(off: u64, size: i32, write: bool): usize {
  const table = <usize>load<u32>(CTRL + A.CB_REGIONS);
  const n = load<u32>(CTRL + A.CB_NREGIONS);
  for (let i: u32 = 0; i < n; i++) {
    const e = table + <usize>i * A.REGION_SIZE;
    const len = <u64>load<u32>(e, 4);
    const rel = off - <u64>load<u32>(e);
    if (rel < len && <u64>size <= len - rel) {
      const flags = load<u32>(e, 8);
      if ((flags & (write ? A.REGION_WRITE : A.REGION_READ)) == 0) {
        store<i32>(CTRL + A.CB_FAULT_AUX, <i32>i);
        setFault(write ? A.FAULT_WRITE_DENIED : A.FAULT_READ_DENIED, off, size);
        return 0;
      }
      return e;
    }
  }
  setFault(write ? A.FAULT_WRITE_OOB : A.FAULT_READ_OOB, off, size);
  return 0;
}

/** The context access table says whether `size` bytes may be accessed at ctx offset `rel`. */
function ctxAllowed(e: usize, rel: u64, size: i32, write: bool): bool {
  const len = <usize>load<u32>(e, 4);
  const tab = <usize>load<u32>(e, 12);
  const mask = load<u8>(tab + (write ? len : 0) + <usize>rel);
  return (mask & <u8>size) != 0;
}

function ctxShadow(e: usize, rel: u64): usize {
  const len = <usize>load<u32>(e, 4);
  const tab = <usize>load<u32>(e, 12);
  if (load<u8>(tab + 2 * len + <usize>rel) == 0) return 0;
  return tab + ((3 * len + 7) & ~7) + <usize>rel * 8;
}

@inline
function loadSized(at: usize, size: i32): u64 {
  if (size == 1) return <u64>load<u8>(at);
  if (size == 2) return <u64>load<u16>(at);
  if (size == 4) return <u64>load<u32>(at);
  return load<u64>(at);
}

@inline
function storeSized(at: usize, size: i32, v: u64): void {
  if (size == 1) store<u8>(at, <u8>v);
  else if (size == 2) store<u16>(at, <u16>v);
  else if (size == 4) store<u32>(at, <u32>v);
  else store<u64>(at, v);
}

/** Load outside the cached region: search, check, handle the context, refill the cache. */
function slowLoad(off: u64, size: i32): u64 {
  if (rLen2 != 0 && off - rLo2 <= rLen2 - <u64>size) {
    // The previous region: swap it in front.
    const lo = rLo2;
    const len = rLen2;
    rLo2 = rLo;
    rLen2 = rLen;
    rLo = lo;
    rLen = len;
    return loadSized(<usize>off, size);
  }
  const e = findRegion(off, size, false);
  if (e == 0) return 0;
  const lo = <u64>load<u32>(e);
  const len = <u64>load<u32>(e, 4);
  if (load<u32>(e, 8) & A.REGION_CTX) {
    // Context loads go through the access table every time (the verifier's is_valid_access),
    // and pointer fields yield their 64-bit shadow (the verifier's convert_ctx_access).
    const rel = off - lo;
    if (!ctxAllowed(e, rel, size, false)) {
      setFault(A.FAULT_CTX_READ, off, size);
      return 0;
    }
    const shadow = ctxShadow(e, rel);
    if (shadow != 0) return load<u64>(shadow);
    return loadSized(<usize>off, size);
  }
  if (len >= 8) {
    rLo2 = rLo;
    rLen2 = rLen;
    rLo = lo;
    rLen = len;
  }
  return loadSized(<usize>off, size);
}

/** Store outside the cached region: search, check the context table, refill the cache. */
function slowStore(off: u64, size: i32, v: u64): void {
  if (wLen2 != 0 && off - wLo2 <= wLen2 - <u64>size) {
    const lo = wLo2;
    const len = wLen2;
    wLo2 = wLo;
    wLen2 = wLen;
    wLo = lo;
    wLen = len;
    storeSized(<usize>off, size, v);
    return;
  }
  const e = findRegion(off, size, true);
  if (e == 0) return;
  const lo = <u64>load<u32>(e);
  const len = <u64>load<u32>(e, 4);
  if (load<u32>(e, 8) & A.REGION_CTX) {
    if (!ctxAllowed(e, off - lo, size, true)) {
      setFault(A.FAULT_CTX_WRITE, off, size);
      return;
    }
  } else if (len >= 8) {
    wLo2 = wLo;
    wLen2 = wLen;
    wLo = lo;
    wLen = len;
  }
  storeSized(<usize>off, size, v);
}

/** Atomic operand: must be readable and writable plain memory (never the context). */
function atomicAddr(off: u64, size: i32): usize {
  const e = findRegion(off, size, true);
  if (e == 0) return 0;
  if (load<u32>(e, 8) & A.REGION_CTX) {
    // The verifier refuses atomics on the context ("BPF_ATOMIC stores into R1 ctx is not allowed").
    setFault(A.FAULT_CTX_WRITE, off, size);
    return 0;
  }
  if ((load<u32>(e, 8) & A.REGION_READ) == 0) {
    store<i32>(CTRL + A.CB_FAULT_AUX, <i32>((e - <usize>load<u32>(CTRL + A.CB_REGIONS)) / A.REGION_SIZE));
    setFault(A.FAULT_READ_DENIED, off, size);
    return 0;
  }
  return <usize>off;
}

// ---- fast memory access (inlined in the loop) ----

@inline
function ld(off: u64, size: i32): u64 {
  if (off - rLo <= rLen - <u64>size) return loadSized(<usize>off, size);
  return slowLoad(off, size);
}

@inline
function st(off: u64, size: i32, v: u64): void {
  if (off - wLo <= wLen - <u64>size) storeSized(<usize>off, size, v);
  else slowStore(off, size, v);
}

// ---- registers ----

@inline
function reg(r: usize): u64 {
  return load<u64>(CTRL + r);
}
@inline
function setReg(r: usize, v: u64): void {
  store<u64>(CTRL + r, v);
}

@inline
function progCode(prog: i32): usize {
  return <usize>load<u32>(<usize>load<u32>(CTRL + A.CB_PROGS) + <usize>prog * A.PROG_SIZE);
}

function frameTop(depth: i32): u64 {
  return VBASE + <u64>(STACK_TOP - <usize>depth * A.STACK_FRAME_SIZE);
}

function traceRecord(prog: i32, pc: i32, depth: i32): void {
  const buf = <usize>load<u32>(CTRL + A.CB_TRACE);
  const cap = load<u32>(CTRL + A.CB_TRACE_CAP);
  if (buf == 0 || cap == 0) return;
  const n = load<u32>(CTRL + A.CB_TRACE_N);
  const e = buf + <usize>(n % cap) * A.TRACE_ENTRY_SIZE;
  store<i32>(e, prog);
  store<i32>(e, pc, 4);
  store<i32>(e, depth, 8);
  memory.copy(e + 16, CTRL, 88);
  store<u32>(CTRL + A.CB_TRACE_N, n + 1);
}

// ---- entry points ----

/** Runs program `prog` from instruction 0 in frame 0. r1..r5 are already set by the host. */
/** The byte uninitialised stack reads as (setStackFill); see run(). */
let stackFill: u8 = 0xcc;

export function setStackFill(value: i32): void {
  stackFill = <u8>value;
}

export function run(prog: i32, traced: i32): i32 {
  faulted = 0;
  store<i32>(CTRL + A.CB_FAULT, 0);
  store<i32>(CTRL + A.CB_TAIL, -1);
  store<i32>(CTRL + A.CB_DEPTH, 0);
  store<u32>(CTRL + A.CB_TRACE_N, 0);
  // The kernel does not clear the stack, and a program loaded by root may read stack bytes it
  // never wrote (env->allow_uninit_stack in kernel/bpf/verifier.c): it gets whatever was there.
  // We fill it with one poison byte every run, so that a run never depends on an earlier one
  // and a program that reads uninitialised stack (a map key with unset padding) sees non-zero
  // garbage here too, as it would in the kernel, instead of a zero that hides the bug.
  memory.fill(STACKS, stackFill, A.STACK_FRAME_SIZE * A.MAX_FRAMES);
  setStackRegion(0);
  setReg(10 * 8, frameTop(0));
  return enter(prog, 0, 0, traced);
}

/**
 * Runs a subprogram in a new frame on top of the current one, from inside a host helper
 * (bpf_loop, bpf_for_each_map_elem callbacks). The host saved r0..r10 and set r1..r5.
 * The callback frame counts towards MAX_CALL_FRAMES as in the kernel (verifier.c,
 * push_callback_call).
 */
export function callNested(prog: i32, pc: i32, traced: i32): i32 {
  const outerDepth = load<i32>(CTRL + A.CB_DEPTH);
  const outerProg = load<i32>(CTRL + A.CB_PROG);
  const outerPc = load<i32>(CTRL + A.CB_PC);
  const depth = outerDepth + 1;
  if (depth >= A.MAX_FRAMES) {
    faulted = A.FAULT_CALL_DEPTH;
    store<i32>(CTRL + A.CB_FAULT, faulted);
    return faulted;
  }
  setStackRegion(depth);
  setReg(10 * 8, frameTop(depth));
  const status = enter(prog, pc, depth, traced);
  if (status != 0) return status;
  store<i32>(CTRL + A.CB_DEPTH, outerDepth);
  store<i32>(CTRL + A.CB_PROG, outerProg);
  store<i32>(CTRL + A.CB_PC, outerPc);
  setStackRegion(outerDepth);
  return 0;
}

function enter(prog: i32, pc: i32, depth: i32, traced: i32): i32 {
  return traced != 0 ? interp<u16>(prog, pc, depth) : interp<u8>(prog, pc, depth);
}

/** Records where the loop stopped; returns the fault code (0 after a normal exit). */
function leave(prog: i32, pc: i32, depth: i32, left: i64): i32 {
  store<i32>(CTRL + A.CB_PROG, prog);
  store<i32>(CTRL + A.CB_PC, pc);
  store<i32>(CTRL + A.CB_DEPTH, depth);
  store<i64>(CTRL + A.CB_LEFT, left);
  store<i32>(CTRL + A.CB_FAULT, faulted);
  return faulted;
}

/** Pops a BPF-to-BPF call frame (kernel: return from the callee's ___bpf_prog_run). */
function popFrame(depth: i32): void {
  const f = FRAMES + <usize>depth * A.FRAME_SIZE;
  memory.copy(CTRL + 6 * 8, f + 16, 32);
  setReg(10 * 8, frameTop(depth));
  setStackRegion(depth);
}

/**
 * The interpreter loop. T = u16 records a trace, T = u8 does not; the two are compiled as two
 * functions so the untraced loop carries no trace test.
 */
function interp<T>(prog: i32, pc: i32, baseDepth: i32): i32 {
  const traced = sizeof<T>() == 2;
  let depth = baseDepth;
  let code = progCode(prog);
  let left = load<i64>(CTRL + A.CB_LEFT);
  while (true) {
    const p = code + (<usize>pc << A.REC_SHIFT);
    // Budget: one decrement and test per instruction (RunOptions.budget).
    if (--left < 0) {
      left = 0;
      faulted = A.FAULT_BUDGET;
      return leave(prog, pc, depth, left);
    }
    const at = pc;
    const atDepth = depth;
    const atProg = prog;
    const head = load<u32>(p);
    const d = <usize>((head >> 8) & 0xff);
    switch (<i32>(head & 0xff)) {
      // ---- ALU64 (RFC 9669 §4.1) ----
      case A.ADD64_K: setReg(d, reg(d) + load<u64>(p, A.REC_IMM)); pc++; break;
      case A.ADD64_X: setReg(d, reg(d) + reg(<usize>load<u8>(p, A.REC_SRC))); pc++; break;
      case A.SUB64_K: setReg(d, reg(d) - load<u64>(p, A.REC_IMM)); pc++; break;
      case A.SUB64_X: setReg(d, reg(d) - reg(<usize>load<u8>(p, A.REC_SRC))); pc++; break;
      case A.MUL64_K: setReg(d, reg(d) * load<u64>(p, A.REC_IMM)); pc++; break;
      case A.MUL64_X: setReg(d, reg(d) * reg(<usize>load<u8>(p, A.REC_SRC))); pc++; break;
      case A.DIV64_K: setReg(d, div64(reg(d), load<u64>(p, A.REC_IMM))); pc++; break;
      case A.DIV64_X: setReg(d, div64(reg(d), reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.SDIV64_K: setReg(d, sdiv64(reg(d), load<u64>(p, A.REC_IMM))); pc++; break;
      case A.SDIV64_X: setReg(d, sdiv64(reg(d), reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.MOD64_K: setReg(d, mod64(reg(d), load<u64>(p, A.REC_IMM))); pc++; break;
      case A.MOD64_X: setReg(d, mod64(reg(d), reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.SMOD64_K: setReg(d, smod64(reg(d), load<u64>(p, A.REC_IMM))); pc++; break;
      case A.SMOD64_X: setReg(d, smod64(reg(d), reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.OR64_K: setReg(d, reg(d) | load<u64>(p, A.REC_IMM)); pc++; break;
      case A.OR64_X: setReg(d, reg(d) | reg(<usize>load<u8>(p, A.REC_SRC))); pc++; break;
      case A.AND64_K: setReg(d, reg(d) & load<u64>(p, A.REC_IMM)); pc++; break;
      case A.AND64_X: setReg(d, reg(d) & reg(<usize>load<u8>(p, A.REC_SRC))); pc++; break;
      case A.XOR64_K: setReg(d, reg(d) ^ load<u64>(p, A.REC_IMM)); pc++; break;
      case A.XOR64_X: setReg(d, reg(d) ^ reg(<usize>load<u8>(p, A.REC_SRC))); pc++; break;
      // Shift counts are masked as the kernel interpreter does (core.c, SHT(): "DST = DST OP
      // (SRC & 63)" and "(u32) DST OP ((u32) SRC & 31)"); wasm shifts mask the same way.
      case A.LSH64_K: setReg(d, reg(d) << (load<u64>(p, A.REC_IMM) & 63)); pc++; break;
      case A.LSH64_X: setReg(d, reg(d) << (reg(<usize>load<u8>(p, A.REC_SRC)) & 63)); pc++; break;
      case A.RSH64_K: setReg(d, reg(d) >> (load<u64>(p, A.REC_IMM) & 63)); pc++; break;
      case A.RSH64_X: setReg(d, reg(d) >> (reg(<usize>load<u8>(p, A.REC_SRC)) & 63)); pc++; break;
      case A.ARSH64_K: setReg(d, <u64>(<i64>reg(d) >> <i64>(load<u64>(p, A.REC_IMM) & 63))); pc++; break;
      case A.ARSH64_X: setReg(d, <u64>(<i64>reg(d) >> <i64>(reg(<usize>load<u8>(p, A.REC_SRC)) & 63))); pc++; break;
      case A.MOV64_K: setReg(d, load<u64>(p, A.REC_IMM)); pc++; break;
      case A.MOV64_X: setReg(d, reg(<usize>load<u8>(p, A.REC_SRC))); pc++; break;
      case A.NEG64: setReg(d, 0 - reg(d)); pc++; break;
      case A.MOVSX64_8: setReg(d, <u64>(<i64>(<i8>reg(<usize>load<u8>(p, A.REC_SRC))))); pc++; break;
      case A.MOVSX64_16: setReg(d, <u64>(<i64>(<i16>reg(<usize>load<u8>(p, A.REC_SRC))))); pc++; break;
      case A.MOVSX64_32: setReg(d, <u64>(<i64>(<i32>reg(<usize>load<u8>(p, A.REC_SRC))))); pc++; break;

      // ---- ALU32: operate on the low halves, zero-extend the result (RFC 9669 §4.1) ----
      case A.ADD32_K: setReg(d, <u64>(<u32>reg(d) + load<u32>(p, A.REC_IMM))); pc++; break;
      case A.ADD32_X: setReg(d, <u64>(<u32>reg(d) + <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.SUB32_K: setReg(d, <u64>(<u32>reg(d) - load<u32>(p, A.REC_IMM))); pc++; break;
      case A.SUB32_X: setReg(d, <u64>(<u32>reg(d) - <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.MUL32_K: setReg(d, <u64>(<u32>reg(d) * load<u32>(p, A.REC_IMM))); pc++; break;
      case A.MUL32_X: setReg(d, <u64>(<u32>reg(d) * <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.DIV32_K: setReg(d, div32(<u32>reg(d), load<u32>(p, A.REC_IMM))); pc++; break;
      case A.DIV32_X: setReg(d, div32(<u32>reg(d), <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.SDIV32_K: setReg(d, sdiv32(<u32>reg(d), load<u32>(p, A.REC_IMM))); pc++; break;
      case A.SDIV32_X: setReg(d, sdiv32(<u32>reg(d), <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.MOD32_K: setReg(d, mod32(<u32>reg(d), load<u32>(p, A.REC_IMM))); pc++; break;
      case A.MOD32_X: setReg(d, mod32(<u32>reg(d), <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.SMOD32_K: setReg(d, smod32(<u32>reg(d), load<u32>(p, A.REC_IMM))); pc++; break;
      case A.SMOD32_X: setReg(d, smod32(<u32>reg(d), <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.OR32_K: setReg(d, <u64>(<u32>reg(d) | load<u32>(p, A.REC_IMM))); pc++; break;
      case A.OR32_X: setReg(d, <u64>(<u32>reg(d) | <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.AND32_K: setReg(d, <u64>(<u32>reg(d) & load<u32>(p, A.REC_IMM))); pc++; break;
      case A.AND32_X: setReg(d, <u64>(<u32>reg(d) & <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.XOR32_K: setReg(d, <u64>(<u32>reg(d) ^ load<u32>(p, A.REC_IMM))); pc++; break;
      case A.XOR32_X: setReg(d, <u64>(<u32>reg(d) ^ <u32>reg(<usize>load<u8>(p, A.REC_SRC)))); pc++; break;
      case A.LSH32_K: setReg(d, <u64>(<u32>reg(d) << (load<u32>(p, A.REC_IMM) & 31))); pc++; break;
      case A.LSH32_X: setReg(d, <u64>(<u32>reg(d) << (<u32>reg(<usize>load<u8>(p, A.REC_SRC)) & 31))); pc++; break;
      case A.RSH32_K: setReg(d, <u64>(<u32>reg(d) >> (load<u32>(p, A.REC_IMM) & 31))); pc++; break;
      case A.RSH32_X: setReg(d, <u64>(<u32>reg(d) >> (<u32>reg(<usize>load<u8>(p, A.REC_SRC)) & 31))); pc++; break;
      case A.ARSH32_K: setReg(d, <u64>(<u32>(<i32>reg(d) >> <i32>(load<u32>(p, A.REC_IMM) & 31)))); pc++; break;
      case A.ARSH32_X: setReg(d, <u64>(<u32>(<i32>reg(d) >> <i32>(<u32>reg(<usize>load<u8>(p, A.REC_SRC)) & 31)))); pc++; break;
      case A.MOV32_K: setReg(d, <u64>load<u32>(p, A.REC_IMM)); pc++; break;
      case A.MOV32_X: setReg(d, <u64><u32>reg(<usize>load<u8>(p, A.REC_SRC))); pc++; break;
      case A.NEG32: setReg(d, <u64>(<u32>0 - <u32>reg(d))); pc++; break;
      case A.MOVSX32_8: setReg(d, <u64><u32>(<i32>(<i8>reg(<usize>load<u8>(p, A.REC_SRC))))); pc++; break;
      case A.MOVSX32_16: setReg(d, <u64><u32>(<i32>(<i16>reg(<usize>load<u8>(p, A.REC_SRC))))); pc++; break;

      // ---- byte order (RFC 9669 §4.2); the host is little-endian like x86 and arm64 ----
      case A.LE16: setReg(d, reg(d) & 0xffff); pc++; break;
      case A.LE32: setReg(d, reg(d) & 0xffff_ffff); pc++; break;
      case A.LE64: pc++; break;
      case A.BSWAP16: setReg(d, <u64>bswap<u16>(<u16>reg(d))); pc++; break;
      case A.BSWAP32: setReg(d, <u64>bswap<u32>(<u32>reg(d))); pc++; break;
      case A.BSWAP64: setReg(d, bswap<u64>(reg(d))); pc++; break;

      // ---- jumps (RFC 9669 §4.3); targets were made absolute at decode ----
      case A.JA: pc = load<i32>(p, A.REC_OFF); break;
      case A.JEQ64_K: pc = reg(d) == load<u64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JEQ64_X: pc = reg(d) == reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JNE64_K: pc = reg(d) != load<u64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JNE64_X: pc = reg(d) != reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JGT64_K: pc = reg(d) > load<u64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JGT64_X: pc = reg(d) > reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JGE64_K: pc = reg(d) >= load<u64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JGE64_X: pc = reg(d) >= reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JLT64_K: pc = reg(d) < load<u64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JLT64_X: pc = reg(d) < reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JLE64_K: pc = reg(d) <= load<u64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JLE64_X: pc = reg(d) <= reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSGT64_K: pc = <i64>reg(d) > load<i64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSGT64_X: pc = <i64>reg(d) > <i64>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSGE64_K: pc = <i64>reg(d) >= load<i64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSGE64_X: pc = <i64>reg(d) >= <i64>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSLT64_K: pc = <i64>reg(d) < load<i64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSLT64_X: pc = <i64>reg(d) < <i64>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSLE64_K: pc = <i64>reg(d) <= load<i64>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSLE64_X: pc = <i64>reg(d) <= <i64>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSET64_K: pc = (reg(d) & load<u64>(p, A.REC_IMM)) != 0 ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSET64_X: pc = (reg(d) & reg(<usize>load<u8>(p, A.REC_SRC))) != 0 ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JEQ32_K: pc = <u32>reg(d) == load<u32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JEQ32_X: pc = <u32>reg(d) == <u32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JNE32_K: pc = <u32>reg(d) != load<u32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JNE32_X: pc = <u32>reg(d) != <u32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JGT32_K: pc = <u32>reg(d) > load<u32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JGT32_X: pc = <u32>reg(d) > <u32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JGE32_K: pc = <u32>reg(d) >= load<u32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JGE32_X: pc = <u32>reg(d) >= <u32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JLT32_K: pc = <u32>reg(d) < load<u32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JLT32_X: pc = <u32>reg(d) < <u32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JLE32_K: pc = <u32>reg(d) <= load<u32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JLE32_X: pc = <u32>reg(d) <= <u32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSGT32_K: pc = <i32>reg(d) > load<i32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSGT32_X: pc = <i32>reg(d) > <i32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSGE32_K: pc = <i32>reg(d) >= load<i32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSGE32_X: pc = <i32>reg(d) >= <i32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSLT32_K: pc = <i32>reg(d) < load<i32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSLT32_X: pc = <i32>reg(d) < <i32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSLE32_K: pc = <i32>reg(d) <= load<i32>(p, A.REC_IMM) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSLE32_X: pc = <i32>reg(d) <= <i32>reg(<usize>load<u8>(p, A.REC_SRC)) ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSET32_K: pc = (<u32>reg(d) & load<u32>(p, A.REC_IMM)) != 0 ? load<i32>(p, A.REC_OFF) : pc + 1; break;
      case A.JSET32_X: pc = (<u32>reg(d) & <u32>reg(<usize>load<u8>(p, A.REC_SRC))) != 0 ? load<i32>(p, A.REC_OFF) : pc + 1; break;

      // ---- calls ----
      case A.CALL_HELPER: {
        const id = load<i32>(p, A.REC_IMM);
        store<i32>(CTRL + A.CB_PROG, prog);
        store<i32>(CTRL + A.CB_PC, pc);
        store<i32>(CTRL + A.CB_DEPTH, depth);
        store<i64>(CTRL + A.CB_LEFT, left);
        store<i32>(CTRL + A.CB_HELPER, id);
        const kind = <u32>id < <u32>A.HELPERS_MAX ? load<u8>(KINDS + <usize>id) : 0;
        if (kind == A.HELPER_HOST) hostHelper(id);
        else if (kind == A.HELPER_NATIVE) nativeHelper(id, CTRL);
        else faulted = A.FAULT_HELPER;
        // A host helper may have run callbacks (sharing the budget) or changed regions.
        left = load<i64>(CTRL + A.CB_LEFT);
        if (faulted != 0) {
          if (load<i32>(CTRL + A.CB_FAULT) != 0) return faulted; // raised in a nested run
          return leave(prog, pc, depth, left);
        }
        const tail = load<i32>(CTRL + A.CB_TAIL);
        if (tail >= 0) {
          // bpf_tail_call: the target runs in the caller's frame with the same r1 and r10
          // (kernel/bpf/core.c JMP_TAIL_CALL: "goto select_insn" on the new program).
          store<i32>(CTRL + A.CB_TAIL, -1);
          prog = tail;
          code = progCode(prog);
          pc = 0;
        } else {
          pc++;
        }
        break;
      }
      case A.CALL_LOCAL:
      case A.CALLX: {
        let target = load<i32>(p, A.REC_OFF);
        if (<i32>load<u8>(p, A.REC_OP) == A.CALLX) {
          // callx: the register holds a code address handed out by Machine.codeAddress.
          const rel = reg(d) - VBASE - <u64>code;
          const count = <u64>load<u32>(<usize>load<u32>(CTRL + A.CB_PROGS) + <usize>prog * A.PROG_SIZE, 4);
          if (
            (rel & (A.REC_SIZE - 1)) != 0 ||
            rel >= count << A.REC_SHIFT ||
            (load<u8>(code + <usize>rel, A.REC_FLAGS) & A.FLAG_FUNC_START) == 0
          ) {
            faulted = A.FAULT_BAD_CALLX;
            store<u64>(CTRL + A.CB_FAULT_ADDR, reg(d));
            store<i32>(CTRL + A.CB_FAULT_SIZE, 0);
            return leave(prog, pc, depth, left);
          }
          target = <i32>(rel >> A.REC_SHIFT);
        }
        // BPF-to-BPF call (RFC 9669 §4.3.2): a fresh 512-byte frame, r6..r9 kept for the caller,
        // at most MAX_CALL_FRAMES frames (verifier.c check_func_call: "the call stack of %d
        // frames is too deep").
        if (depth + 1 >= A.MAX_FRAMES) {
          faulted = A.FAULT_CALL_DEPTH;
          return leave(prog, pc, depth, left);
        }
        const f = FRAMES + <usize>depth * A.FRAME_SIZE;
        store<i32>(f, pc + 1);
        store<i32>(f, prog, 4);
        memory.copy(f + 16, CTRL + 6 * 8, 32);
        depth++;
        setReg(10 * 8, frameTop(depth));
        setStackRegion(depth);
        pc = target;
        break;
      }
      case A.EXIT: {
        if (depth == baseDepth) {
          if (traced) traceRecord(atProg, at, atDepth);
          return leave(prog, pc, depth, left);
        }
        depth--;
        const f = FRAMES + <usize>depth * A.FRAME_SIZE;
        pc = load<i32>(f);
        prog = load<i32>(f, 4);
        code = progCode(prog);
        popFrame(depth);
        break;
      }

      // ---- superinstructions (abi.ts IDX_LDX_*): mov, add, load in one dispatch ----
      case A.IDX_LDX_B:
      case A.IDX_LDX_H:
      case A.IDX_LDX_W:
      case A.IDX_LDX_DW: {
        const s = <usize>load<u8>(p, A.REC_SRC);
        if (traced || left < 2) {
          // One at a time: this record is the plain `rA = rB`.
          setReg(d, reg(s));
          pc++;
          break;
        }
        left -= 2; // the add and the load count as instructions of their own
        setReg(d, reg(s));
        setReg(d, reg(d) + reg(<usize>load<u8>(p, A.REC_SIZE + A.REC_SRC)));
        const off = reg(d) + <u64>load<i32>(p, 2 * A.REC_SIZE + A.REC_OFF) - VBASE;
        const op = <i32>load<u8>(p, A.REC_OP);
        let v: u64;
        if (op == A.IDX_LDX_B) v = ld(off, 1);
        else if (op == A.IDX_LDX_W) v = ld(off, 4);
        else if (op == A.IDX_LDX_DW) v = ld(off, 8);
        else v = ld(off, 2);
        if (faulted != 0) return leave(prog, pc + 2, depth, left);
        setReg(<usize>load<u8>(p, 2 * A.REC_SIZE + A.REC_DST), v);
        pc += 3;
        break;
      }

      case A.ADDK_JLT_X:
      case A.ADDK_JNE_X: {
        const v = reg(d) + load<u64>(p, A.REC_IMM);
        setReg(d, v);
        if (traced || left < 1) {
          pc++;
          break;
        }
        left -= 1; // the jump counts as an instruction of its own
        const other = reg(<usize>load<u8>(p, A.REC_SIZE + A.REC_SRC));
        const taken = <i32>load<u8>(p, A.REC_OP) == A.ADDK_JLT_X ? v < other : v != other;
        pc = taken ? load<i32>(p, A.REC_SIZE + A.REC_OFF) : pc + 2;
        break;
      }

      // ---- loads and stores (RFC 9669 §5) ----
      case A.LDDW: setReg(d, load<u64>(p, A.REC_IMM)); pc += 2; break;
      case A.LDX_B: {
        const v = ld(reg(<usize>load<u8>(p, A.REC_SRC)) + <u64>load<i32>(p, A.REC_OFF) - VBASE, 1);
        if (faulted != 0) return leave(prog, pc, depth, left);
        setReg(d, v);
        pc++;
        break;
      }
      case A.LDX_H:
      case A.LDX_W:
      case A.LDX_DW:
      case A.LDXS_B:
      case A.LDXS_H:
      case A.LDXS_W: {
        const op = <i32>load<u8>(p, A.REC_OP);
        const off = reg(<usize>load<u8>(p, A.REC_SRC)) + <u64>load<i32>(p, A.REC_OFF) - VBASE;
        let v: u64;
        if (op == A.LDX_W) v = ld(off, 4);
        else if (op == A.LDX_DW) v = ld(off, 8);
        else if (op == A.LDX_H) v = ld(off, 2);
        else if (op == A.LDXS_B) v = <u64>(<i64>(<i8>ld(off, 1)));
        else if (op == A.LDXS_H) v = <u64>(<i64>(<i16>ld(off, 2)));
        else v = <u64>(<i64>(<i32>ld(off, 4)));
        if (faulted != 0) return leave(prog, pc, depth, left);
        setReg(d, v);
        pc++;
        break;
      }
      case A.ST_B: st(reg(d) + <u64>load<i32>(p, A.REC_OFF) - VBASE, 1, load<u64>(p, A.REC_IMM)); if (faulted != 0) return leave(prog, pc, depth, left); pc++; break;
      case A.ST_H: st(reg(d) + <u64>load<i32>(p, A.REC_OFF) - VBASE, 2, load<u64>(p, A.REC_IMM)); if (faulted != 0) return leave(prog, pc, depth, left); pc++; break;
      case A.ST_W: st(reg(d) + <u64>load<i32>(p, A.REC_OFF) - VBASE, 4, load<u64>(p, A.REC_IMM)); if (faulted != 0) return leave(prog, pc, depth, left); pc++; break;
      case A.ST_DW: st(reg(d) + <u64>load<i32>(p, A.REC_OFF) - VBASE, 8, load<u64>(p, A.REC_IMM)); if (faulted != 0) return leave(prog, pc, depth, left); pc++; break;
      case A.STX_B: st(reg(d) + <u64>load<i32>(p, A.REC_OFF) - VBASE, 1, reg(<usize>load<u8>(p, A.REC_SRC))); if (faulted != 0) return leave(prog, pc, depth, left); pc++; break;
      case A.STX_H: st(reg(d) + <u64>load<i32>(p, A.REC_OFF) - VBASE, 2, reg(<usize>load<u8>(p, A.REC_SRC))); if (faulted != 0) return leave(prog, pc, depth, left); pc++; break;
      case A.STX_W: st(reg(d) + <u64>load<i32>(p, A.REC_OFF) - VBASE, 4, reg(<usize>load<u8>(p, A.REC_SRC))); if (faulted != 0) return leave(prog, pc, depth, left); pc++; break;
      case A.STX_DW: st(reg(d) + <u64>load<i32>(p, A.REC_OFF) - VBASE, 8, reg(<usize>load<u8>(p, A.REC_SRC))); if (faulted != 0) return leave(prog, pc, depth, left); pc++; break;

      // Legacy packet loads. The verifier rewrites them (net/core/filter.c bpf_gen_ld_abs) into a
      // call of bpf_skb_load_helper_{8,16,32} with offset = (int)(imm) or (int)(src + imm),
      // then "if r0 < 0 { r0 = 0; exit }": a load outside the packet ends the current function
      // with r0 = 0. Multi-byte loads are big-endian (network order). Negative offsets
      // (SKF_NET_OFF / SKF_LL_OFF) are not emulated and fail like an out-of-bounds load.
      case A.LDABS_B:
      case A.LDABS_H:
      case A.LDABS_W:
      case A.LDIND_B:
      case A.LDIND_H:
      case A.LDIND_W: {
        const op = <i32>load<u8>(p, A.REC_OP);
        let off = load<i32>(p, A.REC_IMM);
        if (op >= A.LDIND_B) off += <i32>reg(<usize>load<u8>(p, A.REC_SRC));
        const size: i32 = op == A.LDABS_B || op == A.LDIND_B ? 1 : op == A.LDABS_H || op == A.LDIND_H ? 2 : 4;
        const len = load<i32>(CTRL + A.CB_LDABS_LEN);
        if (off < 0 || off > len - size) {
          setReg(0, 0);
          if (depth == baseDepth) {
            if (traced) traceRecord(atProg, at, atDepth);
            return leave(prog, pc, depth, left);
          }
          depth--;
          const f = FRAMES + <usize>depth * A.FRAME_SIZE;
          pc = load<i32>(f);
          prog = load<i32>(f, 4);
          code = progCode(prog);
          popFrame(depth);
          break;
        }
        const at8 = <usize>load<u32>(CTRL + A.CB_LDABS_LO) + <usize>off;
        let v: u64;
        if (size == 1) v = <u64>load<u8>(at8);
        else if (size == 2) v = <u64>bswap<u16>(load<u16>(at8));
        else v = <u64>bswap<u32>(load<u32>(at8));
        setReg(0, v);
        pc++;
        break;
      }

      // Atomic read-modify-write (RFC 9669 §5.3; kernel core.c STX_ATOMIC_W/DW). The 32-bit
      // forms zero-extend what they load into a register.
      case A.ATOMIC_W:
      case A.ATOMIC_DW: {
        const size: i32 = <i32>load<u8>(p, A.REC_OP) == A.ATOMIC_W ? 4 : 8;
        const at8 = atomicAddr(reg(d) + <u64>load<i32>(p, A.REC_OFF) - VBASE, size);
        if (at8 == 0) return leave(prog, pc, depth, left);
        const s = <usize>load<u8>(p, A.REC_SRC);
        const old: u64 = size == 4 ? <u64>load<u32>(at8) : load<u64>(at8);
        const sv = reg(s);
        const aop = load<i32>(p, A.REC_IMM);
        let nv: u64 = old;
        switch (aop & ~1) {
          case 0x00: nv = old + sv; break; // BPF_ADD
          case 0x40: nv = old | sv; break; // BPF_OR
          case 0x50: nv = old & sv; break; // BPF_AND
          case 0xa0: nv = old ^ sv; break; // BPF_XOR
          case 0xe0: nv = sv; break; // BPF_XCHG
          case 0xf0: {
            // BPF_CMPXCHG: compare with r0, r0 = old value.
            const r0 = reg(0);
            if (size == 4 ? <u32>old == <u32>r0 : old == r0) nv = sv;
            setReg(0, old);
            break;
          }
        }
        if (size == 4) store<u32>(at8, <u32>nv);
        else store<u64>(at8, nv);
        if ((aop & 1) != 0 && aop != 0xf1) setReg(s, old);
        pc++;
        break;
      }
      default: {
        // Unreachable after validation (an lddw's second slot is never a jump target).
        faulted = A.FAULT_HELPER;
        return leave(prog, pc, depth, left);
      }
    }
    if (traced) traceRecord(atProg, at, atDepth);
  }
  return 0;
}

// ---- division and modulo with the kernel's edge cases ----
// Unsigned: x / 0 = 0, x % 0 = x (RFC 9669 §4.1; kernel do_misc_fixups). Signed (off = 1):
// the same for 0, and the kernel special-cases -1 so that LLONG_MIN / -1 = LLONG_MIN and
// x % -1 = 0 (do_misc_fixups "sdiv/smod by -1"), which RFC 9669 leaves to the host.

@inline function div64(a: u64, b: u64): u64 { return b == 0 ? 0 : a / b; }
@inline function mod64(a: u64, b: u64): u64 { return b == 0 ? a : a % b; }
@inline function sdiv64(a: u64, b: u64): u64 {
  if (b == 0) return 0;
  if (b == <u64>-1) return 0 - a;
  return <u64>(<i64>a / <i64>b);
}
@inline function smod64(a: u64, b: u64): u64 {
  if (b == 0) return a;
  if (b == <u64>-1) return 0;
  return <u64>(<i64>a % <i64>b);
}
@inline function div32(a: u32, b: u32): u64 { return b == 0 ? 0 : <u64>(a / b); }
@inline function mod32(a: u32, b: u32): u64 { return b == 0 ? <u64>a : <u64>(a % b); }
@inline function sdiv32(a: u32, b: u32): u64 {
  if (b == 0) return 0;
  if (b == <u32>-1) return <u64>(<u32>0 - a);
  return <u64><u32>(<i32>a / <i32>b);
}
@inline function smod32(a: u32, b: u32): u64 {
  if (b == 0) return <u64>a;
  if (b == <u32>-1) return 0;
  return <u64><u32>(<i32>a % <i32>b);
}
