// Builds the playground (a static site: page + Web Worker + the bundled example's files) into
// dist/playground. `base: './'` keeps every URL relative, so the site works from any static file
// server and any path, and from `npm run playground` (vite preview) on localhost.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

const NODE_BUILTINS = new Set(builtinModules.flatMap((name) => [name, name.split('/')[0]]));

/**
 * Fails the build when a Node built-in (`node:fs`, `path`, `child_process`...) is imported by
 * anything the page or the worker bundles. Left alone, Vite would swap it for an empty
 * `__vite-browser-external` stub and print a warning, and the site would break only when that
 * code runs in a browser. This config file itself is loaded by Node, not through these plugins.
 */
export function rejectNodeBuiltins(): Plugin {
  return {
    name: 'bpfbed:reject-node-builtins',
    enforce: 'pre',
    resolveId(source, importer) {
      const bare = source.startsWith('node:') ? source.slice(5) : source;
      if (!source.startsWith('node:') && !NODE_BUILTINS.has(bare)) return null;
      const from = importer ? importer.replace(repo, '') : 'the entry';
      this.error(
        `${from} imports the Node built-in '${source}': the playground runs in a browser, so code it ` +
          'bundles (src/ outside src/cli and src/node, and its dependencies) must not use Node modules',
      );
    },
  };
}

export default defineConfig({
  root,
  base: './',
  plugins: [rejectNodeBuiltins()],
  // The bundled example's objects, pcaps and YAML are imported with `?url` from fixtures/.
  server: { fs: { allow: [repo] } },
  preview: { host: '127.0.0.1' },
  build: {
    outDir: `${repo}/dist/playground`,
    emptyOutDir: true,
    target: 'es2022',
    // Objects and captures stay separate files, fetched by URL (never inlined as data: URLs).
    assetsInlineLimit: 0,
  },
  // Workers are bundled by their own pipeline, which does not run the top-level plugins.
  worker: { format: 'es', plugins: () => [rejectNodeBuiltins()] },
});
