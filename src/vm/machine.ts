// The host side of the wasm BPF VM: instantiates the interpreter (assembly/, embedded as base64),
// owns its linear memory (allocator, regions), loads programs (validate, then decode into
// records), dispatches host helpers and runs programs. Browser-safe.
import type { Insn } from '../asm/insn.js';
import { helperName as kernelHelperName } from '../helpers/names.js';
import * as A from './abi.js';
import { Heap, roundUp } from './heap.js';
import { functionStarts, fuseSuperinstructions, writeRecords } from './decode.js';
import { describeInsn, formatFault, type RegionInfo } from './fault.js';
import {
  DEFAULT_INSN_BUDGET,
  VBASE,
  type CtxAccessTable,
  type Fault,
  type FaultCode,
  type HelperCall,
  type HostHelper,
  type LoadProgramOptions,
  type RegionOptions,
  type RunOptions,
  type RunResult,
  type TraceEntry,
} from './types.js';
import { validateProgram, type ValidationProblem } from './validate.js';
import { wasmBytes } from './wasm-bytes.generated.js';

const PAGE = 65536;
/** The VM module is compiled once per process (or page); each Machine gets its own instance. */
let compiled: Promise<WebAssembly.Module> | undefined;
const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

/** A program was refused at load; the message names program, instruction, disassembly, problem. */
export class ProgramLoadError extends Error {
  constructor(
    readonly progName: string,
    readonly problems: readonly ValidationProblem[],
    insns: readonly Insn[],
  ) {
    const lines = problems
      .slice(0, 20)
      .map((p) => `  insn ${p.insnIndex}: ${describeInsn(insns, p.insnIndex)}: ${p.message}`);
    if (problems.length > 20) lines.push(`  ... and ${problems.length - 20} more`);
    super(`program ${progName} cannot be loaded:\n${lines.join('\n')}`);
    this.name = 'ProgramLoadError';
  }
}

/**
 * Thrown by a host helper to stop the run with a fault, for misuse the kernel's verifier would
 * have refused (e.g. a map helper given something that is not a map), or `tail_call_limit`.
 * The message becomes the fault's detail.
 */
export class HelperFault extends Error {
  constructor(
    readonly code: FaultCode,
    message: string,
  ) {
    super(message);
    this.name = 'HelperFault';
  }
}

/**
 * r1..r5 and r0 of the helper call in progress, for fast host helpers: registers are read as
 * unsigned 32-bit halves and r0 written the same way, so a call allocates no BigInt and no
 * argument tuple. The Machine keeps one instance and re-points it when the memory grows; a
 * helper must not keep `u32` or `words` across anything that may allocate VM memory.
 */
export class HelperArgs {
  /** @internal The whole VM memory as u32 words, and the index of r0's low word in it. */
  u32: Uint32Array;
  /** @internal The same memory as u64 words; `base >> 1` is r0. */
  words: BigUint64Array;
  constructor(
    u32: Uint32Array,
    words: BigUint64Array,
    readonly base: number,
  ) {
    this.u32 = u32;
    this.words = words;
  }

  /** Low 32 bits of r`i` (unsigned). */
  lo(i: number): number {
    return this.u32[this.base + 2 * i];
  }

  /** High 32 bits of r`i` (unsigned). */
  hi(i: number): number {
    return this.u32[this.base + 2 * i + 1];
  }

  /** r`i` as an unsigned 64-bit value (allocates; for the rare paths). */
  big(i: number): bigint {
    return this.words[(this.base >> 1) + i];
  }

  /** r0 = hi:lo (each taken modulo 2^32). */
  setR0(lo: number, hi: number): void {
    this.u32[this.base] = lo;
    this.u32[this.base + 1] = hi;
  }

  /** r0 = v modulo 2^64. */
  setR0Big(v: bigint): void {
    this.words[this.base >> 1] = v;
  }
}

/**
 * A host helper on the fast path (Machine.setFastHelper): reads r1..r5 from `args`, writes r0
 * there before returning. Same rules as a HostHelper otherwise (throw HelperFault to fault).
 */
export type FastHostHelper = (args: HelperArgs) => void;

/** Thrown through a host helper when a nested BPF run (callSubprogram) faulted. */
class NestedFault extends Error {
  constructor() {
    super('a BPF callback faulted; the run stops');
  }
}

interface Region extends RegionInfo {
  ctx?: { table: number; tableSize: number; access: CtxAccessTable };
}

interface Program {
  id: number;
  name: string;
  insns: readonly Insn[];
  code: number;
  funcStarts: Set<number>;
  sourceLine?: LoadProgramOptions['sourceLine'];
}

interface WasmExports {
  memory: WebAssembly.Memory;
  ctrlBase(): number;
  helperKinds(): number;
  heapBase(): number;
  stackTop(): number;
  resetCache(): void;
  run(prog: number, traced: number): number;
  callNested(prog: number, pc: number, traced: number): number;
  setStackFill(value: number): void;
}

