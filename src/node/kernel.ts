// The real kernel as an oracle: runs raw BPF bytecode with BPF_PROG_TEST_RUN through the small
// C tool tools/kernel/bpfbed-kexec.c (see its header for how a snippet is wrapped so that the
// full 64-bit r0 and the memory come back). Node-only; needs root, a C compiler and libbpf-dev.
// bpfbed itself never needs any of this: only tests and benchmarks use it, and skip without it.
import { buildCTool, findRepoRoot } from './c-tool.js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KernelRunOptions {
  /** Runs per BPF_PROG_TEST_RUN call; the kernel reports the mean time per run. Default 1. */
  repeat?: number;
  /**
   * Test runs (of `repeat` runs each) on the one loaded program; `durationNs` is their median.
   * Default 1. r0 and memory come from the first batch.
   */
  batches?: number;
  /**
   * Memory for the snippet: r1 points to a copy of it (an array map value), r2 = its length,
   * the calling convention of bpfbed's execRaw and of uBPF. Without it r1 = r2 = 0. A snippet
   * with legacy packet loads (LD_ABS/LD_IND) keeps r1 = the context and gets it as the packet.
   */
  mem?: Uint8Array;
  /**
   * How the snippet is placed (tools/kernel/bpfbed-kexec.c): 'main' (default) keeps it the main
   * program, its exits rewritten to jump to an epilogue that saves r0, as bpfbed runs it;
   * 'subprog' calls it unchanged as a BPF-to-BPF subprogram (one more call frame). A snippet
   * whose main function falls off its end or jumps out of it always runs as 'subprog', so the
   * verifier judges it as written.
   */
  mode?: KernelMode;
  /** Kills the run after this many milliseconds (verifying and running a long loop takes time). Default 120 s. */
  timeoutMs?: number;
}

/** The layout the runner used (see KernelRunOptions.mode). */
export type KernelMode = 'main' | 'subprog';

export interface KernelAccepted {
  accepted: true;
  mode: KernelMode;
  /** The snippet's full 64-bit r0 at exit, unsigned. */
  r0: bigint;
  /** Mean nanoseconds per run as the kernel measured it (includes ~tens of ns of test-run overhead). */
  durationNs: number;
  /** Each batch's mean time per run. */
  durationsNs: number[];
  repeat: number;
  /** The memory after the run (only when opts.mem was given and non-empty). */
  mem?: Uint8Array;
}

export interface KernelRejected {
  accepted: false;
  mode: KernelMode;
  errno: number;
  /**
   * The verifier's log. Its instruction indices count the `wrapperSlots` the runner puts before
   * the snippet (and, in 'main' mode, 4 more epilogue slots before the snippet's subprograms).
   */
  verifierLog: string;
  wrapperSlots: number;
}

export type KernelResult = KernelAccepted | KernelRejected;

export interface KernelAvailability {
  ok: boolean;
  why?: string;
}

const TOOL_SOURCE = 'tools/kernel/bpfbed-kexec.c';
const TOOL_BINARY = 'build/kernel/bpfbed-kexec';

/**
 * Builds build/kernel/bpfbed-kexec when it is missing or older than its source, and returns its
 * path. Compiles to a private name first so that concurrent test workers never see a half file.
 */
export function buildKernelTool(): string {
  return buildCTool(findRepoRoot(TOOL_SOURCE), TOOL_SOURCE, TOOL_BINARY, 'kernel runner');
}

let availability: KernelAvailability | undefined;

/**
 * Whether the kernel oracle can run here: root, a C compiler, libbpf headers, and a BPF syscall
 * that loads and test-runs a two-instruction program returning 42. Checked once per process.
 * BPFBED_KERNEL=0 in the environment turns the oracle off.
 */
export function kernelAvailable(): KernelAvailability {
  availability ??= probeKernel();
  return availability;
}

