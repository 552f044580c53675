// The page's workspace as the engine sees it: files by their path relative to the workspace root,
// read the way the CLI reads them. `bpfbed run --scenario S` resolves every path inside S
// against S's folder (src/cli/commands/run.ts: base = dirname(resolve(S))); here the same
// resolution happens on workspace paths, with POSIX separators and no file system.
import type { Scenario } from '../../scenario/types.js';
import type { FileReader } from '../../run/scenario-run.js';
import type { WorkspaceFile } from '../protocol.js';

/** The folder part of a workspace path ('' for a file at the root). */
export function folderOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i);
}

/**
 * `path` as seen from folder `base`, normalised ('a/b/../c' -> 'a/c'), as path.resolve does for
 * the CLI. An absolute path is taken from the workspace root. A path that climbs above the root
 * keeps its leading '..' (it names nothing in the workspace, and the error shows where it went).
 */
export function resolveWorkspacePath(base: string, path: string): string {
  const parts: string[] = [];
  const whole = path.startsWith('/') ? path : base ? `${base}/${path}` : path;
  for (const part of whole.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..' && parts.length > 0 && parts[parts.length - 1] !== '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/** Reads files a scenario at `scenarioPath` names, from the workspace; errors name the file. */
export function workspaceReader(files: readonly WorkspaceFile[], scenarioPath: string): FileReader {
  const byPath = new Map(files.map((f) => [resolveWorkspacePath('', f.path), f.bytes]));
  const base = folderOf(resolveWorkspacePath('', scenarioPath));
  return (path: string) => {
    const full = resolveWorkspacePath(base, path);
    const bytes = byPath.get(full);
    if (!bytes) {
      const known = [...byPath.keys()];
      const shown = known.slice(0, 8).join(', ') + (known.length > 8 ? `, ... (${known.length} files)` : '');
      throw new Error(`cannot read ${full} (named ${path} in ${scenarioPath}): not in the workspace (files: ${shown || 'none'})`);
    }
    return bytes;
  };
}

/** Every workspace path a scenario at `scenarioPath` reads: object, capture, cluster objects, expected outputs. */
export function scenarioFilePaths(scenario: Scenario, scenarioPath: string): string[] {
  const base = folderOf(resolveWorkspacePath('', scenarioPath));
  const named = [scenario.object];
  if (scenario.input) named.push(scenario.input.pcap);
  if (scenario.cluster) named.push(scenario.cluster.objects);
  for (const file of Object.values(scenario.expect?.outputs ?? {})) named.push(file);
  return [...new Set(named.map((p) => resolveWorkspacePath(base, p)))];
}
