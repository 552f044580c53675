// bpfbed's side of the per-packet workload: every packet of a capture through CtxRunner.runSkb,
// the path `bpfbed run` takes (build the skb, lay out the context, run with the helpers, collect
// the packet and fields afterwards), timed over whole passes.
import { performance } from 'node:perf_hooks';
import type { CtxRunner, SkbRunResult } from '../../src/ctx/runner.js';
import { skbFromFrame } from '../../src/ctx/skb.js';

export interface CaptureRun {
  /** Verdict name -> packets. */
  verdicts: Record<string, number>;
  /** The verdict of each packet. */
  perPacket: string[];
  insnsPerPacket: number;
}

/** One run of `program` on a frame as BPF_PROG_TEST_RUN builds its skb; a fault is an error. */
export function runFrame(runner: CtxRunner, program: string, frame: Uint8Array): SkbRunResult {
  const res = runner.runSkb(program, skbFromFrame(frame));
  if (res.fault) throw new Error(`packet bench: ${program} faulted: ${res.fault.message}`);
  return res;
}

/** One pass over the frames, counting verdicts and instructions. */
export function runCapture(runner: CtxRunner, program: string, frames: readonly Uint8Array[]): CaptureRun {
  const verdicts: Record<string, number> = {};
  const perPacket: string[] = [];
  let insns = 0;
  for (const frame of frames) {
    const res = runFrame(runner, program, frame);
    verdicts[res.verdict.name] = (verdicts[res.verdict.name] ?? 0) + 1;
    perPacket.push(res.verdict.name);
    insns += res.insnCount;
  }
  return { verdicts, perPacket, insnsPerPacket: insns / frames.length };
}

export interface PassTiming {
  nsPerPacket: number;
  /** Packets run while timing. */
  packets: number;
}

/**
 * Whole passes over the frames until `minSeconds` have passed (at least one). Each slice of
 * `slice` packets is timed on its own and the median slice is reported: on a shared machine a
 * burst of other work then shifts one slice, not the figure.
 */
export function timeCapture(runner: CtxRunner, program: string, frames: readonly Uint8Array[], minSeconds: number, slice = 5000): PassTiming {
  let packets = 0;
  const perSlice: number[] = [];
  const start = performance.now();
  do {
    for (let from = 0; from < frames.length; from += slice) {
      const to = Math.min(frames.length, from + slice);
      const t0 = performance.now();
      for (let i = from; i < to; i++) runner.runSkb(program, skbFromFrame(frames[i]));
      perSlice.push(((performance.now() - t0) * 1e6) / (to - from));
    }
    packets += frames.length;
  } while (performance.now() - start < minSeconds * 1000);
  perSlice.sort((a, b) => a - b);
  return { nsPerPacket: perSlice[perSlice.length >> 1], packets };
}

/**
 * The same frame again and again, in batches, for `minSeconds`; the median batch. Each run
 * starts from the frame as given (runSkb never changes its input).
 */
export function timeFrame(runner: CtxRunner, program: string, frame: Uint8Array, minSeconds: number, batch = 2000): PassTiming {
  runFrame(runner, program, frame);
  const perBatch: number[] = [];
  const start = performance.now();
  do {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) runner.runSkb(program, skbFromFrame(frame));
    perBatch.push(((performance.now() - t0) * 1e6) / batch);
  } while (performance.now() - start < minSeconds * 1000 || perBatch.length < 3);
  perBatch.sort((a, b) => a - b);
  return { nsPerPacket: perBatch[perBatch.length >> 1], packets: perBatch.length * batch };
}
