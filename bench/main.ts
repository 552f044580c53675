// `npm run bench`: interpreter throughput on compute-bound programs, next to the same C
// compiled natively and, where root is available, the same bytecode in the kernel; then the
// map-heavy workloads (bpf_map_lookup_elem / update_elem per run) in bpfbed and in the kernel.
//
//   node dist/bench/main.js [--json] [--only NAME[,NAME]] [--min-seconds S] [--batches N]
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeInsns } from '../src/asm/insn.js';
import { hex } from '../src/asm/disasm.js';
import { loadBenchProgram, prepareBpfbed } from './bpfbed.js';
import { runKernelColumn } from './kernel.js';
import { timeRuns, type TimingOptions } from './measure.js';
import { prepareMapBench } from './bpfbed-maps.js';
import { kernelJit, runKernelMapColumn } from './kernel-maps.js';
import { MAP_WORKLOADS, mapFill, MAPS_OBJECT, type MapWorkload } from './map-workloads.js';
import { runNative } from './native.js';
import { formatMapTable, formatTable, TARGET_INSN_PER_SEC, type MapWorkloadResult, type WorkloadResult } from './report.js';
import { WORKLOADS, type Workload } from './workloads.js';
import { benchPackets, formatPacketBench } from './packets/index.js';
import { benchNodePort, formatNodePortBench } from './packets/nodeport.js';

