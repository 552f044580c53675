// Timing that holds up: warm up (so V8 and the wasm tiers have compiled the hot code), size a
// batch from the warm-up's speed, run several batches filling at least `minSeconds`, and report
// the median time per run over the batches (robust to a stray GC or a scheduler hiccup).

export interface TimingOptions {
  minSeconds: number;
  batches: number;
}

export interface Timing {
  /** Median over the batches of the mean time per run, in nanoseconds. */
  nsPerRun: number;
  /** Runs measured (warm-up excluded). */
  runs: number;
  /** Each batch's mean time per run. */
  batchNsPerRun: number[];
}

const WARMUP_SECONDS = 0.15;

const nowNs = (): number => Number(process.hrtime.bigint());

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function timeRuns(run: () => void, opts: TimingOptions): Timing {
  let warmupRuns = 0;
  const warmupStart = nowNs();
  while (warmupRuns < 3 || nowNs() - warmupStart < WARMUP_SECONDS * 1e9) {
    run();
    warmupRuns++;
  }
  const warmNsPerRun = (nowNs() - warmupStart) / warmupRuns;
  const perBatch = Math.max(1, Math.ceil((opts.minSeconds * 1e9) / opts.batches / warmNsPerRun));

  const batchNsPerRun: number[] = [];
  for (let b = 0; b < opts.batches; b++) {
    const start = nowNs();
    for (let i = 0; i < perBatch; i++) run();
    batchNsPerRun.push((nowNs() - start) / perBatch);
  }
  return { nsPerRun: median(batchNsPerRun), runs: perBatch * opts.batches, batchNsPerRun };
}
