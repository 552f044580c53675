// The built playground the browser tests load: dist/playground, rebuilt when it is missing or
// older than anything it is built from (the page, the worker, the src/ modules they bundle, the
// bundled example's fixtures, the Vite config).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../..', import.meta.url));
export const SITE_DIR = join(REPO, 'dist/playground');
export const VITE_CONFIG = join(REPO, 'src/playground/vite.config.ts');

/** What the site is built from. src/cli and src/node are Node-only and never bundled. */
const SOURCES = ['src', 'fixtures/obj', 'fixtures/scenarios', 'fixtures/kpr', 'fixtures/examples', 'fixtures/k8s', 'package.json'];
const NOT_BUNDLED = new Set(['src/cli', 'src/node']);

function newestSource(path: string): { mtimeMs: number; path: string } {
  const rel = relative(REPO, path);
  if (NOT_BUNDLED.has(rel) || !existsSync(path)) return { mtimeMs: 0, path };
  const st = statSync(path);
  if (!st.isDirectory()) return { mtimeMs: st.mtimeMs, path };
  let newest = { mtimeMs: st.mtimeMs, path };
  for (const name of readdirSync(path)) {
    const n = newestSource(join(path, name));
    if (n.mtimeMs > newest.mtimeMs) newest = n;
  }
  return newest;
}

/** Why the site must be (re)built, or undefined when dist/playground is up to date. */
export function siteStaleReason(): string | undefined {
  const index = join(SITE_DIR, 'index.html');
  if (!existsSync(index)) return `${relative(REPO, index)} does not exist`;
  const builtAt = statSync(index).mtimeMs;
  let newest = { mtimeMs: 0, path: '' };
  for (const source of SOURCES) {
    const n = newestSource(join(REPO, source));
    if (n.mtimeMs > newest.mtimeMs) newest = n;
  }
  return newest.mtimeMs > builtAt ? `${relative(REPO, newest.path)} is newer than the build` : undefined;
}

/** Runs `vite build` on the playground config (the same build as `npm run build:playground`, minus its typecheck). */
export function buildSite(): void {
  const vite = join(REPO, 'node_modules/vite/bin/vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '-c', VITE_CONFIG, '--logLevel', 'warn'], { cwd: REPO, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`building the playground failed (vite build -c src/playground/vite.config.ts, exit ${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
  }
}

/** Builds dist/playground if it is missing or stale; says what it did and how long it took. */
export function ensureSiteBuilt(): { built: boolean; why?: string; ms: number } {
  const why = siteStaleReason();
  if (!why) return { built: false, ms: 0 };
  const started = Date.now();
  buildSite();
  return { built: true, why, ms: Date.now() - started };
}

/**
 * Files the site needs that are missing from `dir`: what index.html loads, and what its scripts
 * load relative to themselves (`new URL('worker-….js', import.meta.url)`: the worker, the
 * bundled example's files).
 */
export function missingSiteFiles(dir: string): string[] {
  const html = readFileSync(join(dir, 'index.html'), 'utf8');
  const entries = [...html.matchAll(/(?:src|href)="\.?\/?([^"#?:]+\.(?:js|css))"/g)].map((m) => m[1]);
  const needed = [...entries];
  for (const entry of entries.filter((e) => e.endsWith('.js') && existsSync(join(dir, e)))) {
    const code = readFileSync(join(dir, entry), 'utf8');
    for (const m of code.matchAll(/new URL\((["'`])([^"'`]+)\1,\s*import\.meta\.url\)/g)) needed.push(join(dirname(entry), m[2]));
  }
  return needed.filter((file) => !existsSync(join(dir, file)));
}

/**
 * A private copy of the built site in a temp folder (remove it with the returned `remove`). Other
 * people rebuild dist/playground while tests run (`npm run build:playground` empties it first);
 * a copy taken once and checked whole keeps a test file on one consistent build.
 */
export function copyOfSite(): { dir: string; remove(): void } {
  let problem = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    if (attempt === 1) ensureSiteBuilt();
    else buildSite();
    const dir = mkdtempSync(join(tmpdir(), 'bpfbed-site-'));
    const remove = () => rmSync(dir, { recursive: true, force: true });
    try {
      cpSync(SITE_DIR, dir, { recursive: true });
      const missing = missingSiteFiles(dir);
      if (missing.length === 0) return { dir, remove };
      problem = `the copy lacks ${missing.join(', ')}`;
    } catch (err) {
      problem = (err as Error).message;
    }
    remove();
  }
  throw new Error(`cannot take a whole copy of dist/playground (rebuilt by someone else meanwhile?): ${problem}`);
}
