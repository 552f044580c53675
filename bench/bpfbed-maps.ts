// The bpfbed column of the map workloads: the object in a Testbed, maps filled through the host
// API (bpf(2) BPF_MAP_UPDATE_ELEM semantics), the program run with r1 = a small buffer it
// ignores. Runs go straight to the Machine with the buffer's region set up once, so the timed
// loop measures the VM and its helpers, not per-run allocation of the buffer.
import { Testbed } from '../src/testbed/testbed.js';
import type { RunResult } from '../src/vm/types.js';
import type { MapFillEntry } from './map-workloads.js';

export interface MapBenchRunner {
  run(): RunResult;
  /** One run through the Testbed's public API (runWithMemory): the reference result. */
  runOnce(): RunResult;
}

/** 64 bytes, as the kernel column's test packet. */
const BUFFER_BYTES = 64;

export async function fillTestbed(object: Uint8Array, fill: readonly MapFillEntry[]): Promise<Testbed> {
  const bed = await Testbed.fromObject(object);
  for (const e of fill) {
    const map = bed.map(e.map);
    const err = map.update(e.key, e.value);
    if (err !== 0) throw new Error(`bench: filling map ${e.map} failed with errno ${-err}`);
  }
  return bed;
}

export async function prepareMapBench(object: Uint8Array, program: string, fill: readonly MapFillEntry[]): Promise<MapBenchRunner> {
  const bed = await fillTestbed(object, fill);
  const prog = bed.program(program);
  const machine = bed.machine;
  const off = machine.alloc(BUFFER_BYTES);
  machine.addRegion(off, BUFFER_BYTES, { kind: 'mem', name: 'benchmark buffer', read: true, write: true });
  const args = [machine.toVirtual(off), BigInt(BUFFER_BYTES)];
  const check = (result: RunResult): RunResult => {
    if (result.fault) throw new Error(`bpfbed: ${program} faulted: ${result.fault.message}`);
    return result;
  };
  return {
    run: () => check(machine.run(prog.progId, args)),
    runOnce: () => check(bed.runWithMemory(program, new Uint8Array(BUFFER_BYTES))),
  };
}
