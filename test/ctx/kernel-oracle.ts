// The running kernel as oracle for the contexts: loads an object with bpftool and runs one of
// its programs with BPF_PROG_TEST_RUN (`bpftool prog run ... data_in ... ctx_in ...`). Node-only;
// needs root and bpftool. Used by the *-kernel.test.ts files here, which skip without them.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KernelTestRun {
  retval: number;
  dataOut: Uint8Array;
  ctxOut?: Uint8Array;
}

const PIN_ROOT = '/sys/fs/bpf/bpfbed-ctx-test';

/** Live kernel checks run in vitest's `kernel` project (BPFBED_KERNEL=1, root) with bpftool. */
export function kernelOracleAvailable(): { ok: boolean; why?: string } {
  if (process.env.BPFBED_KERNEL !== '1') return { ok: false, why: 'BPFBED_KERNEL is not 1 (the kernel project sets it for root)' };
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, why: 'not root' };
  if (spawnSync('bpftool', ['version']).status !== 0) return { ok: false, why: 'bpftool is not installed' };
  if (!existsSync('/sys/fs/bpf')) return { ok: false, why: 'no bpffs at /sys/fs/bpf' };
  return { ok: true };
}

const loaded = new Map<string, string>();

/** Loads every program of `objPath` (bpftool prog loadall) once per process; returns the pin folder. */
function load(objPath: string, type: string): string {
  const key = `${objPath}:${type}`;
  const have = loaded.get(key);
  if (have) return have;
  const dir = `${PIN_ROOT}-${process.pid}-${loaded.size}`;
  rmSync(dir, { recursive: true, force: true });
  execFileSync('bpftool', ['prog', 'loadall', objPath, dir, 'type', type], { stdio: ['ignore', 'ignore', 'pipe'] });
  loaded.set(key, dir);
  return dir;
}

/** Removes the pins of this process. */
export function unloadAll(): void {
  for (const dir of loaded.values()) rmSync(dir, { recursive: true, force: true });
  loaded.clear();
}

/** Runs program `prog` of `objPath` (bpftool load type: classifier, xdp, socket) once. */
export function kernelTestRun(objPath: string, type: string, prog: string, data: Uint8Array, ctx?: Uint8Array): KernelTestRun {
  const dir = load(objPath, type);
  const tmp = mkdtempSync(join(tmpdir(), 'bpfbed-ctx-'));
  try {
    writeFileSync(join(tmp, 'data'), data);
    const args = ['prog', 'run', 'pinned', join(dir, prog), 'data_in', join(tmp, 'data'), 'data_out', join(tmp, 'out'), 'data_size_out', '16384'];
    if (ctx) {
      writeFileSync(join(tmp, 'ctx'), ctx);
      args.push('ctx_in', join(tmp, 'ctx'), 'ctx_out', join(tmp, 'ctxout'));
    }
    const out = execFileSync('bpftool', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const m = /Return value: (-?\d+)/.exec(out);
    if (!m) throw new Error(`bpftool prog run: no return value in ${JSON.stringify(out)}`);
    const res: KernelTestRun = { retval: Number(m[1]) | 0, dataOut: new Uint8Array(readFileSync(join(tmp, 'out'))) };
    if (ctx && existsSync(join(tmp, 'ctxout'))) res.ctxOut = new Uint8Array(readFileSync(join(tmp, 'ctxout')));
    return res;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
