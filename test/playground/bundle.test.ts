// The playground's page and worker bundles hold no Node-only code: no Node built-in module
// (node:fs, path, child_process...), and no Buffer, process or require in bpfbed's own modules.
// The Vite config's rejectNodeBuiltins plugin already fails the build on a built-in import; this
// test builds the real site (unminified, into a temp folder, so each module's rendered code can
// be read) and checks what reached each bundle, and checks that the plugin does fail a build.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { build, loadConfigFromFile, type InlineConfig, type Plugin, type UserConfig } from 'vite';
import { REPO, VITE_CONFIG } from './e2e/site.js';

const temp = mkdtempSync(join(tmpdir(), 'bpfbed-bundle-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Each output chunk's file name and the rendered code of every module in it, by module id. */
type Chunks = Map<string, Map<string, string>>;

function collectChunks(into: Chunks): Plugin {
  return {
    name: 'bundle-test:collect-chunks',
    generateBundle(_options, bundle) {
      for (const out of Object.values(bundle)) {
        if (out.type !== 'chunk') continue;
        into.set(out.fileName, new Map(Object.entries(out.modules).map(([id, m]) => [id, m.code ?? ''])));
      }
    },
  };
}

/**
 * Builds with the playground's own Vite config (its plugins, for the page and for workers),
 * into `outDir`, unminified, with `root` replaced for the fixture builds.
 */
async function buildPlayground(outDir: string, root?: string): Promise<Chunks> {
  const loaded = await loadConfigFromFile({ command: 'build', mode: 'production' }, VITE_CONFIG, REPO, 'silent');
  if (!loaded) throw new Error(`cannot load ${VITE_CONFIG}`);
  const config: UserConfig = loaded.config;
  const chunks: Chunks = new Map();
  const workerPlugins = config.worker?.plugins;
  const inline: InlineConfig = {
    ...config,
    configFile: false,
    root: root ?? config.root,
    logLevel: 'silent',
    plugins: [...(config.plugins ?? []), collectChunks(chunks)],
    worker: { ...config.worker, plugins: () => [...(workerPlugins ? workerPlugins() : []), collectChunks(chunks)] },
    build: { ...config.build, outDir, emptyOutDir: true, minify: false, reportCompressedSize: false },
  };
  await build(inline);
  return chunks;
}

const NODE_BUILTINS = new Set(builtinModules);

/** A module id as written in an import: `\0`-prefixed virtual ids and queries removed. */
const bareId = (id: string) => id.replace(/^\0/, '').replace(/\?.*$/, '');

function isNodeBuiltin(id: string): boolean {
  const bare = bareId(id);
  return bare.startsWith('node:') || NODE_BUILTINS.has(bare) || /__vite[-_]browser[-_]external/.test(bare);
}

function withoutComments(code: string): string {
  return code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

// bpfbed's own browser-side modules may not touch Node at all (rules of src/, docs/design.md).
const NODE_ONLY_IN_SRC: [RegExp, string][] = [
  [/\bBuffer\b/, 'Buffer'],
  [/\bprocess\s*\./, 'process.'],
  [/\brequire\s*\(/, 'require()'],
  [/\b__dirname\b|\b__filename\b/, '__dirname/__filename'],
  [/import\.meta\.(dirname|filename)\b/, 'import.meta.dirname/filename'],
];

/** Problems in every module of every chunk, as 'chunk: module: what'. */
function nodeUsesIn(chunks: Chunks): string[] {
  return [...chunks].flatMap(([file, modules]) => [...modules].flatMap(([id, code]) => nodeUses(id, code).map((p) => `${file}: ${p}`)));
}

/** Problems with one module of a bundle, as 'module: what'. */
function nodeUses(id: string, code: string): string[] {
  const where = id.startsWith(REPO) ? relative(REPO, id) : bareId(id);
  if (isNodeBuiltin(id)) return [`${where}: a Node built-in module is bundled`];
  const body = withoutComments(code);
  const problems: string[] = [];
  if (id.startsWith(join(REPO, 'src'))) {
    for (const [re, what] of NODE_ONLY_IN_SRC) {
      const m = re.exec(body);
      if (m) problems.push(`${where}: uses ${what} (…${body.slice(Math.max(0, m.index - 40), m.index + 40).replace(/\s+/g, ' ')}…)`);
    }
  } else {
    // A dependency may use Buffer or process where it has them, behind a feature test
    // (msgpackr: `typeof Buffer !== 'undefined'`); an unguarded use breaks in a browser.
    if (/\bBuffer\s*\./.test(body) && !/typeof\s+Buffer\b/.test(body)) problems.push(`${where}: uses Buffer without checking it exists`);
    if (/\bprocess\s*\./.test(body) && !/typeof\s+process\b/.test(body)) problems.push(`${where}: uses process without checking it exists`);
  }
  return problems;
}

describe('the playground bundles', () => {
  const outDir = join(temp, 'site');
  let chunks: Chunks;

  beforeAll(async () => {
    chunks = await buildPlayground(outDir);
  }, 180_000);

  test('the page and the worker are separate bundles, each with its entry', () => {
    const entries = [...chunks.values()].map((modules) => [...modules.keys()].map((id) => relative(REPO, bareId(id))));
    expect(entries.some((ids) => ids.includes('src/playground/worker.ts')), 'a chunk with src/playground/worker.ts').toBe(true);
    expect(entries.some((ids) => ids.includes('src/playground/main.tsx')), 'a chunk with src/playground/main.tsx').toBe(true);
    const worker = entries.find((ids) => ids.includes('src/playground/worker.ts'))!;
    // The VM is in the worker, so the page stays responsive during a run.
    expect(worker.some((id) => id.startsWith('src/vm/'))).toBe(true);
  });

  test('no module of the page or the worker uses Node: built-ins, Buffer, process, require', () => {
    expect(nodeUsesIn(chunks)).toEqual([]);
  });

  test('the emitted JavaScript imports nothing from node: and has no browser-external stubs', () => {
    const assets = join(outDir, 'assets');
    const files = readdirSync(assets).filter((f) => f.endsWith('.js'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    const problems: string[] = [];
    for (const f of files) {
      const text = readFileSync(join(assets, f), 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)["'](node:[^"']+)["']/g)) problems.push(`${f}: imports ${m[1]}`);
      if (/__vite[-_]browser[-_]external/.test(text)) problems.push(`${f}: has Vite's empty stand-in for a Node module`);
    }
    expect(problems).toEqual([]);
  });
});

describe('the build refuses Node built-ins', () => {
  /** A one-page site in the temp folder: index.html loading main.js, plus the given files. */
  function fixtureSite(name: string, files: Record<string, string>): string {
    const root = join(temp, name);
    mkdirSync(root, { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>fixture</title><script type="module" src="./main.js"></script>\n');
    for (const [file, text] of Object.entries(files)) writeFileSync(join(root, file), text);
    return root;
  }

  test('a page module importing node:fs fails the build, naming the module and the import', async () => {
    const root = fixtureSite('page-node-fs', { 'main.js': "import { readFileSync } from 'node:fs';\nconsole.log(readFileSync);\n" });
    await expect(buildPlayground(join(temp, 'out-page'), root)).rejects.toThrow(/main\.js imports the Node built-in 'node:fs'/);
  });

  test('a worker importing path (without node:) fails the build', async () => {
    const root = fixtureSite('worker-path', {
      'main.js': "new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });\n",
      'worker.js': "import { join } from 'path';\nself.onmessage = () => postMessage(join('a', 'b'));\n",
    });
    await expect(buildPlayground(join(temp, 'out-worker'), root)).rejects.toThrow(/worker\.js imports the Node built-in 'path'/);
  });

  test('without the guard, Vite would build it with an empty stand-in, which the bundle check reports', async () => {
    const root = fixtureSite('unguarded', { 'main.js': "import { readFileSync } from 'node:fs';\nconsole.log(readFileSync);\n" });
    const chunks: Chunks = new Map();
    await build({ configFile: false, root, logLevel: 'silent', plugins: [collectChunks(chunks)], build: { outDir: join(temp, 'out-unguarded'), minify: false } });
    expect(nodeUsesIn(chunks).join('\n')).toMatch(/a Node built-in module is bundled/);
  });

  test('the same page and worker without Node imports build', async () => {
    const root = fixtureSite('clean', {
      'main.js': "new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });\n",
      'worker.js': "self.onmessage = (e) => postMessage(['a', e.data].join('/'));\n",
    });
    const chunks = await buildPlayground(join(temp, 'out-clean'), root);
    expect([...chunks.values()].some((m) => [...m.keys()].some((id) => id.endsWith('worker.js')))).toBe(true);
  });
});
