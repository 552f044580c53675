// Printing `npm run bench` results: a compact table for people, JSON (--json) for machines.

/** This project's interpreter target, with every memory access bounds-checked (issue 2). */
export const TARGET_INSN_PER_SEC = 300e6;

export interface EngineTiming {
  nsPerRun: number;
  runs: number;
}

export interface WorkloadResult {
  name: string;
  what: string;
  /** BPF instructions bpfbed executed per run on the input. */
  insnsPerRun: number;
  result: string;
  bpfbed: EngineTiming & { insnPerSec: number; targetRatio: number };
  native: (EngineTiming & { compiler: string; bpfbedRatio: number }) | { na: string };
  /**
   * The same bytecode in the kernel. When the verifier only accepts a smaller input, the kernel
   * ran that one: `insnsPerRun` is bpfbed's count on it, and the ratio compares ns per instruction.
   */
  kernel: (EngineTiming & { inputBytes: number; insnsPerRun: number; insnPerSec: number; bpfbedRatio: number }) | { na: string };
  /** Results that disagree between engines (the benchmark is then meaningless). */
  mismatches: string[];
}

const SI = (value: number, unit: string): string => {
  const scales: [number, string][] = [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [scale, prefix] of scales) if (value >= scale) return `${(value / scale).toFixed(value / scale >= 100 ? 0 : 1)} ${prefix}${unit}`;
  return `${value.toFixed(0)} ${unit}`;
};

export const duration = (ns: number): string => {
  if (ns >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e3) return `${(ns / 1e3).toFixed(1)} µs`;
  return `${ns.toFixed(0)} ns`;
};

const ratio = (r: number): string => (r >= 10 ? `${r.toFixed(0)}x` : `${r.toFixed(2)}x`);

export function formatTable(results: readonly WorkloadResult[]): string {
  const header = ['workload', 'insns/run', 'bpfbed/run', 'bpfbed insn/s', 'of 300M/s', 'native/run', 'bpfbed/native', 'kernel/run', 'bpfbed/kernel'];
  const rows = results.map((r) => [
    r.name,
    SI(r.insnsPerRun, ''),
    duration(r.bpfbed.nsPerRun),
    SI(r.bpfbed.insnPerSec, '/s'),
    ratio(r.bpfbed.targetRatio),
    'na' in r.native ? 'n/a' : duration(r.native.nsPerRun),
    'na' in r.native ? 'n/a' : ratio(r.native.bpfbedRatio),
    'na' in r.kernel ? 'n/a' : duration(r.kernel.nsPerRun) + (r.kernel.insnsPerRun !== r.insnsPerRun ? '*' : ''),
    'na' in r.kernel ? 'n/a' : ratio(r.kernel.bpfbedRatio),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  for (const r of results) {
    out.push(`${r.name}: ${r.what}; r0 ${r.result}`);
    if ('na' in r.native) out.push(`  native: n/a (${r.native.na})`);
    if ('na' in r.kernel) out.push(`  kernel: n/a (${r.kernel.na})`);
    else if (r.kernel.insnsPerRun !== r.insnsPerRun) {
      out.push(
        `  * kernel ran a ${r.kernel.inputBytes}-byte input (${SI(r.kernel.insnsPerRun, 'insns')}/run, ` +
          `${SI(r.kernel.insnPerSec, 'insn/s')}); bpfbed/kernel compares time per instruction`,
      );
    }
    for (const m of r.mismatches) out.push(`  RESULT MISMATCH: ${m}`);
  }
  out.push(
    '',
    'bpfbed/native and bpfbed/kernel: how many times longer bpfbed takes for the same work; ' +
      '"of 300M/s": bpfbed instr/s over the target of 300 M BPF instructions per second.',
  );
  return out.join('\n');
}

/** A map workload (bench/map-workloads.ts): time per run and map helper calls per second. */
export interface MapWorkloadResult {
  name: string;
  what: string;
  /** Map helper calls (lookups, updates) per run. */
  mapCallsPerRun: number;
  insnsPerRun: number;
  result: string;
  bpfbed: EngineTiming & { callsPerSec: number };
  /** The same object, maps filled the same way, in the kernel (JIT where enabled). */
  kernel: (EngineTiming & { callsPerSec: number; bpfbedRatio: number }) | { na: string };
  mismatches: string[];
}

export function formatMapTable(results: readonly MapWorkloadResult[], kernelEngine = 'JIT'): string {
  const header = ['map workload', 'map calls/run', 'insns/run', 'bpfbed/run', 'bpfbed calls/s', 'kernel/run', 'kernel calls/s', 'bpfbed/kernel'];
  const rows = results.map((r) => [
    r.name,
    String(r.mapCallsPerRun),
    SI(r.insnsPerRun, ''),
    duration(r.bpfbed.nsPerRun),
    SI(r.bpfbed.callsPerSec, '/s'),
    'na' in r.kernel ? 'n/a' : duration(r.kernel.nsPerRun),
    'na' in r.kernel ? 'n/a' : SI(r.kernel.callsPerSec, '/s'),
    'na' in r.kernel ? 'n/a' : ratio(r.kernel.bpfbedRatio),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line), ''];
  for (const r of results) {
    out.push(`${r.name}: ${r.what}; r0 ${r.result}`);
    if ('na' in r.kernel) out.push(`  kernel: n/a (${r.kernel.na})`);
    for (const m of r.mismatches) out.push(`  RESULT MISMATCH: ${m}`);
  }
  out.push(
    '',
    'Maps filled identically in both engines (256 flows per map); "calls/s": bpf_map_* helper calls per second, ' +
      `interpretation of the code between them included. kernel/run is BPF_PROG_TEST_RUN's mean time per run (kernel: ${kernelEngine}).`,
  );
  return out.join('\n');
}