function probeKernel(): KernelAvailability {
  if (process.env.BPFBED_KERNEL === '0') return { ok: false, why: 'turned off by BPFBED_KERNEL=0' };
  if (process.platform !== 'linux') return { ok: false, why: `BPF needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'BPF_PROG_LOAD needs root (not running as uid 0)' };
  if (spawnSync('cc', ['--version'], { stdio: 'ignore' }).status !== 0) return { ok: false, why: 'no C compiler (cc)' };
  if (!existsSync('/usr/include/bpf/bpf.h')) return { ok: false, why: 'libbpf headers missing (apt-get install libbpf-dev)' };
  let binary: string;
  try {
    binary = buildKernelTool();
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
  // mov64 r0, 42 ; exit
  const probe = Uint8Array.of(0xb7, 0x00, 0, 0, 42, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0);
  const run = spawnSync(binary, [], { input: probe, encoding: 'utf8', timeout: 30_000 });
  try {
    const out = parseToolOutput(run.stdout, run.stderr);
    if (!out.accepted) return { ok: false, why: `the kernel rejected a trivial program: ${out.verifierLog}` };
    if (out.r0 !== 42n) return { ok: false, why: `a trivial program returned ${out.r0}, not 42` };
  } catch (err) {
    return { ok: false, why: (err as Error).message };
  }
  return { ok: true };
}

/** Runs raw bytecode (8-byte slots) in the kernel. Rejects only when the tool itself fails. */
export async function runInKernel(code: Uint8Array, opts: KernelRunOptions = {}): Promise<KernelResult> {
  const repeat = opts.repeat ?? 1;
  const batches = opts.batches ?? 1;
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 0x7fff_ffff) {
    throw new Error(`runInKernel: repeat must be an integer in 1..2^31-1, got ${repeat}`);
  }
  if (!Number.isInteger(batches) || batches < 1 || batches > 1000) {
    throw new Error(`runInKernel: batches must be an integer in 1..1000, got ${batches}`);
  }
  if (code.length === 0 || code.length % 8 !== 0) {
    throw new Error(`runInKernel: program of ${code.length} bytes is not a non-empty multiple of 8`);
  }
  const binary = buildKernelTool();
  const args = ['--repeat', String(repeat), '--batches', String(batches), '--mode', opts.mode ?? 'main'];
  let tempDir: string | undefined;
  try {
    if (opts.mem && opts.mem.length > 0) {
      tempDir = mkdtempSync(join(tmpdir(), 'bpfbed-kexec-'));
      const memPath = join(tempDir, 'mem.bin');
      writeFileSync(memPath, opts.mem);
      args.push('--mem', memPath);
    }
    const { stdout, stderr } = await runTool(binary, args, code, opts.timeoutMs ?? 120_000);
    return parseToolOutput(stdout, stderr);
  } finally {
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
  }
}

function runTool(
  binary: string,
  args: string[],
  input: Uint8Array,
  timeoutMs: number,
): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`kernel runner: cannot start ${binary}: ${err.message}`));
    });
    child.on('close', () => {
      clearTimeout(timer);
      if (timedOut) reject(new Error(`kernel runner: no answer within ${timeoutMs} ms (killed)`));
      else resolve({ stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the tool may exit before reading all input; 'close' reports it
    child.stdin.end(input);
  });
}

interface ToolOutput {
  accepted?: boolean;
  r0?: string;
  duration_ns?: number;
  durations_ns?: number[];
  repeat?: number;
  mem?: string;
  errno?: number;
  verifier_log?: string;
  wrapper_slots?: number;
  mode?: KernelMode;
  error?: string;
}

function parseToolOutput(stdout: string, stderr: string): KernelResult {
  let out: ToolOutput;
  try {
    out = JSON.parse(stdout) as ToolOutput;
  } catch {
    throw new Error(`kernel runner: unreadable output ${JSON.stringify(stdout.slice(0, 200))} ${stderr.trim()}`);
  }
  if (out.error !== undefined) throw new Error(`kernel runner: ${out.error}`);
  if (out.accepted === true) {
    return {
      accepted: true,
      mode: out.mode ?? 'main',
      r0: BigInt(out.r0 ?? 'x'),
      durationNs: out.duration_ns ?? 0,
      durationsNs: out.durations_ns ?? [],
      repeat: out.repeat ?? 1,
      ...(out.mem !== undefined ? { mem: hexToBytes(out.mem) } : {}),
    };
  }
  return {
    accepted: false,
    mode: out.mode ?? 'main',
    errno: out.errno ?? 0,
    verifierLog: out.verifier_log ?? '',
    wrapperSlots: out.wrapper_slots ?? 0,
  };
}

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}
