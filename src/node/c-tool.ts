// The kernel oracles' small C programs (against Debian's libbpf-dev), built on first use into
// build/ and rebuilt when their source is newer. Node-only.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest ancestor of `fromUrl`'s folder that holds `marker` (a repository-relative path). */
export function findRepoRoot(marker: string, fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (existsSync(join(dir, marker))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find ${marker} above ${dirname(fileURLToPath(fromUrl))}`);
    dir = parent;
  }
}

/**
 * Compiles `root/source` into `root/binary` with `cc -O2 -lbpf` when the binary is missing or
 * older than its source or a header beside it (tools/kernel/json.h), and returns its path. It compiles to a private name first, so
 * that concurrent test workers never see a half-written file.
 */
export function buildCTool(root: string, source: string, binary: string, what: string): string {
  const src = join(root, source);
  const bin = join(root, binary);
  const folder = dirname(src);
  const inputs = [src, ...readdirSync(folder).filter((f) => f.endsWith('.h')).map((f) => join(folder, f))];
  const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
  if (existsSync(bin) && statSync(bin).mtimeMs >= newest) return bin;
  mkdirSync(dirname(bin), { recursive: true });
  const partial = `${bin}.${process.pid}.tmp`;
  try {
    execFileSync('cc', ['-O2', '-Wall', '-o', partial, src, '-lbpf'], { stdio: ['ignore', 'ignore', 'pipe'] });
    renameSync(partial, bin);
  } catch (err) {
    rmSync(partial, { force: true });
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`${what}: cannot build ${source}: ${stderr || String(err)}`);
  }
  return bin;
}
