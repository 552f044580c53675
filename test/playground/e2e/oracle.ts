// What the page shows is checked against the command line on the same inputs: `bpfbed run
// --json` (src/cli/commands/run.ts; the report is RunReport of src/run/scenario-run.ts, bigints
// as strings, bytes as arrays) and the captures it writes with --out.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter, readCapture } from '../../../src/pcap/index.js';
import { REPO } from './site.js';

export interface CliHop {
  program: string;
  verdict: string;
  redirect?: string;
  /** The fault's text: message, instruction, and `at FILE:LINE: C text`. */
  fault?: string;
}

export interface CliPacket {
  packet: number;
  device: string;
  input: string;
  output: string;
  verdict: string;
  result?: string;
  changes: string[];
  hops: CliHop[];
}

export interface CliReport {
  packets: CliPacket[];
  outputs: { name: string; packets: number }[];
  totals: { packets: number; faults: number; dropped: number; instructions: number };
}

function newestMtime(path: string, skip: (p: string) => boolean): number {
  if (skip(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((name) => newestMtime(join(path, name), skip)));
}

let warnedStale = false;

/** Says so (once) when the CLI compared with is older than src/: a mismatch may be that. */
function warnIfCliStale(): void {
  if (warnedStale) return;
  warnedStale = true;
  const built = newestMtime(join(REPO, 'dist/src'), () => false);
  const source = newestMtime(join(REPO, 'src'), (p) => p.includes(join('src', 'playground')));
  if (source > built) console.warn('note: dist/src is older than src/, the CLI the page is compared with may be stale (npm run build:ts)');
}

/** `bpfbed run ARGS --json --out DIR`: the report and the folder with one pcap per output. */
export function cliRun(args: string[]): { report: CliReport; outDir: string } {
  const bin = join(REPO, 'bin/bpfbed.js');
  if (!existsSync(join(REPO, 'dist/src/cli'))) {
    throw new Error('dist/src/cli is missing: the browser tests compare with the CLI, build it first (npm run build; npm test does)');
  }
  warnIfCliStale();
  const outDir = mkdtempSync(join(tmpdir(), 'bpfbed-e2e-cli-'));
  const r = spawnSync(process.execPath, [bin, 'run', ...args, '--json', '--out', outDir, '--drops', '--no-progress'], { cwd: REPO, encoding: 'utf8', maxBuffer: 64 << 20 });
  // Exit 1 only says the run did not match the scenario's expectations; the report is still whole.
  if (r.status !== 0 && r.status !== 1) throw new Error(`bpfbed run ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  try {
    return { report: JSON.parse(r.stdout) as CliReport, outDir };
  } catch {
    throw new Error(`bpfbed run ${args.join(' ')} printed no JSON report: ${r.stdout.slice(0, 300)} ${r.stderr.slice(0, 300)}`);
  }
}

/** The captured frames of a pcap or pcapng file. */
export function framesOf(path: string): Uint8Array[] {
  return readCapture(new Uint8Array(readFileSync(path))).packets.map((p) => p.data.slice());
}

/** A capture of `copies` rounds of the packets of `path`, one microsecond apart (for long runs). */
export function repeatCapture(path: string, copies: number): Uint8Array {
  const frames = readCapture(new Uint8Array(readFileSync(path))).packets;
  const out = new PcapWriter();
  let t = 1_700_000_000_000_000_000n;
  for (let i = 0; i < copies; i++) {
    for (const f of frames) {
      out.add(f.data, t);
      t += 1000n;
    }
  }
  return out.bytes();
}

/** `FILE:LINE` and the C text of a CLI fault's `at FILE:LINE: TEXT` line. */
export function faultLine(fault: string): { file: string; line: number; text: string } | undefined {
  const m = /^\s*at (\S+):(\d+): (.*)$/m.exec(fault);
  return m ? { file: m[1], line: Number(m[2]), text: m[3].trim() } : undefined;
}
