// Where bpfbed's time per packet goes, split three ways:
//   (a) context setup and collect: building the skb, laying out __sk_buff and the packet, reading
//       the packet and fields back (CtxRunner.runSkb minus Testbed.run), and apart from it the
//       run's bookkeeping (Testbed.run minus Machine.run: printk, events, the result object);
//   (b) instruction execution: Machine.run minus the helpers, and apart from it Machine.run's
//       fixed cost per run (Machine.run of an empty program);
//   (c) helper calls: calls per packet (counted from execution traces) times the cost of one
//       call, measured by the micro_* programs of bpf/bench/packet.c (32 calls each, against an
//       empty program on the same packet).
// Testbed.run and Machine.run are timed by wrapping them on the runner's instances for one pass (a targeted timer; its
// own cost is measured and taken off). Timer and micro-benchmark make this an estimate: the parts
// need not add up exactly to the uninstrumented total.
import { performance } from 'node:perf_hooks';
import type { CtxRunner } from '../../src/ctx/runner.js';
import { skbFromFrame } from '../../src/ctx/skb.js';
import { helperName } from '../../src/helpers/names.js';
import { timeFrame } from './bpfbed.js';
import type { ProfileShares } from './profile.js';

/** The helper each micro program calls, by kernel helper number (include/uapi/linux/bpf.h). */
export const MICRO_PROGRAMS: readonly { program: string; helperId: number }[] = [
  { program: 'micro_lookup', helperId: 1 },
  { program: 'micro_store', helperId: 9 },
  { program: 'micro_l3_csum', helperId: 10 },
  { program: 'micro_l4_csum', helperId: 11 },
  { program: 'micro_redirect', helperId: 23 },
];
const MICRO_BASELINE = 'micro_none';
/** MICRO_CALLS in bpf/bench/packet.c. */
const MICRO_CALLS = 32;
const BPF_CALL = 0x85;

export interface HelperCost {
  helper: string;
  callsPerPacket: number;
  /** One call, including the few instructions that set up its arguments. */
  nsPerCall: number;
  nsPerPacket: number;
}

export interface PacketBreakdown {
  /** The uninstrumented time per packet the parts are taken from. */
  totalNs: number;
  /** CtxRunner.runSkb outside Testbed.run: skbFromFrame, context and packet layout, collect. */
  setupCollectNs: number;
  /** Testbed.run outside Machine.run: printk and event collection, the result object. */
  runBookkeepingNs: number;
  /** Machine.run of an empty program: registers, budget, region table, entering wasm and back. */
  runEntryNs: number;
  /** Machine.run minus runEntryNs minus the helpers: the interpreter on the program's instructions. */
  instructionNs: number;
  helperNs: number;
  insnsPerPacket: number;
  /** instructionNs / insnsPerPacket. */
  nsPerInsn: number;
  helpers: HelperCost[];
  /** What one performance.now() costs here (taken off the timed Testbed.run). */
  timerNs: number;
  /** The same split from V8's sampling profiler over one more pass (bench/packets/profile.ts). */
  profile?: ProfileShares;
}

/** Helper calls per packet, by helper number, from execution traces of the first packets. */
export function countHelperCalls(runner: CtxRunner, program: string, frames: readonly Uint8Array[]): Map<number, number> {
  const insns = runner.bed.program(program).spec.insns;
  const calls = new Map<number, number>();
  for (const frame of frames) {
    const res = runner.runSkb(program, skbFromFrame(frame), { traceLimit: 4096 });
    if (res.fault) throw new Error(`packet bench: ${program} faulted while tracing: ${res.fault.message}`);
    if ((res.trace?.length ?? 0) < res.insnCount) throw new Error(`packet bench: the trace of ${program} lost instructions (${res.insnCount} run)`);
    for (const t of res.trace ?? []) {
      const insn = insns[t.insnIndex];
      if (t.frame === 0 && insn && insn.opcode === BPF_CALL && insn.src === 0) calls.set(insn.imm, (calls.get(insn.imm) ?? 0) + 1);
    }
  }
  for (const [id, n] of calls) calls.set(id, n / frames.length);
  return calls;
}

