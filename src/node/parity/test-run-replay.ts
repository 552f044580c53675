// bpfbed's side of the kernel's per-packet test runs: the same packets, in the same order, through
// the same programs, each run as BPF_PROG_TEST_RUN runs it (src/ctx/test-run.ts emulates
// net/bpf/test_run.c: the skb or xdp_buff built from data_in and ctx_in, and ctx_out copied
// back). The scenario pipeline (src/run/pipeline.ts) gives the verdicts and output bytes that are
// compared; this replay gives the context fields each program wrote, which the pipeline keeps to
// itself, with the same ctx_in the kernel got. Time passes between packets as in runScenario.
import type { CtxRunner } from '../../ctx/runner.js';
import { skbFromTestRun, skbTestRunCtxOut, skbTestRunDataOut, xdpFromTestRun, xdpTestRunOutput } from '../../ctx/test-run.js';
import { SK_BUFF_CTX_SIZE, XDP_PASS, xdpCtxIn, type KernelFrame, type KernelHook } from '../kernel-scenario.js';

export interface ReplayHop {
  program: string;
  retval: number;
  dataOut: Uint8Array;
  ctxOut: Uint8Array;
  /** Why the run could not happen as the kernel's did (a ctx_in bpfbed refuses, a fault). */
  error?: string;
}

export interface ReplayFrame extends KernelFrame {
  /** The capture's time of the packet: the clock advances by the gaps, as in runScenario. */
  timestampNs?: bigint;
}

/**
 * Runs `frames` through `program` (or the hooks) of `runner`, as runScenarioInKernel runs them in
 * the kernel: XDP then, on XDP_PASS, tc ingress; no redirect is followed. Returns the hops per frame.
 */
export function replayTestRuns(runner: CtxRunner, program: string | readonly KernelHook[], frames: readonly ReplayFrame[], followTimestamps = true, budget?: number): ReplayHop[][] {
  let previous: bigint | undefined;
  const runOne = (name: string, f: KernelFrame, data: Uint8Array): ReplayHop => {
    const type = runner.bed.program(name).spec.type;
    try {
      if (type === 'xdp') {
        const ctxIn = xdpCtxIn(data.length, f.ifindex ?? 0);
        const res = runner.runXdp(name, xdpFromTestRun(data, ctxIn), { budget });
        const out = xdpTestRunOutput(res.xdp, ctxIn);
        return { program: name, retval: Number(BigInt.asUintN(32, res.r0)), dataOut: out.dataOut, ctxOut: out.ctxOut!, ...(res.fault ? { error: res.fault.message } : {}) };
      }
      const kind = type === 'socket_filter' ? 'socket_filter' : 'tc';
      const res = runner.runSkb(name, skbFromTestRun(data, f.skbCtxIn ?? new Uint8Array(SK_BUFF_CTX_SIZE), kind), { budget });
      return { program: name, retval: Number(BigInt.asUintN(32, res.r0)), dataOut: skbTestRunDataOut(res.skb, kind), ctxOut: skbTestRunCtxOut(res.skb), ...(res.fault ? { error: res.fault.message } : {}) };
    } catch (err) {
      return { program: name, retval: -1, dataOut: new Uint8Array(0), ctxOut: new Uint8Array(0), error: (err as Error).message };
    }
  };
  return frames.map((f) => {
    if (followTimestamps && f.timestampNs !== undefined) {
      if (previous !== undefined && f.timestampNs > previous) runner.bed.env.advance(Number(f.timestampNs - previous));
      previous = f.timestampNs;
    }
    if (typeof program === 'string') return [runOne(program, f, f.data)];
    const at = (attach: string) => program.find((h) => h.attach === attach && (h.device === undefined || h.device === f.device));
    const hops: ReplayHop[] = [];
    const xdp = at('xdp');
    if (xdp) hops.push(runOne(xdp.program, f, f.data));
    const tc = at('tc/ingress');
    if (tc && (!xdp || hops[0].retval === XDP_PASS)) hops.push(runOne(tc.program, f, hops[0]?.dataOut ?? f.data));
    return hops;
  });
}
