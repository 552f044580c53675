// The bpfbed column: a benchmark program from its committed object, loaded once into a Machine
// with the input as a read-only `mem` region, run the way `bpfbed exec` runs a snippet
// (r1 = address of the memory, r2 = its length). Setup is outside the timed runs.
import type { Insn } from '../src/asm/insn.js';
import { loadObject } from '../src/loader/object.js';
import { Machine } from '../src/vm/machine.js';
import type { RunResult } from '../src/vm/types.js';

/** Generous: a benchmark run is millions of instructions, far past the default budget. */
const BENCH_BUDGET = 2_000_000_000;

export interface BpfbedRunner {
  run(): RunResult;
}

/** The linked instructions of program `name`; a benchmark program may use no maps or helpers. */
export function loadBenchProgram(bytes: Uint8Array, file: string, name: string): Insn[] {
  const spec = loadObject(bytes);
  const program = spec.programs.find((p) => p.name === name);
  if (!program) throw new Error(`${file}: no program '${name}' (has: ${spec.programs.map((p) => p.name).join(', ')})`);
  if (program.references.length > 0 || spec.maps.length > 0) {
    throw new Error(`${file}: program '${name}' uses maps or global data; benchmark programs must not`);
  }
  return program.insns;
}

export async function prepareBpfbed(insns: readonly Insn[], name: string, input: Uint8Array): Promise<BpfbedRunner> {
  const machine = await Machine.create();
  const progId = machine.loadProgram(insns, { name, helpers: new Set() });
  const off = machine.alloc(input.length);
  machine.bytes().set(input, off);
  machine.addRegion(off, input.length, { kind: 'mem', name: 'benchmark input', read: true, write: false });
  const args = [machine.toVirtual(off), BigInt(input.length)];
  return {
    run(): RunResult {
      const result = machine.run(progId, args, { budget: BENCH_BUDGET });
      if (result.fault) throw new Error(`bpfbed: ${name} faulted: ${result.fault.message}`);
      return result;
    },
  };
}
