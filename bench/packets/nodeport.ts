// The NodePort rows of the per-packet bench (issue 5, "Tests and figures"): ns per packet of
// bpf/kpr/nodeport.c on its two main paths (nodeport-workload.ts), in bpfbed through
// CtxRunner.runSkb and through the scenario pipeline, next to the kernel's BPF_PROG_TEST_RUN for
// the same program, maps and packets in a namespace holding the scenario's routes
// (nodeport-kernel.ts), all measured in one run.
import { performance } from 'node:perf_hooks';
import type { KernelColumn } from './index.js';
import { kernelJitEnabled, kernelUnavailable } from './kernel.js';
import { runNodePortInKernel, type NodePortKernelResult } from './nodeport-kernel.js';
import { NODEPORT_DEVICE, NODEPORT_PROGRAM, NODEPORT_SCENARIO, NODEPORT_VERDICT, prepareNodePort, type NodePortWorld } from './nodeport-workload.js';

export const DEFAULT_NODEPORT_SYNS = 4096;
const KERNEL_ACK_RUNS = 4000;
const TC_ACT_REDIRECT = 7;

export interface NodePortBenchOptions {
  minSeconds: number;
  log: (s: string) => void;
  kernel: boolean;
  /** Distinct new connections per SYN pass (default 4096). */
  syns?: number;
  /** Another scenario file of the same world instead of NODEPORT_SCENARIO. */
  scenario?: string;
}

export interface NodePortBenchRow {
  /** 'syn' or 'established'. */
  path: string;
  /** 'runner' (CtxRunner.runSkb) or 'pipeline' (src/run/pipeline.ts, as `bpfbed run`). */
  via: 'runner' | 'pipeline';
  what: string;
  /** The scenario file the world came from (repository-relative when it is the default). */
  scenario: string;
  verdicts: Record<string, number>;
  bpfbed: { nsPerPacket: number; runs: number; insnsPerPacket: number };
  kernel: KernelColumn;
  ratio?: number;
  mismatches: string[];
}

const WHAT: Record<string, string> = {
  syn: 'new connection to a remote backend: service lookup, CT create, SNAT port, FIB lookup, redirect',
  established: 'established flow (the ACK after the SYN): CT hit, NAT hit, rewrite, FIB lookup, redirect',
};

interface Timing {
  nsPerPacket: number;
  runs: number;
}

/** Median of timed slices of `fn(i)` for i in [0, n), whole passes (each after `before`) until minSeconds. */
function timePasses(n: number, before: () => void, fn: (i: number) => void, minSeconds: number, slice: number): Timing {
  const perSlice: number[] = [];
  let runs = 0;
  const start = performance.now();
  do {
    before();
    for (let from = 0; from < n; from += slice) {
      const to = Math.min(n, from + slice);
      const t0 = performance.now();
      for (let i = from; i < to; i++) fn(i);
      perSlice.push(((performance.now() - t0) * 1e6) / (to - from));
    }
    runs += n;
  } while (performance.now() - start < minSeconds * 1000 || perSlice.length < 3);
  perSlice.sort((a, b) => a - b);
  return { nsPerPacket: perSlice[perSlice.length >> 1], runs };
}

interface Outcome {
  verdict: string;
  insns: number;
  data?: Uint8Array;
}

/** One packet through `via`; the verdict of its (only) program run and the bytes that left. */
function send(world: NodePortWorld, via: 'runner' | 'pipeline', frame: Uint8Array): Outcome {
  if (via === 'runner') {
    const res = world.runner.runSkb(NODEPORT_PROGRAM, world.skbOf(frame));
    if (res.fault) throw new Error(`nodeport bench: ${NODEPORT_PROGRAM} faulted: ${res.fault.message}`);
    return { verdict: res.verdict.name, insns: res.insnCount, data: res.skb.data };
  }
  const fate = world.pipeline.process(frame, NODEPORT_DEVICE, 'ingress');
  const hop = fate.hops[0];
  if (hop?.fault) throw new Error(`nodeport bench: ${NODEPORT_PROGRAM} faulted: ${hop.fault}`);
  return { verdict: hop?.verdict ?? '-', insns: fate.hops.reduce((s, h) => s + h.insnCount, 0), data: fate.data };
}

const firstDifference = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
};

