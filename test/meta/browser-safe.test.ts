import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

// The core (everything in src/ but the CLI and the Node adapters) must run unchanged in a
// browser, so it may not reach Node's built-in modules or globals.
const root = join(import.meta.dirname, '..', '..');
const NODE_ONLY = ['src/cli', 'src/node'];
// The playground's build configuration runs in Node (Vite), not in the page.
const BUILD_CONFIG = ['src/playground/vite.config.ts'];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.tsx?$/.test(path) ? [path] : [];
  });
}

const core = sources(join(root, 'src')).filter(
  (path) => !NODE_ONLY.some((dir) => relative(root, path).startsWith(dir + '/')) && !BUILD_CONFIG.includes(relative(root, path)),
);

describe('browser-safe core', () => {
  it('finds core sources to check', () => {
    expect(core.length).toBeGreaterThan(5);
  });

  it.each(core.map((path) => [relative(root, path), path]))('%s imports no Node built-in', (_, path) => {
    const text = readFileSync(path, 'utf8');
    const imports = [...text.matchAll(/(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)]
      .map((m) => m[1] ?? m[2]);
    const nodeBuiltins = imports.filter((spec) => spec.startsWith('node:') || /^(fs|path|os|child_process|crypto|url|util|buffer|process|worker_threads)(\/|$)/.test(spec));
    expect(nodeBuiltins).toEqual([]);
    // Node-only globals
    expect(text).not.toMatch(/\bBuffer\.(from|alloc|concat)\b|\bprocess\.(env|argv|exit|stdout|stderr|cwd)\b|\brequire\(/);
  });

  it("uses msgpackr's pure JavaScript entry points (its native accelerator is overridden away in package.json)", () => {
    for (const path of sources(join(root, 'src'))) {
      expect(readFileSync(path, 'utf8'), relative(root, path)).not.toMatch(/from\s*['"]msgpackr['"]/);
    }
  });

  it('core reaches no Node-only module through a relative import', () => {
    for (const path of core) {
      const text = readFileSync(path, 'utf8');
      for (const m of text.matchAll(/from\s*['"](\.[^'"]+)['"]/g)) {
        const target = relative(root, join(path, '..', m[1]));
        expect(NODE_ONLY.some((dir) => target.startsWith(dir + '/')), `${relative(root, path)} imports ${m[1]}`).toBe(false);
      }
    }
  });
});
