// Builds the playground (a static site: page + Web Worker + the bundled example's files) into
// dist/playground. `base: './'` keeps every URL relative, so the site works from any static file
// server and any path, and from `npm run playground` (vite preview) on localhost.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const repo = fileURLToPath(new URL('../..', import.meta.url));

export default defineConfig({
  root,
  base: './',
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
  worker: { format: 'es' },
});
