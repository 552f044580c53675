// Drives tools/kernel/bpfbed-kbatch.c: many raw programs verified and test-run in one process,
// one JSON line back per program. Node-only, needs root (see src/node/kernel.ts for the
// single-program runner and kernelAvailable()).
import { buildCTool, findRepoRoot } from '../c-tool.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

const TOOL_SOURCE = 'tools/kernel/bpfbed-kbatch.c';
const TOOL_BINARY = 'build/kernel/bpfbed-kbatch';

export interface BatchProgram {
  code: Uint8Array;
  mem: Uint8Array;
}

export type BatchResult =
  | { accepted: true; retval: number; mem: Uint8Array }
  | { accepted: false; errno: number; verifierLog: string }
  | { accepted: false; error: string };

/** Builds build/kernel/bpfbed-kbatch when missing or older than its source; returns its path. */
export function buildBatchTool(): string {
  return buildCTool(findRepoRoot(TOOL_SOURCE), TOOL_SOURCE, TOOL_BINARY, 'kernel batch runner');
}

/** The stdin records of bpfbed-kbatch: u32 code length, u32 memory length (LE), code, memory. */
export function encodeRecords(programs: readonly BatchProgram[]): Uint8Array {
  let total = 0;
  for (const p of programs) total += 8 + p.code.length + p.mem.length;
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of programs) {
    view.setUint32(at, p.code.length, true);
    view.setUint32(at + 4, p.mem.length, true);
    out.set(p.code, at + 8);
    out.set(p.mem, at + 8 + p.code.length);
    at += 8 + p.code.length + p.mem.length;
  }
  return out;
}

interface ToolLine {
  i?: number;
  accepted?: boolean;
  retval?: number;
  mem?: string;
  errno?: number;
  verifier_log?: string;
  error?: string;
  done?: number;
}

function hexToBytes(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

/**
 * Runs `programs` in the kernel, calling `onResult(index, result)` as each answer arrives (so
 * the caller can run bpfbed on it while the kernel works on the next ones). Resolves when every
 * program has an answer; rejects if the tool fails or takes longer than `timeoutMs`.
 */
export function runBatchInKernel(
  programs: readonly BatchProgram[],
  onResult: (index: number, result: BatchResult) => void,
  opts: { timeoutMs?: number } = {},
): Promise<void> {
  const binary = buildBatchTool();
  const timeoutMs = opts.timeoutMs ?? 600_000;
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let answered = 0;
    let failure: Error | undefined;
    let stderr = '';
    const timer = setTimeout(() => {
      failure = new Error(`kernel batch runner: no complete answer within ${timeoutMs} ms (killed)`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (failure) return;
      let out: ToolLine;
      try {
        out = JSON.parse(line) as ToolLine;
      } catch {
        failure = new Error(`kernel batch runner: unreadable line ${JSON.stringify(line.slice(0, 200))}`);
        child.kill('SIGKILL');
        return;
      }
      if (out.done !== undefined) return;
      if (out.i === undefined) {
        failure = new Error(`kernel batch runner: ${out.error ?? line}`);
        return;
      }
      answered++;
      try {
        if (out.error !== undefined) onResult(out.i, { accepted: false, error: out.error });
        else if (out.accepted) onResult(out.i, { accepted: true, retval: out.retval ?? 0, mem: hexToBytes(out.mem ?? '') });
        else onResult(out.i, { accepted: false, errno: out.errno ?? 0, verifierLog: out.verifier_log ?? '' });
      } catch (err) {
        failure = err as Error;
        child.kill('SIGKILL');
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`kernel batch runner: cannot start ${binary}: ${err.message}`));
    });
    // 'close' of the child comes after its stdout has ended, so every line has been seen.
    child.on('close', (code) => {
      clearTimeout(timer);
      if (failure) reject(failure);
      else if (answered !== programs.length) {
        reject(new Error(`kernel batch runner: ${answered} answers for ${programs.length} programs (exit ${code}) ${stderr.trim()}`));
      } else resolve();
    });
    child.stdin.on('error', () => {}); // an early exit is reported by 'close'
    child.stdin.end(encodeRecords(programs));
  });
}
