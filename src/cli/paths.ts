// Where the package's own files are, whether we run from src/ (tests) or dist/src/ (the CLI).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'fixtures'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the bpfbed package root (package.json next to fixtures/)');
    dir = up;
  }
}