const FAULT_CODES: Record<number, FaultCode> = {
  [A.FAULT_READ_OOB]: 'read_oob',
  [A.FAULT_WRITE_OOB]: 'write_oob',
  [A.FAULT_CTX_READ]: 'ctx_read',
  [A.FAULT_CTX_WRITE]: 'ctx_write',
  [A.FAULT_BUDGET]: 'budget',
  [A.FAULT_CALL_DEPTH]: 'call_depth',
  [A.FAULT_HELPER]: 'helper',
  [A.FAULT_BAD_CALLX]: 'bad_callx',
  [A.FAULT_READ_DENIED]: 'read_denied',
  [A.FAULT_WRITE_DENIED]: 'write_denied',
  [A.FAULT_ABORTED]: 'helper',
};

export class Machine {
  private readonly wasm: WasmExports;
  private readonly ctrl: number;
  private view!: DataView;
  private heap!: Heap;
  /** Blocks holding VM-internal state (offset → size). */
  private readonly internal = new Map<number, number>();
  private heapStart = 0;
  private readonly regionMap = new Map<number, Region>();
  private regionOrder: Region[] = [];
  private regionTable = 0;
  private regionTableCap = 0;
  private nextRegionId = 1;
  private readonly programs: Program[] = [];
  private progTable = 0;
  private progTableCap = 0;
  /** Host helpers by helper number (arrays: a Map lookup per call costs more). */
  private readonly hostHelpers: (HostHelper | undefined)[] = [];
  private readonly fastHelpers: (FastHostHelper | undefined)[] = [];
  private helperArgs!: HelperArgs;
  private running = false;
  private traced = 0;
  private helperError: unknown;
  private tailCalls = 0;
  private ldAbsRegionId: number | undefined;
  private regWordsView!: BigUint64Array;
  private ctlWordsView!: Int32Array;

  private constructor(instance: WebAssembly.Instance) {
    this.wasm = instance.exports as unknown as WasmExports;
    this.ctrl = this.wasm.ctrlBase();
  }

  /** Instantiates a fresh VM with its own memory. */
  /**
   * `stackFill`: the byte stack memory holds at the start of every run (default 0xcc). The
   * kernel leaves whatever was there, and root-loaded programs may read it; a non-zero poison
   * makes a program that uses uninitialised stack (unset key padding) misbehave here as it
   * would there. 0 gives a zeroed stack.
   */
  static async create(opts: { memoryPages?: number; stackFill?: number } = {}): Promise<Machine> {
    let machine: Machine | undefined;
    const imports = {
      env: {
        hostHelper: (id: number): void => machine!.dispatchHelper(id),
        abort: (): never => {
          throw new Error('internal: the VM aborted');
        },
      },
    };
    compiled ??= WebAssembly.compile(wasmBytes() as Uint8Array<ArrayBuffer>);
    const module = await compiled;
    const instance = await WebAssembly.instantiate(module, imports);
    machine = new Machine(instance);
    machine.init(opts.memoryPages ?? 0);
    if (opts.stackFill !== undefined) machine.wasm.setStackFill(opts.stackFill & 0xff);
    return machine;
  }

  private init(memoryPages: number): void {
    const mem = this.wasm.memory;
    const have = mem.buffer.byteLength / PAGE;
    if (memoryPages > have) mem.grow(memoryPages - have);
    this.refreshBuffer();
    const heap = roundUp(this.wasm.heapBase(), 16);
    this.heapStart = heap;
    this.heap = new Heap(heap, mem.buffer.byteLength, (bytes) => this.growMemory(bytes));
    // Region 0: the stack, maintained by the VM as call depth changes.
    const stackTop = this.wasm.stackTop();
    const stack: Region = {
      id: 0,
      kind: 'stack',
      name: 'stack',
      offset: stackTop - A.STACK_FRAME_SIZE,
      length: A.STACK_FRAME_SIZE,
      start: VBASE + BigInt(stackTop - A.STACK_FRAME_SIZE),
      read: true,
      write: true,
    };
    this.regionMap.set(0, stack);
    this.writeRegionTable();
    this.ensureProgTable(8);
    this.dv().setInt32(this.ctrl + A.CB_TAIL, -1, true);
  }

  // ---- memory ----

  /**
   * The current memory buffer. Only this class grows the memory (the wasm side never allocates),
   * so it is refreshed after each grow instead of asking `memory.buffer`, which is slow, on
   * every helper call.
   */
  private buffer!: ArrayBuffer;

  private refreshBuffer(): void {
    this.buffer = this.wasm.memory.buffer;
    this.byteView = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
    this.regWordsView = new BigUint64Array(this.buffer);
    this.ctlWordsView = new Int32Array(this.buffer);
    const u32 = new Uint32Array(this.buffer);
    if (this.helperArgs) {
      this.helperArgs.u32 = u32;
      this.helperArgs.words = this.regWordsView;
    } else {
      this.helperArgs = new HelperArgs(u32, this.regWordsView, this.ctrl >> 2);
    }
  }