/** Keeps the timer loop's result alive, so the loop is not optimised away. */
let timerSink = 0;

function timerCost(): number {
  const n = 200_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) timerSink += performance.now();
  return ((performance.now() - t0) * 1e6) / n;
}

/**
 * Time per packet inside Testbed.run and inside Machine.run (which it calls) over one pass; the
 * wrappers are removed afterwards. The inner timer's own cost lands in the outer time: taken off.
 */
function timeExec(runner: CtxRunner, program: string, frames: readonly Uint8Array[], timerNs: number): { bedNs: number; machineNs: number } {
  const bed = runner.bed;
  const machine = runner.machine;
  const bedRun = bed.run;
  const machineRun = machine.run;
  let inBed = 0;
  let inMachine = 0;
  bed.run = function timedBedRun(this: typeof bed, ...args: Parameters<typeof bedRun>) {
    const t0 = performance.now();
    try {
      return bedRun.apply(this, args);
    } finally {
      inBed += performance.now() - t0;
    }
  };
  machine.run = function timedMachineRun(this: typeof machine, ...args: Parameters<typeof machineRun>) {
    const t0 = performance.now();
    try {
      return machineRun.apply(this, args);
    } finally {
      inMachine += performance.now() - t0;
    }
  };
  try {
    for (const frame of frames) runner.runSkb(program, skbFromFrame(frame));
  } finally {
    delete (bed as { run?: unknown }).run;
    delete (machine as { run?: unknown }).run;
  }
  const machineNs = Math.max(0, (inMachine * 1e6) / frames.length - timerNs);
  const bedNs = Math.max(machineNs, (inBed * 1e6) / frames.length - 3 * timerNs);
  return { bedNs, machineNs };
}

/**
 * The breakdown of `totalNs` (bpfbed's uninstrumented time per packet on `frames`); `sample`
 * is the frame the micro programs run on, `minSeconds` the time given to each of them.
 */
export function breakDown(runner: CtxRunner, program: string, frames: readonly Uint8Array[], totalNs: number, insnsPerPacket: number, sample: Uint8Array, minSeconds: number): PacketBreakdown {
  const timerNs = timerCost();
  const exec = timeExec(runner, program, frames, timerNs);
  // Machine.run's own cost around the interpreter loop: a run of the 2-instruction micro_none.
  const empty = timeExec(runner, MICRO_BASELINE, new Array<Uint8Array>(20_000).fill(sample), timerNs);
  const calls = countHelperCalls(runner, program, frames.slice(0, 2000));
  const baseline = timeFrame(runner, MICRO_BASELINE, sample, minSeconds).nsPerPacket;
  const helpers: HelperCost[] = [];
  for (const [id, callsPerPacket] of [...calls].sort((a, b) => a[0] - b[0])) {
    const micro = MICRO_PROGRAMS.find((m) => m.helperId === id);
    const nsPerCall = micro ? Math.max(0, (timeFrame(runner, micro.program, sample, minSeconds).nsPerPacket - baseline) / MICRO_CALLS) : NaN;
    helpers.push({ helper: helperName(id) ?? `helper ${id}`, callsPerPacket, nsPerCall, nsPerPacket: callsPerPacket * nsPerCall });
  }
  const helperNs = helpers.reduce((s, h) => s + (Number.isFinite(h.nsPerPacket) ? h.nsPerPacket : 0), 0);
  const runEntryNs = Math.min(empty.machineNs, exec.machineNs);
  const instructionNs = Math.max(0, exec.machineNs - runEntryNs - helperNs);
  return {
    totalNs,
    setupCollectNs: Math.max(0, totalNs - exec.bedNs),
    runBookkeepingNs: exec.bedNs - exec.machineNs,
    runEntryNs,
    instructionNs,
    helperNs,
    insnsPerPacket,
    nsPerInsn: instructionNs / insnsPerPacket,
    helpers,
    timerNs,
  };
}
