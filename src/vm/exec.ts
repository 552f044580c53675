// Runs raw bytecode the way uBPF's ubpf_test does: r1 = pointer to a copy of the input memory
// (a read/write 'mem' region), r2 = its length, r10 = the stack; legacy LD_ABS/LD_IND read that
// memory as their packet. Used by `bpfbed exec` and by the ISA conformance suite.
import { decodeInsns } from '../asm/insn.js';
import { Machine } from './machine.js';
import type { Fault, HostHelper } from './types.js';

export interface ExecRawOptions {
  /** Instruction budget (default DEFAULT_INSN_BUDGET). */
  budget?: number;
  /** Host helpers by number; only these may be called. */
  helpers?: Map<number, HostHelper>;
}

export interface ExecRawResult {
  r0: bigint;
  insnCount: number;
  fault?: Fault;
  /** The memory after the run. */
  mem: Uint8Array;
}

/** A raw program loaded once and run on any memory: what `bpfbed exec --repeat` times. */
export class RawProgram {
  private constructor(
    private readonly machine: Machine,
    private readonly prog: number,
  ) {}

  /** Throws ProgramLoadError if the program does not validate. */
  static async load(code: Uint8Array, opts: { helpers?: Map<number, HostHelper> } = {}): Promise<RawProgram> {
    const machine = await Machine.create();
    const helpers = opts.helpers ?? new Map<number, HostHelper>();
    for (const [id, fn] of helpers) machine.setHelper(id, fn);
    const prog = machine.loadProgram(decodeInsns(code), { name: 'exec', helpers: new Set(helpers.keys()) });
    return new RawProgram(machine, prog);
  }

  /** Runs on a copy of `mem`; a runtime fault is returned, never thrown. */
  run(mem: Uint8Array, opts: { budget?: number } = {}): ExecRawResult {
    const { machine } = this;
    let memOff = 0;
    let r1 = 0n;
    let region: number | undefined;
    if (mem.length > 0) {
      memOff = machine.alloc(mem.length, 8);
      machine.bytes().set(mem, memOff);
      region = machine.addRegion(memOff, mem.length, { kind: 'mem', name: 'mem', read: true, write: true });
      r1 = machine.toVirtual(memOff);
    }
    try {
      // Legacy LD_ABS / LD_IND read the same memory as their packet, as in bpf_conformance.
      const result = machine.run(this.prog, [r1, BigInt(mem.length)], { budget: opts.budget, ldAbsRegion: region });
      const out = mem.length > 0 ? machine.bytes().slice(memOff, memOff + mem.length) : new Uint8Array(0);
      const ret: ExecRawResult = { r0: result.r0, insnCount: result.insnCount, mem: out };
      if (result.fault) ret.fault = result.fault;
      return ret;
    } finally {
      if (region !== undefined) {
        machine.removeRegion(region);
        machine.free(memOff);
      }
    }
  }
}

/**
 * Loads `code` (raw little-endian BPF, a multiple of 8 bytes) into a fresh Machine and runs it
 * once. Throws ProgramLoadError if the program does not validate; a runtime fault is returned.
 */
export async function execRaw(code: Uint8Array, mem: Uint8Array, opts: ExecRawOptions = {}): Promise<ExecRawResult> {
  return (await RawProgram.load(code, { helpers: opts.helpers })).run(mem, { budget: opts.budget });
}
