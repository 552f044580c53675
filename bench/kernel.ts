// The kernel column: the same bytecode in the running kernel (its JIT, where enabled) through
// src/node/kernel.ts, memory handed over as an array map value. Needs root; otherwise n/a.
import { kernelAvailable, runInKernel } from '../src/node/kernel.js';
import type { TimingOptions } from './measure.js';

export type KernelColumn =
  | { ok: true; result: bigint; nsPerRun: number; runs: number }
  | { ok: false; na: string };

export async function runKernelColumn(code: Uint8Array, input: Uint8Array, timing: TimingOptions): Promise<KernelColumn> {
  const available = kernelAvailable();
  if (!available.ok) return { ok: false, na: available.why ?? 'kernel not available' };
  // One short run to see whether the verifier accepts it and how long a run takes.
  const probe = await runInKernel(code, { mem: input, repeat: 10 });
  if (!probe.accepted) {
    const lines = probe.verifierLog.split('\n').filter((l) => l.trim() && !l.startsWith('processed '));
    return { ok: false, na: `verifier: ${lines.at(-1)?.trim() ?? 'rejected'}` };
  }
  const perBatchNs = (timing.minSeconds * 1e9) / timing.batches;
  const repeat = Math.min(0x7fff_ffff, Math.max(1, Math.ceil(perBatchNs / Math.max(1, probe.durationNs))));
  const timed = await runInKernel(code, { mem: input, repeat, batches: timing.batches });
  if (!timed.accepted) return { ok: false, na: 'verifier rejected the timed run' };
  return { ok: true, result: probe.r0, nsPerRun: timed.durationNs, runs: repeat * timing.batches };
}
