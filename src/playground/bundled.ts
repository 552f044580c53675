// The bundled example: the kube-proxy-replacement datapath objects, the example programs, the
// scenarios that drive them and every capture and YAML file those scenarios name. Vite copies
// each file into the site (`?url`, never inlined) and the page fetches them into the workspace
// under their paths from the repository root, so `../obj/kpr/nodeport.o` in
// fixtures/scenarios/kpr-remote.yaml resolves exactly as the CLI resolves it.
import type { WorkspaceFile } from './protocol';

const urls: Record<string, string> = {
  ...import.meta.glob('../../fixtures/obj/kpr/*.o', { query: '?url', import: 'default', eager: true }),
  ...import.meta.glob('../../fixtures/obj/examples/*.o', { query: '?url', import: 'default', eager: true }),
  ...import.meta.glob('../../fixtures/scenarios/*.yaml', { query: '?url', import: 'default', eager: true }),
  ...import.meta.glob('../../fixtures/scenarios/*/expected/*.pcap', { query: '?url', import: 'default', eager: true }),
  ...import.meta.glob('../../fixtures/kpr/pcap/*.pcap', { query: '?url', import: 'default', eager: true }),
  ...import.meta.glob('../../fixtures/examples/*.pcap', { query: '?url', import: 'default', eager: true }),
  ...import.meta.glob('../../fixtures/k8s/*.{yaml,json}', { query: '?url', import: 'default', eager: true }),
};

/** Workspace path (from the repository root) of each bundled file, and the URL it is served at. */
export const bundledFiles: { path: string; url: string }[] = Object.entries(urls)
  .map(([key, url]) => ({ path: key.replace(/^(\.\.\/)+/, ''), url }))
  .sort((a, b) => a.path.localeCompare(b.path));

/** The scenario the page opens with: NodePort to a remote backend. */
export const DEFAULT_SCENARIO = 'fixtures/scenarios/kpr-remote.yaml';

/** Paths of the bundled scenarios, for the scenario picker. */
export const bundledScenarios: string[] = bundledFiles.map((f) => f.path).filter((p) => /^fixtures\/scenarios\/[^/]+\.yaml$/.test(p));

/** Fetches every bundled file (the site's own files only). */
export async function fetchBundled(): Promise<WorkspaceFile[]> {
  return Promise.all(
    bundledFiles.map(async ({ path, url }) => {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`bundled example: cannot fetch ${path} (${url}): HTTP ${res.status}`);
      return { path, bytes: new Uint8Array(await res.arrayBuffer()) };
    }),
  );
}
