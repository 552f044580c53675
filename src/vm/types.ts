// The contract of the VM's host side (src/vm/machine.ts). Everything here is browser-safe.

/** BPF pointers are VBASE + offset into the VM's wasm memory (looks like a kernel direct-map address). */
export const VBASE = 0xffff_8880_0000_0000n;

export const DEFAULT_INSN_BUDGET = 1_000_000;

export type RegionKind = 'stack' | 'ctx' | 'packet' | 'map_value' | 'global' | 'mem' | 'ringbuf';

export interface RegionOptions {
  kind: RegionKind;
  /** Shown in faults: "stack frame 0", "map value of ct_map", "packet", "__sk_buff". */
  name: string;
  read: boolean;
  write: boolean;
}

/** A region as the Machine knows it (Machine.regions(), fault messages). */
export interface RegionInfo {
  id: number;
  kind: RegionKind;
  name: string;
  /** wasm offset and length */
  offset: number;
  length: number;
  /** BPF virtual address of the first byte */
  start: bigint;
  read: boolean;
  write: boolean;
}

/**
 * How a CTX region is accessed. For every byte offset of the context struct, which access sizes
 * may read and which may write there, as the verifier's is_valid_access callbacks allow
 * (net/core/filter.c). Pointer fields (e.g. __sk_buff.data) load a 64-bit value from the
 * shadow instead of memory, as the verifier's convert_ctx_access rewrite does.
 */
export interface CtxAccessTable {
  /** readSizes[off]: bitmask of sizes readable at off (1 = 1 byte, 2 = 2, 4 = 4, 8 = 8 bytes). */
  readSizes: Uint8Array;
  /** writeSizes[off]: bitmask of sizes writable at off. */
  writeSizes: Uint8Array;
  /** Pointer-valued fields: loads at `offset` of any allowed size yield `value` (full 64 bits). */
  pointerFields: { offset: number; value: bigint }[];
}

export type FaultCode =
  | 'read_oob' // load outside every readable region
  | 'write_oob' // store outside every writable region
  | 'read_denied' // load inside a region that is not readable
  | 'write_denied' // store inside a region that is not writable (e.g. .rodata)
  | 'ctx_read' // context read the access table forbids
  | 'ctx_write' // context write the access table forbids
  | 'budget' // instruction budget exhausted
  | 'call_depth' // BPF-to-BPF call deeper than MAX_CALL_FRAMES
  | 'tail_call_limit' // more than MAX_TAIL_CALL_CNT tail calls
  | 'helper' // a helper reported an error the kernel's verifier would have prevented
  | 'bad_callx'; // callx to an address that is not a subprogram start

export interface Fault {
  code: FaultCode;
  /** Program and instruction (slot index within the linked program) that faulted. */
  progId: number;
  insnIndex: number;
  /** Virtual address and size of the access, for memory faults. */
  address?: bigint;
  size?: number;
  /** A ready sentence: what happened, where, the disassembly, nearest region, C source line. */
  message: string;
}

export interface RunOptions {
  /** Instruction budget (default DEFAULT_INSN_BUDGET). */
  budget?: number;
  /** Record an execution trace (pc and registers after each instruction), up to this many entries. */
  traceLimit?: number;
}

export interface TraceEntry {
  progId: number;
  insnIndex: number;
  /** Call depth (0 = main program frame). */
  frame: number;
  /** r0..r10 after the instruction executed. */
  regs: bigint[];
}

export interface RunResult {
  r0: bigint;
  insnCount: number;
  fault?: Fault;
  trace?: TraceEntry[];
}

/** Source position of an instruction, from BTF.ext line info, used in faults and traces. */
export interface SourceLine {
  file: string;
  line: number;
  column: number;
  text: string;
}

export interface LoadProgramOptions {
  name: string;
  /** Helper numbers this program may call (validated at load). */
  helpers: ReadonlySet<number>;
  /** For faults and traces: the C line of an instruction, where BTF line info has one. */
  sourceLine?: (insnIndex: number) => SourceLine | undefined;
}

/** A helper implemented in JavaScript: reads r1..r5, returns r0. One crossing per call. */
export type HostHelper = (ctx: HelperCall) => bigint;

export interface HelperCall {
  readonly helperId: number;
  /** r1..r5 as unsigned 64-bit values. */
  readonly args: readonly [bigint, bigint, bigint, bigint, bigint];
  readonly progId: number;
  readonly insnIndex: number;
}
