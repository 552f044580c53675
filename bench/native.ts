// The native column: the same C as the BPF program, compiled at bench time with clang-19 -O2
// (or cc -O2 where clang-19 is missing) together with bench/native/harness.c, and run as a
// child process that times itself (warm-up, batches, median) and prints JSON.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TimingOptions } from './measure.js';
import type { Workload } from './workloads.js';

export interface NativeResult {
  compiler: string;
  result: bigint;
  nsPerRun: number;
  runs: number;
}

function pickCompiler(): string {
  for (const candidate of ['clang-19', 'cc']) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error('no C compiler (clang-19 or cc) for the native column');
}

let compiler: string | undefined;

/** Compiles the workload's C natively into build/bench/native/ and returns the binary's path. */
export function buildNative(root: string, workload: Workload): { binary: string; compiler: string } {
  compiler ??= pickCompiler();
  const outDir = join(root, 'build/bench/native');
  mkdirSync(outDir, { recursive: true });
  const binary = join(outDir, workload.name);
  try {
    execFileSync(
      compiler,
      ['-O2', `-DBENCH_ENTRY=${workload.name}`, '-o', binary, join(root, 'bench/native/harness.c'), join(root, workload.source)],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`native build of ${workload.source} with ${compiler} failed: ${stderr || String(err)}`);
  }
  return { binary, compiler };
}

export function runNative(root: string, workload: Workload, input: Uint8Array, timing: TimingOptions): NativeResult {
  const { binary, compiler: used } = buildNative(root, workload);
  const dir = mkdtempSync(join(tmpdir(), 'bpfbed-bench-'));
  try {
    const memPath = join(dir, 'mem.bin');
    writeFileSync(memPath, input);
    const child = spawnSync(binary, [memPath, String(timing.minSeconds), String(timing.batches)], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (child.status !== 0) throw new Error(`native ${workload.name} failed: ${child.stderr || child.error?.message}`);
    const out = JSON.parse(child.stdout) as { result: string; ns_per_run: number; runs: number };
    return { compiler: used, result: BigInt(out.result), nsPerRun: out.ns_per_run, runs: out.runs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