export async function benchNodePort(opts: NodePortBenchOptions): Promise<NodePortBenchRow[]> {
  const count = opts.syns ?? DEFAULT_NODEPORT_SYNS;
  opts.log(`nodeport: preparing ${opts.scenario ?? NODEPORT_SCENARIO} and ${count} new connections`);
  const world = await prepareNodePort(count, opts.scenario);
  const scenario = opts.scenario ?? NODEPORT_SCENARIO;

  // The kernel first, with the maps as the scenario leaves them (before any bpfbed run).
  let kernel: NodePortKernelResult | undefined;
  let kernelNa = opts.kernel ? kernelUnavailable() : 'not asked for';
  if (!kernelNa) {
    try {
      opts.log(`nodeport: kernel (BPF_PROG_TEST_RUN in a namespace built from the scenario; ${count} SYNs, ${KERNEL_ACK_RUNS} ACKs)`);
      kernel = runNodePortInKernel({
        objectPath: world.objectPath,
        program: NODEPORT_PROGRAM,
        environment: world.scenario.environment ?? {},
        prepared: world.runner,
        syns: world.syns,
        flowSyn: world.flowSyn,
        flowAck: world.flowAck,
        ackRuns: KERNEL_ACK_RUNS,
      });
    } catch (err) {
      kernelNa = (err as Error).message;
    }
  }
  const jit = kernelJitEnabled();

  const rows: NodePortBenchRow[] = [];
  for (const via of ['runner', 'pipeline'] as const) {
    // SYN path: every pass starts from the prepared maps, so each SYN is a new connection.
    world.resetMaps();
    const verdicts: Record<string, number> = {};
    let insns = 0;
    let firstOut: Uint8Array | undefined;
    world.syns.forEach((syn, i) => {
      const o = send(world, via, syn);
      verdicts[o.verdict] = (verdicts[o.verdict] ?? 0) + 1;
      insns += o.insns;
      if (i === 0) firstOut = o.data;
    });
    opts.log(`nodeport: syn via ${via}`);
    const syn = timePasses(count, () => world.resetMaps(), (i) => send(world, via, world.syns[i]), opts.minSeconds, 256);
    const synMismatches: string[] = [];
    if (verdicts[NODEPORT_VERDICT] !== count) synMismatches.push(`verdicts ${JSON.stringify(verdicts)}, expected ${count} x ${NODEPORT_VERDICT}`);
    let synKernel: KernelColumn = { na: kernelNa ?? 'unavailable' };
    if (kernel) {
      if (kernel.synRetvals[TC_ACT_REDIRECT] !== count) synMismatches.push(`kernel return values ${JSON.stringify(kernel.synRetvals)}, expected ${count} x ${TC_ACT_REDIRECT}`);
      const at = firstOut ? firstDifference(kernel.firstSynOut, firstOut) : 0;
      if (at >= 0) synMismatches.push(`the first SYN leaves different bytes from byte ${at} (kernel ${kernel.firstSynOut.length}, bpfbed ${firstOut?.length ?? 0})`);
      synKernel = { nsPerPacket: kernel.synNs, runs: count, estimated: false, jit };
    }
    rows.push({
      path: 'syn',
      via,
      what: WHAT.syn,
      scenario,
      verdicts,
      bpfbed: { nsPerPacket: syn.nsPerPacket, runs: syn.runs, insnsPerPacket: insns / count },
      kernel: synKernel,
      ...(kernel ? { ratio: syn.nsPerPacket / kernel.synNs } : {}),
      mismatches: synMismatches,
    });

    // Established path: the flow's SYN once, then its ACK again and again.
    world.resetMaps();
    send(world, via, world.flowSyn);
    const once = send(world, via, world.flowAck);
    opts.log(`nodeport: established via ${via}`);
    const est = timePasses(2000, () => {}, () => send(world, via, world.flowAck), opts.minSeconds / 2, 2000);
    const estMismatches: string[] = [];
    if (once.verdict !== NODEPORT_VERDICT) estMismatches.push(`verdict ${once.verdict}, expected ${NODEPORT_VERDICT}`);
    let estKernel: KernelColumn = { na: kernelNa ?? 'unavailable' };
    if (kernel) {
      if (kernel.ackRetval !== TC_ACT_REDIRECT) estMismatches.push(`kernel returned ${kernel.ackRetval}, expected ${TC_ACT_REDIRECT}`);
      const at = once.data ? firstDifference(kernel.ackOut, once.data) : 0;
      if (at >= 0) estMismatches.push(`the ACK leaves different bytes from byte ${at} (kernel ${kernel.ackOut.length}, bpfbed ${once.data?.length ?? 0})`);
      estKernel = { nsPerPacket: kernel.ackNs, runs: kernel.ackRuns, estimated: false, jit };
    }
    rows.push({
      path: 'established',
      via,
      what: WHAT.established,
      scenario,
      verdicts: { [once.verdict]: 1 },
      bpfbed: { nsPerPacket: est.nsPerPacket, runs: est.runs, insnsPerPacket: once.insns },
      kernel: estKernel,
      ...(kernel ? { ratio: est.nsPerPacket / kernel.ackNs } : {}),
      mismatches: estMismatches,
    });
  }
  world.resetMaps();
  return rows;
}

const ns = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));

export function formatNodePortBench(rows: readonly NodePortBenchRow[]): string {
  const cells = [['nodeport', 'via', 'insns/pkt', 'bpfbed ns/pkt', 'kernel ns/pkt', 'bpfbed/kernel']];
  const notes = new Set<string>();
  for (const r of rows) {
    const k = r.kernel;
    cells.push([r.path, r.via, r.bpfbed.insnsPerPacket.toFixed(1), ns(r.bpfbed.nsPerPacket), 'na' in k ? 'n/a' : ns(k.nsPerPacket), r.ratio === undefined ? '' : `${r.ratio.toFixed(1)}x`]);
    if ('na' in k) notes.add(`kernel: ${k.na}`);
    else if (k.jit === false) notes.add('kernel: net.core.bpf_jit_enable is 0: the kernel column is its interpreter');
  }
  const widths = cells[0].map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const lines = cells.map((r) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ').trimEnd());
  lines.push('');
  for (const path of ['syn', 'established']) lines.push(`  ${path}: ${WHAT[path]}`);
  lines.push(`  ${rows[0]?.scenario ?? NODEPORT_SCENARIO} (bpf/kpr/nodeport.c ${NODEPORT_PROGRAM} on ${NODEPORT_DEVICE}); runner = CtxRunner.runSkb, pipeline = the scenario pipeline (src/run/pipeline.ts)`);
  lines.push('  kernel: BPF_PROG_TEST_RUN of each packet on its own (repeat 1: a repeat loop would rerun the rewritten packet) in a namespace with the scenario\'s routes; syn = mean, established = median');
  for (const n of notes) lines.push(`  ${n}`);
  const mismatches = rows.flatMap((r) => r.mismatches.map((m) => `${r.path} via ${r.via}: ${m}`));
  if (mismatches.length > 0) lines.push('', 'MISMATCHES:', ...mismatches.map((m) => `  ${m}`));
  return `${lines.join('\n')}\n`;
}