interface Args {
  json: boolean;
  only?: string[];
  timing: TimingOptions;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { json: false, timing: { minSeconds: 0.5, batches: 7 } };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    if (flag === '--json') args.json = true;
    else if (flag === '--only') args.only = value().split(',');
    else if (flag === '--min-seconds') args.timing.minSeconds = positive(flag, value());
    else if (flag === '--batches') args.timing.batches = Math.round(positive(flag, value()));
    else throw new Error(`unknown option ${flag} (use --json, --only NAME[,NAME], --min-seconds S, --batches N)`);
  }
  return args;
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} wants a positive number, got '${text}'`);
  return n;
}

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'bench/native/harness.c'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('bench: cannot find the repository root (bench/native/harness.c)');
    dir = parent;
  }
  return dir;
}

async function benchWorkload(root: string, workload: Workload, timing: TimingOptions, log: (s: string) => void): Promise<WorkloadResult> {
  const insns = loadBenchProgram(readFileSync(join(root, workload.object)), workload.object, workload.name);
  const input = workload.input();
  const mismatches: string[] = [];

  log(`${workload.name}: bpfbed`);
  const bpfbed = await prepareBpfbed(insns, workload.name, input);
  const once = bpfbed.run();
  const bpfbedTiming = timeRuns(() => bpfbed.run(), timing);
  const insnPerSec = (once.insnCount / bpfbedTiming.nsPerRun) * 1e9;

  log(`${workload.name}: native`);
  let native: WorkloadResult['native'];
  try {
    const n = runNative(root, workload, input, timing);
    if (n.result !== once.r0) mismatches.push(`native returned ${hex(n.result)}, bpfbed ${hex(once.r0)}`);
    native = { nsPerRun: n.nsPerRun, runs: n.runs, compiler: n.compiler, bpfbedRatio: bpfbedTiming.nsPerRun / n.nsPerRun };
  } catch (err) {
    native = { na: (err as Error).message };
  }

  log(`${workload.name}: kernel`);
  let kernel: WorkloadResult['kernel'];
  if ('na' in workload.kernelInput) {
    kernel = { na: workload.kernelInput.na };
  } else {
    const kernelInput = workload.kernelInput();
    // bpfbed's instruction count on the kernel's input turns the kernel's time into instr/s.
    const sameInput = kernelInput.length === input.length && kernelInput.every((b, i) => b === input[i]);
    const onKernelInput = sameInput ? once : (await prepareBpfbed(insns, workload.name, kernelInput)).run();
    const k = await runKernelColumn(encodeInsns(insns), kernelInput, timing).catch(
      (err: unknown) => ({ ok: false, na: (err as Error).message }) as const,
    );
    if (!k.ok) {
      kernel = { na: k.na };
    } else {
      if (k.result !== onKernelInput.r0) mismatches.push(`kernel returned ${hex(k.result)}, bpfbed ${hex(onKernelInput.r0)}`);
      const kernelInsnPerSec = (onKernelInput.insnCount / k.nsPerRun) * 1e9;
      kernel = {
        nsPerRun: k.nsPerRun,
        runs: k.runs,
        inputBytes: kernelInput.length,
        insnsPerRun: onKernelInput.insnCount,
        insnPerSec: kernelInsnPerSec,
        bpfbedRatio: kernelInsnPerSec / insnPerSec,
      };
    }
  }

  return {
    name: workload.name,
    what: workload.what,
    insnsPerRun: once.insnCount,
    result: hex(once.r0),
    bpfbed: { nsPerRun: bpfbedTiming.nsPerRun, runs: bpfbedTiming.runs, insnPerSec, targetRatio: insnPerSec / TARGET_INSN_PER_SEC },
    native,
    kernel,
    mismatches,
  };
}

async function benchMapWorkload(root: string, workload: MapWorkload, timing: TimingOptions, log: (s: string) => void): Promise<MapWorkloadResult> {
  const object = readFileSync(join(root, MAPS_OBJECT));
  const fill = mapFill();
  const mismatches: string[] = [];

  log(`${workload.name}: bpfbed`);
  const bpfbed = await prepareMapBench(object, workload.name, fill);
  const once = bpfbed.runOnce();
  const t = timeRuns(() => bpfbed.run(), timing);
  const callsPerSec = (workload.mapCallsPerRun / t.nsPerRun) * 1e9;

  log(`${workload.name}: kernel`);
  let kernel: MapWorkloadResult['kernel'];
  const k = runKernelMapColumn(root, MAPS_OBJECT, workload.name, fill, timing);
  if (!k.ok) {
    kernel = { na: k.na };
  } else {
    // A tc test run reports the program's return value as a u32 (net/bpf/test_run.c).
    const ours = Number(BigInt.asUintN(32, once.r0));
    if (k.retval !== ours) mismatches.push(`kernel returned ${k.retval}, bpfbed ${ours}`);
    kernel = {
      nsPerRun: k.nsPerRun,
      runs: k.runs,
      callsPerSec: (workload.mapCallsPerRun / k.nsPerRun) * 1e9,
      bpfbedRatio: t.nsPerRun / k.nsPerRun,
    };
  }
  return {
    name: workload.name,
    what: workload.what,
    mapCallsPerRun: workload.mapCallsPerRun,
    insnsPerRun: once.insnCount,
    result: hex(once.r0),
    bpfbed: { nsPerRun: t.nsPerRun, runs: t.runs, callsPerSec },
    kernel,
    mismatches,
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const root = repoRoot();
  const workloads = args.only ? WORKLOADS.filter((w) => args.only!.includes(w.name)) : WORKLOADS;
  const mapWorkloads = args.only ? MAP_WORKLOADS.filter((w) => args.only!.includes(w.name)) : MAP_WORKLOADS;
  if (workloads.length + mapWorkloads.length === 0 && !args.only?.includes('packets')) {
    const names = [...WORKLOADS, ...MAP_WORKLOADS].map((w) => w.name).concat('packets').join(', ');
    throw new Error(`--only matched no workload (have: ${names})`);
  }
  const log = (s: string): void => {
    if (!args.json) process.stderr.write(`bench: ${s}\n`);
  };

  const loadBefore = loadavg()[0];
  const results: WorkloadResult[] = [];
  for (const workload of workloads) results.push(await benchWorkload(root, workload, args.timing, log));
  const mapResults: MapWorkloadResult[] = [];
  for (const workload of mapWorkloads) mapResults.push(await benchMapWorkload(root, workload, args.timing, log));
  // The per-packet workload (issue 4): a tc program over a generated 100,000-packet capture,
  // through the whole per-packet path, next to the kernel's JIT on the same packets.
  const packetResults = args.only && !args.only.includes('packets') ? [] : await benchPackets({ minSeconds: args.timing.minSeconds, log, kernel: true });
  // The NodePort datapath (issue 5): bpf/kpr/nodeport.c's SYN and established paths, directly
  // and through the scenario pipeline, next to the kernel on the same packets.
  const nodePortResults = args.only && !args.only.includes('packets') ? [] : await benchNodePort({ minSeconds: args.timing.minSeconds, log, kernel: true });
  // Other work on the machine slows every column; say so rather than print quiet-looking numbers.
  const load = Math.max(loadBefore, loadavg()[0]);
  const busy = load > cpus().length * 0.75;
  const machine = `node ${process.version} on ${cpus()[0]?.model ?? 'an unknown CPU'} (${cpus().length} CPUs, load average ${load.toFixed(1)})`;

  if (args.json) {
    const replacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? hex(value) : value);
    const report = {
      node: process.version,
      cpu: cpus()[0]?.model ?? 'unknown',
      cpuCount: cpus().length,
      loadAverage: load,
      busy,
      timing: args.timing,
      targetInsnPerSec: TARGET_INSN_PER_SEC,
      workloads: results,
      mapWorkloads: mapResults,
      packetWorkloads: packetResults,
      nodePortWorkloads: nodePortResults,
      kernelEngine: kernelJit(),
    };
    process.stdout.write(`${JSON.stringify(report, replacer, 2)}\n`);
  } else {
    const warning = busy ? '\nWARNING: the machine was busy during the run; the times are inflated and noisy.\n' : '';
    const tables = [
      results.length ? formatTable(results) : '',
      mapResults.length ? formatMapTable(mapResults, kernelJit()) : '',
      packetResults.length ? formatPacketBench(packetResults) : '',
      nodePortResults.length ? formatNodePortBench(nodePortResults) : '',
    ].filter(Boolean);
    process.stdout.write(`${machine}\n\n${tables.join('\n\n')}\n${warning}`);
  }
  if ([...results, ...mapResults].some((r) => r.mismatches.length > 0) || [...packetResults, ...nodePortResults].some((r) => r.mismatches.length > 0)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
