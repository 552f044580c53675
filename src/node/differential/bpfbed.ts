// bpfbed's side of the differential run, with the calling convention of RawProgram
// (src/vm/exec.ts, `bpfbed exec --raw`, the ISA corpus): r1 = a read/write 'mem' region holding
// the memory, r2 = its length, r10 = the stack. Unlike RawProgram.load, which instantiates a
// fresh Machine per program (the dominant cost for thousands of short programs), one Machine
// loads many programs and is replaced every MACHINE_REUSE programs to bound its memory.
import { decodeInsns } from '../../asm/insn.js';
import { Machine } from '../../vm/machine.js';
import type { BpfbedOutcome } from './compare.js';

/** The generated programs are short and loop at most 4 times: far below this budget. */
const BUDGET = 100_000;
const MACHINE_REUSE = 500;

export class BpfbedRunner {
  private machine: Machine | undefined;
  private loaded = 0;

  /** Loads and runs `code` on a copy of `mem`; a refusal or fault is part of the outcome. */
  async run(code: Uint8Array, mem: Uint8Array): Promise<BpfbedOutcome> {
    if (!this.machine || this.loaded >= MACHINE_REUSE) {
      this.machine = await Machine.create();
      this.loaded = 0;
    }
    const machine = this.machine;
    let prog: number;
    try {
      prog = machine.loadProgram(decodeInsns(code), { name: 'differential', helpers: new Set() });
      this.loaded++;
    } catch (err) {
      return { loadError: (err as Error).message };
    }
    const memOff = machine.alloc(Math.max(mem.length, 1), 8);
    machine.bytes().set(mem, memOff);
    const region = machine.addRegion(memOff, mem.length, { kind: 'mem', name: 'mem', read: true, write: true });
    try {
      const result = machine.run(prog, [machine.toVirtual(memOff), BigInt(mem.length)], { budget: BUDGET });
      const out = machine.bytes().slice(memOff, memOff + mem.length);
      if (result.fault) return { fault: `${result.fault.code}: ${result.fault.message}`, mem: out };
      return { mem: out, r0: result.r0 };
    } finally {
      machine.removeRegion(region);
      machine.free(memOff);
    }
  }
}
