// The kernel column of the map workloads: bench/kernel/maprun.c (libbpf) loads the object, fills
// its maps with the same entries as bpfbed, and times the program with BPF_PROG_TEST_RUN and
// `repeat`. Needs root, a C compiler and libbpf-dev; otherwise the column is n/a.
import { buildCTool } from '../src/node/c-tool.js';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kernelAvailable } from '../src/node/kernel.js';
import type { TimingOptions } from './measure.js';
import type { MapFillEntry } from './map-workloads.js';

const TOOL_SOURCE = 'bench/kernel/maprun.c';
const TOOL_BINARY = 'build/bench/kernel/maprun';

/** Whether the kernel JIT-compiles BPF (net.core.bpf_jit_enable), for the table's legend. */
export function kernelJit(): string {
  try {
    const v = readFileSync('/proc/sys/net/core/bpf_jit_enable', 'utf8').trim();
    return v === '0' ? 'interpreter (bpf_jit_enable=0)' : 'JIT';
  } catch {
    return 'unknown (no /proc/sys/net/core/bpf_jit_enable)';
  }
}

export type KernelMapRun =
  | { ok: true; retval: number; nsPerRun: number; runs: number }
  | { ok: false; na: string };

/** Builds the tool when missing or older than its source (to a private name first: no half files). */
export function buildMapRunner(root: string): string {
  return buildCTool(root, TOOL_SOURCE, TOOL_BINARY, 'map bench runner');
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** One test run of `repeat` runs per batch, `batches` batches, on a freshly loaded and filled object. */
export function runMapProgramInKernel(
  root: string,
  object: string,
  program: string,
  fill: readonly MapFillEntry[],
  repeat: number,
  batches: number,
): { retval: number; durationNs: number } {
  const binary = buildMapRunner(root);
  const input = fill.map((e) => `${e.map} ${hex(e.key)} ${hex(e.value)}\n`).join('');
  const child = spawnSync(binary, [join(root, object), program, String(repeat), String(batches)], {
    input,
    encoding: 'utf8',
    timeout: 120_000,
  });
  let out: { retval?: number; duration_ns?: number; error?: string };
  try {
    out = JSON.parse(child.stdout) as typeof out;
  } catch {
    throw new Error(`maprun ${program}: unreadable output ${JSON.stringify(child.stdout?.slice(0, 200))} ${child.stderr?.trim() ?? child.error?.message ?? ''}`);
  }
  if (out.error !== undefined) throw new Error(`maprun ${program}: ${out.error}`);
  return { retval: out.retval ?? NaN, durationNs: out.duration_ns ?? NaN };
}

export function runKernelMapColumn(root: string, object: string, program: string, fill: readonly MapFillEntry[], timing: TimingOptions): KernelMapRun {
  const available = kernelAvailable();
  if (!available.ok) return { ok: false, na: available.why ?? 'kernel not available' };
  try {
    const probe = runMapProgramInKernel(root, object, program, fill, 1000, 1);
    const perBatchNs = (timing.minSeconds * 1e9) / timing.batches;
    const repeat = Math.min(0x7fff_ffff, Math.max(1, Math.ceil(perBatchNs / Math.max(1, probe.durationNs))));
    const timed = runMapProgramInKernel(root, object, program, fill, repeat, timing.batches);
    return { ok: true, retval: probe.retval, nsPerRun: timed.durationNs, runs: repeat * timing.batches };
  } catch (err) {
    return { ok: false, na: (err as Error).message };
  }
}