  private dv(): DataView {
    return this.view;
  }

  /** bytes(): one view per buffer, so that helpers and maps see the same object (cheap identity checks). */
  private byteView!: Uint8Array;

  /**
   * A view of the whole VM memory (take a fresh one after any allocation: memory may grow). The
   * same object until the memory grows.
   */
  bytes(): Uint8Array {
    return this.byteView;
  }

  /** Allocates `size` zeroed bytes aligned to `alignment` (default 8); returns the wasm offset. */
  alloc(size: number, alignment = 8): number {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`alloc: bad size ${size}`);
    if (alignment <= 0 || (alignment & (alignment - 1)) !== 0) throw new RangeError(`alloc: bad alignment ${alignment}`);
    const off = this.heap.alloc(size, alignment);
    this.bytes().fill(0, off, off + this.heap.sizeOf(off)!);
    return off;
  }

  /** Grows the wasm memory by at least `bytes` (doubling when it can). */
  private growMemory(bytes: number): { oldEnd: number; newEnd: number } {
    const mem = this.wasm.memory;
    const oldEnd = mem.buffer.byteLength;
    try {
      mem.grow(Math.max(Math.ceil(bytes / PAGE), oldEnd / PAGE));
    } catch {
      mem.grow(Math.ceil(bytes / PAGE));
    }
    this.refreshBuffer();
    return { oldEnd, newEnd: mem.buffer.byteLength };
  }

  /** Frees a block returned by alloc. No region may still cover it. */
  free(off: number): void {
    if (this.internal.has(off)) throw new Error(`free: 0x${off.toString(16)} belongs to the VM`);
    const size = this.heap.sizeOf(off) ?? 0;
    for (const r of this.regionMap.values()) {
      if (r.id !== 0 && r.offset < off + size && off < r.offset + r.length) {
        throw new Error(`free: region ${r.id} (${r.name}) still covers 0x${off.toString(16)}; remove it first`);
      }
    }
    this.heap.free(off);
  }

  toVirtual(off: number): bigint {
    return VBASE + BigInt(off);
  }

  toOffset(addr: bigint): number | undefined {
    const rel = U64(addr) - VBASE;
    if (rel < 0n || rel >= BigInt(this.buffer.byteLength)) return undefined;
    return Number(rel);
  }

  // ---- regions ----

  addRegion(off: number, len: number, opts: RegionOptions): number {
    this.checkRange(off, len, 'addRegion');
    if (opts.kind === 'ctx') throw new Error('addRegion: use addCtxRegion for context regions');
    const id = this.nextRegionId++;
    this.regionMap.set(id, {
      id,
      kind: opts.kind,
      name: opts.name,
      offset: off,
      length: len,
      start: VBASE + BigInt(off),
      read: opts.read,
      write: opts.write,
    });
    this.writeRegionTable();
    return id;
  }

  addCtxRegion(off: number, len: number, name: string, table: CtxAccessTable): number {
    this.checkRange(off, len, 'addCtxRegion');
    if (table.readSizes.length !== len || table.writeSizes.length !== len) {
      throw new Error(`addCtxRegion ${name}: access tables must have ${len} entries (one per byte)`);
    }
    const tableSize = roundUp(3 * len, 8) + 8 * len;
    const t = this.allocInternal(tableSize);
    const bytes = this.bytes();
    bytes.set(table.readSizes, t);
    bytes.set(table.writeSizes, t + len);
    const id = this.nextRegionId++;
    const region: Region = {
      id,
      kind: 'ctx',
      name,
      offset: off,
      length: len,
      start: VBASE + BigInt(off),
      read: true,
      write: true,
      ctx: { table: t, tableSize, access: table },
    };
    this.regionMap.set(id, region);
    for (const f of table.pointerFields) this.setPointerField(id, f.offset, f.value);
    this.writeRegionTable();
    return id;
  }

  /** A pointer field of a context: loads at `offset` yield `value` (e.g. __sk_buff.data). */
  setPointerField(regionId: number, offset: number, value: bigint): void {
    const r = this.regionMap.get(regionId);
    if (!r?.ctx) throw new Error(`setPointerField: region ${regionId} is not a context region`);
    if (!Number.isInteger(offset) || offset < 0 || offset >= r.length) {
      throw new RangeError(`setPointerField: offset ${offset} outside ${r.name} (${r.length} bytes)`);
    }
    const t = r.ctx.table;
    const dv = this.dv();
    dv.setUint8(t + 2 * r.length + offset, 1);
    dv.setBigUint64(t + roundUp(3 * r.length, 8) + 8 * offset, U64(value), true);
  }

  resizeRegion(id: number, off: number, len: number): void {
    const r = this.regionMap.get(id);
    if (!r || id === 0) throw new Error(`resizeRegion: no region ${id}`);
    if (r.ctx && len !== r.length) throw new Error(`resizeRegion: context region ${r.name} cannot change size`);
    this.checkRange(off, len, 'resizeRegion');
    r.offset = off;
    r.length = len;
    r.start = VBASE + BigInt(off);
    // Packets change size on almost every run: rewrite this region's entry only, not the table.
    const index = this.regionOrder.indexOf(r);
    if (index < 0) {
      this.writeRegionTable();
      return;
    }
    const dv = this.dv();
    const e = this.regionTable + index * A.REGION_SIZE;
    dv.setUint32(e, off, true);
    dv.setUint32(e + 4, len, true);
    if (this.running && this.ldAbsRegionId === id) {
      dv.setUint32(this.ctrl + A.CB_LDABS_LO, off, true);
      dv.setUint32(this.ctrl + A.CB_LDABS_LEN, len, true);
    }
    this.wasm.resetCache();
  }

  removeRegion(id: number): void {
    const r = this.regionMap.get(id);
    if (!r || id === 0) throw new Error(`removeRegion: no region ${id}`);
    if (r.ctx) this.freeInternal(r.ctx.table);
    this.regionMap.delete(id);
    this.writeRegionTable();
  }

  /** Every region, stack first (for fault messages and tools). */
  regions(): RegionInfo[] {
    return [...this.regionMap.values()].map(({ ctx: _ctx, ...info }) => ({ ...info }));
  }

  /**
   * The region that holds [off, off + len) with the given permission, or undefined: how host
   * helpers check the pointers they are given (as check_helper_mem_access does) without the
   * copies regions() makes.
   */
  regionFor(off: number, len: number, access: 'read' | 'write'): RegionInfo | undefined {
    // regionOrder holds regionMap's values in its order (writeRegionTable runs after every
    // add and remove); an index loop spares the Map iterator a call, and helpers call this
    // several times per packet.
    const order = this.regionOrder;
    const write = access === 'write';
    for (let i = 0; i < order.length; i++) {
      const r = order[i];
      if (r.id === 0 && this.running) {
        // While a program runs, the stack region is every active frame (the VM moves its lower
        // bound with the call depth, assembly/index.ts setStackRegion): a helper called from a
        // BPF-to-BPF subprogram may be given a pointer into that subprogram's own frame, or a
        // caller's (kernel/bpf/verifier.c check_stack_range_initialized accepts any active one).
        const lo = this.ctlWordsView[this.regionTable >> 2] >>> 0;
        const top = this.wasm.stackTop();
        if (off >= lo && off + len <= top) return lo === r.offset ? r : { ...r, offset: lo, length: top - lo, start: VBASE + BigInt(lo) };
        continue;
      }
      if (off >= r.offset && off + len <= r.offset + r.length && (write ? r.write : r.read)) return r;
    }
    return undefined;
  }

  private checkRange(off: number, len: number, what: string): void {
    if (!Number.isInteger(off) || !Number.isInteger(len) || off < this.heapStart || len < 0 || off + len > this.buffer.byteLength) {
      throw new RangeError(`${what}: [${off}, ${off + len}) is not inside the VM heap`);
    }
    // A region must never expose the VM's own state (decoded code, tables, trace buffers).
    for (const [start, size] of this.internal) {
      if (off < start + size && start < off + len) {
        throw new RangeError(`${what}: [${off}, ${off + len}) overlaps VM-internal memory`);
      }
    }
  }

  /** alloc for the VM's own use: never coverable by a region. */
  private allocInternal(size: number, alignment = 8): number {
    const off = this.alloc(size, alignment);
    this.internal.set(off, this.heap.sizeOf(off)!);
    return off;
  }

  private freeInternal(off: number): void {
    this.internal.delete(off);
    this.heap.free(off);
  }

  private writeRegionTable(): void {
    const order = [...this.regionMap.values()];
    const stackEntryLo = this.regionTable ? this.dv().getUint32(this.regionTable, true) : 0;
    if (order.length > this.regionTableCap) {
      const cap = Math.max(16, order.length * 2);
      const t = this.allocInternal(cap * A.REGION_SIZE);
      if (this.regionTable) this.freeInternal(this.regionTable);
      this.regionTable = t;
      this.regionTableCap = cap;
    }
    const dv = this.dv();
    order.forEach((r, i) => {
      const e = this.regionTable + i * A.REGION_SIZE;
      if (r.id === 0 && stackEntryLo !== 0 && this.running) {
        // The VM owns the stack entry while running (its bounds follow the call depth).
        dv.setUint32(e, stackEntryLo, true);
        dv.setUint32(e + 4, this.wasm.stackTop() - stackEntryLo, true);
      } else {
        dv.setUint32(e, r.offset, true);
        dv.setUint32(e + 4, r.length, true);
      }
      const flags = (r.read ? A.REGION_READ : 0) | (r.write ? A.REGION_WRITE : 0) | (r.ctx ? A.REGION_CTX : 0);
      dv.setUint32(e + 8, flags, true);
      dv.setUint32(e + 12, r.ctx?.table ?? 0, true);
    });
    this.regionOrder = order;
    // A helper may move or resize the packet (bpf_skb_change_tail...): LD_ABS follows it.
    if (this.running && this.ldAbsRegionId !== undefined) {
      const packet = this.regionMap.get(this.ldAbsRegionId);
      dv.setUint32(this.ctrl + A.CB_LDABS_LO, packet?.offset ?? 0, true);
      dv.setUint32(this.ctrl + A.CB_LDABS_LEN, packet?.length ?? 0, true);
    }
    dv.setUint32(this.ctrl + A.CB_REGIONS, this.regionTable, true);
    dv.setUint32(this.ctrl + A.CB_NREGIONS, order.length, true);
    this.wasm.resetCache();
  }

  // ---- programs ----

  /**
   * Validates and loads a linked program. Every lddw is a plain constant, except
   * BPF_PSEUDO_FUNC (src 4, imm = slot offset as in the kernel), which becomes the code address
   * of that function here, since code addresses exist only once the program is loaded.
   */
  loadProgram(insns: readonly Insn[], opts: LoadProgramOptions): number {
    const problems = validateProgram(insns, { helpers: opts.helpers, helperName: kernelHelperName });
    if (problems.length > 0) throw new ProgramLoadError(opts.name, problems, insns);
    const id = this.programs.length;
    const code = this.allocInternal(insns.length * A.REC_SIZE, 16);
    const funcStarts = functionStarts(insns);
    writeRecords(this.dv(), code, insns, funcStarts, (index) => VBASE + BigInt(code + index * A.REC_SIZE));
    fuseSuperinstructions(this.dv(), code, insns.length);
    this.programs.push({ id, name: opts.name, insns: insns.map((i) => ({ ...i })), code, funcStarts, sourceLine: opts.sourceLine });
    this.ensureProgTable(this.programs.length);
    const dv = this.dv();
    dv.setUint32(this.progTable + id * A.PROG_SIZE, code, true);
    dv.setUint32(this.progTable + id * A.PROG_SIZE + 4, insns.length, true);
    return id;
  }

  private ensureProgTable(count: number): void {
    if (count <= this.progTableCap) {
      this.dv().setUint32(this.ctrl + A.CB_NPROGS, count, true);
      return;
    }
    const cap = Math.max(8, count * 2);
    const t = this.allocInternal(cap * A.PROG_SIZE);
    if (this.progTable) {
      this.bytes().copyWithin(t, this.progTable, this.progTable + this.progTableCap * A.PROG_SIZE);
      this.freeInternal(this.progTable);
    }
    this.progTable = t;
    this.progTableCap = cap;
    const dv = this.dv();
    dv.setUint32(this.ctrl + A.CB_PROGS, t, true);
    dv.setUint32(this.ctrl + A.CB_NPROGS, this.programs.length, true);
  }

  private program(progId: number, what: string): Program {
    const p = this.programs[progId];
    if (!p) throw new Error(`${what}: no program ${progId}`);
    return p;
  }

  /** Name of a loaded program. */
  programName(progId: number): string {
    return this.program(progId, 'programName').name;
  }

  /**
   * The code address of instruction `insnIndex` (for BPF_PSEUDO_FUNC lddw and callx). The
   * instruction becomes a valid callx / callback target.
   */
  codeAddress(progId: number, insnIndex: number): bigint {
    const p = this.program(progId, 'codeAddress');
    if (!Number.isInteger(insnIndex) || insnIndex < 0 || insnIndex >= p.insns.length) {
      throw new RangeError(`codeAddress: instruction ${insnIndex} is outside ${p.name} (${p.insns.length} slots)`);
    }
    p.funcStarts.add(insnIndex);
    const rec = p.code + insnIndex * A.REC_SIZE;
    const dv = this.dv();
    dv.setUint8(rec + A.REC_FLAGS, dv.getUint8(rec + A.REC_FLAGS) | A.FLAG_FUNC_START);
    return VBASE + BigInt(rec);
  }

  /** The program and instruction a code address points at, if it is one. */
  resolveCodeAddress(addr: bigint): { progId: number; insnIndex: number } | undefined {
    const off = this.toOffset(addr);
    if (off === undefined) return undefined;
    for (const p of this.programs) {
      const rel = off - p.code;
      if (rel >= 0 && rel < p.insns.length * A.REC_SIZE && rel % A.REC_SIZE === 0) {
        return { progId: p.id, insnIndex: rel / A.REC_SIZE };
      }
    }
    return undefined;
  }

  // ---- helpers ----

  /** Registers a host helper for helper number `id` (dispatched for `call id`). */
  setHelper(id: number, fn: HostHelper): void {
    if (!Number.isInteger(id) || id < 0 || id >= A.HELPERS_MAX) throw new RangeError(`setHelper: bad helper number ${id}`);
    this.hostHelpers[id] = fn;
    this.fastHelpers[id] = undefined;
    this.dv().setUint8(this.wasm.helperKinds() + id, A.HELPER_HOST);
  }

  /**
   * Registers a fast host helper for helper number `id`: it gets r1..r5 as 32-bit halves and
   * writes r0 itself (HelperArgs), so the call allocates nothing. Replaces any helper `id` had.
   */
  setFastHelper(id: number, fn: FastHostHelper): void {
    if (!Number.isInteger(id) || id < 0 || id >= A.HELPERS_MAX) throw new RangeError(`setFastHelper: bad helper number ${id}`);
    this.hostHelpers[id] = undefined;
    this.fastHelpers[id] = fn;
    this.dv().setUint8(this.wasm.helperKinds() + id, A.HELPER_HOST);
  }

  /** Marks helper `id` as implemented inside the VM (assembly/native.ts). */
  setNativeHelper(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= A.HELPERS_MAX) throw new RangeError(`setNativeHelper: bad helper number ${id}`);
    this.hostHelpers[id] = undefined;
    this.fastHelpers[id] = undefined;
    this.dv().setUint8(this.wasm.helperKinds() + id, A.HELPER_NATIVE);
  }

  private dispatchHelper(id: number): void {
    const fast = this.fastHelpers[id];
    if (fast !== undefined) {
      fast(this.helperArgs);
      return;
    }
    const fn = this.hostHelpers[id];
    if (!fn) throw new Error(`helper ${id} has no implementation`);
    const regs = this.regWords();
    const base = this.ctrl >> 3;
    const ctl = this.ctlWords();
    const call: HelperCall = {
      helperId: id,
      args: [regs[base + 1], regs[base + 2], regs[base + 3], regs[base + 4], regs[base + 5]],
      progId: ctl[(this.ctrl + A.CB_PROG) >> 2],
      insnIndex: ctl[(this.ctrl + A.CB_PC) >> 2],
    };
    const r0 = fn(call);
    if (typeof r0 !== 'bigint') throw new TypeError(`helper ${id} returned ${typeof r0}, not a bigint`);
    // The helper may have grown memory: take the view again.
    this.regWords()[base] = r0; // BigUint64Array stores r0 modulo 2^64
  }

  /** Registers as 64-bit words (the control block is 16-byte aligned). */
  private regWords(): BigUint64Array {
    return this.regWordsView;
  }

  private ctlWords(): Int32Array {
    return this.ctlWordsView;
  }

  /**
   * Calls BPF subprogram `insnIndex` of `progId` from inside a host helper (bpf_loop,
   * bpf_for_each_map_elem) with up to 5 arguments in r1..r5, in a new frame; returns its r0.
   * The caller's registers are restored afterwards. If the callback faults, this throws and
   * the whole run stops with that fault.
   */
  callSubprogram(progId: number, insnIndex: number, args: readonly bigint[]): bigint {
    if (!this.running) throw new Error('callSubprogram: only from inside a helper during a run');
    const p = this.program(progId, 'callSubprogram');
    if (!p.funcStarts.has(insnIndex)) {
      throw new Error(`callSubprogram: instruction ${insnIndex} of ${p.name} is not a function start`);
    }
    if (args.length > 5) throw new RangeError('callSubprogram: at most 5 arguments');
    const saved = this.bytes().slice(this.ctrl, this.ctrl + 88);
    const dv = this.dv();
    for (let i = 0; i < 5; i++) dv.setBigUint64(this.ctrl + 8 * (i + 1), U64(args[i] ?? 0n), true);
    const status = this.wasm.callNested(progId, insnIndex, this.traced);
    if (status !== 0) throw new NestedFault();
    const r0 = this.dv().getBigUint64(this.ctrl, true);
    this.bytes().set(saved, this.ctrl);
    return r0;
  }

  /** From inside a host helper: when it returns, continue in program `progId` (bpf_tail_call). */
  requestTailCall(progId: number): void {
    if (!this.running) throw new Error('requestTailCall: only from inside a helper during a run');
    this.program(progId, 'requestTailCall');
    this.tailCalls++;
    this.dv().setInt32(this.ctrl + A.CB_TAIL, progId, true);
  }

  /**
   * The program executing now (inside a helper: the caller, after any tail calls), as
   * HelperCall.progId gives it to host helpers; fast helpers ask here.
   */
  get currentProgId(): number {
    return this.ctlWordsView[(this.ctrl + A.CB_PROG) >> 2];
  }

  /** Tail calls requested during the current (or last) run. */
  get tailCallCount(): number {
    return this.tailCalls;
  }

  // ---- registers ----

  reg(i: number): bigint {
    if (!Number.isInteger(i) || i < 0 || i > 10) throw new RangeError(`reg: no register r${i}`);
    return this.dv().getBigUint64(this.ctrl + 8 * i, true);
  }

  setReg(i: number, v: bigint): void {
    if (!Number.isInteger(i) || i < 0 || i > 10) throw new RangeError(`setReg: no register r${i}`);
    this.dv().setBigUint64(this.ctrl + 8 * i, U64(v), true);
  }

  // ---- runs ----

  /**
   * Runs program `progId` with r1..r5 = args. Never throws for a program's fault: the result
   * carries it. `ldAbsRegion` names the packet that legacy LD_ABS/LD_IND read.
   */
  run(progId: number, args: readonly bigint[] = [], opts: RunOptions & { ldAbsRegion?: number } = {}): RunResult {
    this.program(progId, 'run');
    if (this.running) throw new Error('run: the machine is already running (use callSubprogram from helpers)');
    if (args.length > 5) throw new RangeError('run: at most 5 arguments (r1..r5)');
    const budget = opts.budget ?? DEFAULT_INSN_BUDGET;
    if (!Number.isInteger(budget) || budget < 0) throw new RangeError(`run: bad budget ${budget}`);
    const traceLimit = opts.traceLimit ?? 0;
    if (!Number.isInteger(traceLimit) || traceLimit < 0) throw new RangeError(`run: bad traceLimit ${traceLimit}`);
    const ldAbs = opts.ldAbsRegion === undefined ? undefined : this.regionMap.get(opts.ldAbsRegion);
    if (opts.ldAbsRegion !== undefined && !ldAbs) throw new Error(`run: no region ${opts.ldAbsRegion} for LD_ABS`);
    let traceBuf = 0;
    if (traceLimit > 0) traceBuf = this.allocInternal(traceLimit * A.TRACE_ENTRY_SIZE, 16);

    const c = this.ctrl;
    // Registers, the budget and the control words through integer views, with no BigInt made
    // here: a run costs little outside the loop.
    const words = this.regWordsView;
    const base = c >> 3;
    const u32 = this.helperArgs.u32;
    const ctl = this.ctlWordsView;
    const b32 = c >> 2;
    for (let i = 0; i < 22; i++) u32[b32 + i] = 0; // r0..r10
    for (let i = 0; i < args.length; i++) words[base + 1 + i] = args[i]; // stored modulo 2^64
    const budgetLo = budget % 0x1_0000_0000;
    const budgetHi = (budget - budgetLo) / 0x1_0000_0000;
    u32[(c + A.CB_BUDGET) >> 2] = budgetLo;
    u32[((c + A.CB_BUDGET) >> 2) + 1] = budgetHi;
    u32[(c + A.CB_LEFT) >> 2] = budgetLo;
    u32[((c + A.CB_LEFT) >> 2) + 1] = budgetHi;
    ctl[(c + A.CB_PROG) >> 2] = progId;
    ctl[(c + A.CB_PC) >> 2] = 0;
    u32[(c + A.CB_TRACE) >> 2] = traceBuf;
    u32[(c + A.CB_TRACE_CAP) >> 2] = traceLimit;
    u32[(c + A.CB_TRACE_N) >> 2] = 0;
    this.ldAbsRegionId = opts.ldAbsRegion;
    u32[(c + A.CB_LDABS_LO) >> 2] = ldAbs?.offset ?? 0;
    u32[(c + A.CB_LDABS_LEN) >> 2] = ldAbs?.length ?? 0;

    this.running = true;
    this.traced = traceLimit > 0 ? 1 : 0;
    this.tailCalls = 0;
    this.helperError = undefined;
    let status: number;
    try {
      status = this.wasm.run(progId, this.traced);
    } catch (e) {
      // A host helper threw (or a callback faulted: then the VM already recorded the fault).
      const recorded = this.dv().getInt32(c + A.CB_FAULT, true);
      if (e instanceof NestedFault && recorded !== 0) status = recorded;
      else {
        this.helperError = e;
        status = A.FAULT_ABORTED;
      }
    } finally {
      this.running = false;
    }
    const after = this.helperArgs; // a helper may have grown memory: its views are current
    const leftWord = (c + A.CB_LEFT) >> 2;
    const result: RunResult = {
      r0: after.big(0),
      // The u64 left, as Number() of it would round it.
      insnCount: budget - (after.u32[leftWord] + after.u32[leftWord + 1] * 0x1_0000_0000),
    };
    if (status !== 0) result.fault = this.makeFault(status, budget, this.helperError);
    if (traceLimit > 0) {
      result.trace = this.readTrace(traceBuf, traceLimit);
      this.freeInternal(traceBuf);
    }
    return result;
  }

  private readTrace(buf: number, cap: number): TraceEntry[] {
    const dv = this.dv();
    const n = dv.getUint32(this.ctrl + A.CB_TRACE_N, true);
    const out: TraceEntry[] = [];
    const first = n > cap ? n - cap : 0;
    for (let k = first; k < n; k++) {
      const e = buf + (k % cap) * A.TRACE_ENTRY_SIZE;
      const regs: bigint[] = [];
      for (let i = 0; i <= 10; i++) regs.push(dv.getBigUint64(e + 16 + 8 * i, true));
      out.push({ progId: dv.getInt32(e, true), insnIndex: dv.getInt32(e + 4, true), frame: dv.getInt32(e + 8, true), regs });
    }
    return out;
  }

  private makeFault(status: number, budget: number, helperError: unknown): Fault {
    const dv = this.dv();
    const c = this.ctrl;
    const code = helperError instanceof HelperFault ? helperError.code : (FAULT_CODES[status] ?? 'helper');
    const progId = dv.getInt32(c + A.CB_PROG, true);
    const insnIndex = dv.getInt32(c + A.CB_PC, true);
    const p = this.programs[progId];
    const fault: Fault = { code, progId, insnIndex, message: '' };
    let detail: string | undefined;
    let headline: string | undefined;
    let deniedRegion: RegionInfo | undefined;
    const memoryFault = status <= A.FAULT_CTX_WRITE || status === A.FAULT_READ_DENIED || status === A.FAULT_WRITE_DENIED;
    if (memoryFault || status === A.FAULT_BAD_CALLX) {
      fault.address = dv.getBigUint64(c + A.CB_FAULT_ADDR, true);
      if (memoryFault) fault.size = dv.getInt32(c + A.CB_FAULT_SIZE, true);
    }
    // The stack as it was when the fault happened (all active frames), not frame 0 alone.
    const stackLo = dv.getUint32(this.regionTable, true);
    const regions = this.regions().map((r) =>
      r.id === 0 ? { ...r, offset: stackLo, length: this.wasm.stackTop() - stackLo, start: VBASE + BigInt(stackLo) } : r,
    );
    switch (status) {
      case A.FAULT_BUDGET:
        detail = `${budget} instructions; raise RunOptions.budget if the program is meant to run longer`;
        break;
      case A.FAULT_CALL_DEPTH:
        detail = `more than ${A.MAX_FRAMES} frames, the kernel's MAX_CALL_FRAMES`;
        break;
      case A.FAULT_HELPER: {
        const id = dv.getInt32(c + A.CB_HELPER, true);
        headline = `helper ${id} (${kernelHelperName(id) ?? `bpf_${id}`}) has no implementation in this machine`;
        break;
      }
      case A.FAULT_ABORTED: {
        const id = dv.getInt32(c + A.CB_HELPER, true);
        const e = helperError;
        const why = e instanceof Error ? e.message : String(e);
        const helper = `helper ${id} (${kernelHelperName(id) ?? `bpf_${id}`})`;
        if (e instanceof HelperFault) headline = `${helper}: ${why}`;
        else if (e instanceof WebAssembly.RuntimeError) headline = `internal VM error: ${why}`;
        else headline = `${helper} threw: ${why}`;
        break;
      }
      case A.FAULT_READ_DENIED:
      case A.FAULT_WRITE_DENIED: {
        const idx = dv.getInt32(c + A.CB_FAULT_AUX, true);
        const r = this.regionOrder[idx];
        if (r) {
          deniedRegion = regions.find((x) => x.id === r.id);
          headline = `${status === A.FAULT_WRITE_DENIED ? 'write to read-only' : 'read from unreadable'} ${r.kind} region ${r.name}`;
        }
        break;
      }
      case A.FAULT_CTX_READ:
      case A.FAULT_CTX_WRITE: {
        const r = this.regionOrder.find((x) => x.ctx && fault.address! >= x.start && fault.address! < x.start + BigInt(x.length));
        if (r?.ctx) {
          const off = Number(fault.address! - r.start);
          const write = status === A.FAULT_CTX_WRITE;
          const masks = write ? r.ctx.access.writeSizes : r.ctx.access.readSizes;
          const hexOff = `0x${off.toString(16)}`;
          if (write && r.ctx.access.writeSizes[off] === 0 && r.ctx.access.readSizes[off] !== 0) {
            headline = `write to read-only field at offset ${hexOff} of ${r.name}`;
          } else if (masks[off] === 0) {
            headline = `${write ? 'write to' : 'read of'} offset ${hexOff} of ${r.name}, which the program type does not allow`;
          } else {
            headline = `${write ? 'write' : 'read'} of ${fault.size} bytes at offset ${hexOff} of ${r.name} (allowed sizes: ${sizesOf(masks[off])})`;
          }
          deniedRegion = regions.find((x) => x.id === r.id);
        }
        break;
      }
    }
    fault.message = formatFault({
      code,
      progName: p?.name ?? `program ${progId}`,
      insns: p?.insns ?? [],
      insnIndex,
      address: fault.address,
      size: fault.size,
      regions,
      deniedRegion,
      sourceLine: p?.sourceLine?.(insnIndex),
      detail,
      headline,
    });
    return fault;
  }
}

function sizesOf(mask: number): string {
  const s = [1, 2, 4, 8].filter((b) => mask & b).map((b) => `${b}`);
  return s.length ? s.join(', ') : 'none';
}
