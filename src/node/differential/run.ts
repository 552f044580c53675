// The differential run: generate programs, verify and run them in the kernel
// (tools/kernel/bpfbed-kbatch.c), run the accepted ones in bpfbed, and compare every register,
// stack slot and memory byte (issue 6, "Differential testing of the instruction set").
// Programs go to the kernel in chunks; bpfbed runs each answer as it arrives, so the two overlap.
import { encodeInsns, type Insn } from '../../asm/insn.js';
import { BpfbedRunner } from './bpfbed.js';
import { compareOutcomes, describeMismatch, type Difference } from './compare.js';
import { generateProgram, type GeneratorOptions } from './generator.js';
import { runBatchInKernel, type BatchResult } from './kbatch.js';

export interface DifferentialOptions extends GeneratorOptions {
  seed: number;
  /** Stop once this many programs were accepted by the verifier and compared. */
  count: number;
  /** Give up after generating this many (default 3 × count + 1000). */
  maxGenerated?: number;
  /** Programs per kernel batch (default 2000). */
  chunk?: number;
  /** Stop collecting mismatches after this many (default 20); counting goes on. */
  keepMismatches?: number;
  /** Called after each chunk with the totals so far. */
  onProgress?: (totals: DifferentialTotals) => void;
}

export interface Mismatch {
  seed: number;
  index: number;
  insns: Insn[];
  code: Uint8Array;
  memIn: Uint8Array;
  kernelMem: Uint8Array;
  diffs: Difference[];
  /** describeMismatch(): seed, index, differences, disassembly. */
  report: string;
}

export interface DifferentialTotals {
  seed: number;
  generated: number;
  /** Accepted by the kernel's verifier (those past `count` in the last chunk included). */
  accepted: number;
  /** Run in bpfbed and compared: the first `count` accepted. */
  compared: number;
  mismatches: number;
  /** The verifier's reasons for rejections (last meaningful log line) and how often each came. */
  rejections: Map<string, number>;
  /** Records the kernel tool could not run (test-run or map errors). */
  toolErrors: number;
  /** Milliseconds spent generating, in the kernel (wall time of the batches), and in bpfbed. */
  msGenerate: number;
  msKernel: number;
  msBpfbed: number;
}

export interface DifferentialReport extends DifferentialTotals {
  mismatchList: Mismatch[];
}

/** The verifier's reason for a rejection: the last log line before its statistics. */
export function verifierReason(log: string): string {
  const lines = log.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('processed ') && !/^\d+: /.test(l));
  return (lines.at(-1) ?? 'no log').trim().replace(/\d+/g, 'N');
}

export async function runDifferential(opts: DifferentialOptions): Promise<DifferentialReport> {
  const chunk = opts.chunk ?? 2000;
  const maxGenerated = opts.maxGenerated ?? 3 * opts.count + 1000;
  const keep = opts.keepMismatches ?? 20;
  const report: DifferentialReport = {
    seed: opts.seed,
    generated: 0,
    accepted: 0,
    compared: 0,
    mismatches: 0,
    rejections: new Map(),
    toolErrors: 0,
    msGenerate: 0,
    msKernel: 0,
    msBpfbed: 0,
    mismatchList: [],
  };
  const bpfbed = new BpfbedRunner();
  let scheduled = 0; // accepted programs handed to bpfbed
  while (scheduled < opts.count && report.generated < maxGenerated) {
    // Ask for what is still missing, plus a margin for the verifier's rejections.
    const want = Math.min(chunk, maxGenerated - report.generated, Math.ceil((opts.count - scheduled) * 1.15) + 10);
    const t0 = performance.now();
    const programs = Array.from({ length: want }, (_, k) => {
      const p = generateProgram(opts.seed, report.generated + k, opts);
      return { ...p, code: encodeInsns(p.insns) };
    });
    report.generated += want;
    report.msGenerate += performance.now() - t0;

    const tKernel = performance.now();
    // bpfbed runs are async (RawProgram.load); chain them so they run in order, overlapping
    // with the kernel working on the next programs.
    let bpfbedWork: Promise<void> = Promise.resolve();
    const onResult = (i: number, result: BatchResult): void => {
      if (!result.accepted) {
        if ('error' in result) report.toolErrors++;
        else {
          const reason = verifierReason(result.verifierLog);
          report.rejections.set(reason, (report.rejections.get(reason) ?? 0) + 1);
        }
        return;
      }
      report.accepted++;
      if (scheduled >= opts.count) return; // enough: the margin is not compared
      scheduled++;
      const p = programs[i];
      bpfbedWork = bpfbedWork.then(async () => {
        const tb = performance.now();
        const outcome = await bpfbed.run(p.code, p.mem);
        report.msBpfbed += performance.now() - tb;
        const diffs = compareOutcomes(result.mem, outcome);
        report.compared++;
        if (diffs.length === 0) return;
        report.mismatches++;
        if (report.mismatchList.length < keep) {
          report.mismatchList.push({
            seed: p.seed,
            index: p.index,
            insns: p.insns,
            code: p.code,
            memIn: p.mem,
            kernelMem: result.mem,
            diffs,
            report: describeMismatch(p.seed, p.index, p.insns, diffs),
          });
        }
      });
    };
    await runBatchInKernel(programs, onResult);
    report.msKernel += performance.now() - tKernel;
    await bpfbedWork;
    opts.onProgress?.(report);
  }
  return report;
}

/** One line of totals and rates, for test output and scripts/differential.mjs. */
export function formatTotals(t: DifferentialTotals): string {
  const rate = (n: number, ms: number): string => (ms > 0 ? `${Math.round((n * 1000) / ms)}/s` : '-');
  const acceptance = t.generated > 0 ? ((100 * t.accepted) / t.generated).toFixed(1) : '0';
  return (
    `seed ${t.seed}: generated ${t.generated}, accepted ${t.accepted} (${acceptance}%), compared ${t.compared}, ` +
    `mismatches ${t.mismatches}, tool errors ${t.toolErrors}; generate ${rate(t.generated, t.msGenerate)}, ` +
    `kernel ${rate(t.generated, t.msKernel)} (wall, overlapping bpfbed), bpfbed ${rate(t.compared, t.msBpfbed)}`
  );
}
