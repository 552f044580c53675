// The page's workspace: every file by its path from the root, the scenarios among them and the
// one being edited. Dropped files land at the root under their own names.
import type { WorkspaceFile } from '../protocol';
import { dirname, resolvePath } from './paths';
import { parseScenarioText } from './scenario-doc';

export type FileKind = 'object' | 'capture' | 'scenario' | 'snapshot' | 'unknown';

/** What a dropped file is, by its name (a snapshot is recognised by content as well). */
export function fileKind(name: string): FileKind {
  const lower = name.toLowerCase();
  if (lower.endsWith('.o')) return 'object';
  if (lower.endsWith('.pcap') || lower.endsWith('.pcapng') || lower.endsWith('.cap')) return 'capture';
  if (lower.endsWith('.yaml') || lower.endsWith('.yml') || lower.endsWith('.json')) return 'scenario';
  if (lower.endsWith('.bpfbed') || lower.endsWith('.snapshot') || lower.endsWith('.msgpack')) return 'snapshot';
  return 'unknown';
}

const utf8 = new TextDecoder();
const utf8Encoder = new TextEncoder();

export function fileText(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}

export function textBytes(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

export interface Workspace {
  files: Map<string, Uint8Array>;
  /** Scenario paths offered by the picker, bundled first. */
  scenarios: string[];
  scenarioPath: string;
  scenarioText: string;
}

export function workspaceFiles(ws: Workspace): WorkspaceFile[] {
  return [...ws.files].map(([path, bytes]) => ({ path, bytes }));
}

/** The workspace path of the object a scenario names, if its text parses and names one. */
export function scenarioObjectPath(scenarioPath: string, text: string): string | undefined {
  const { data } = parseScenarioText(text, scenarioPath);
  const object = data?.object;
  return typeof object === 'string' && object !== '' ? resolvePath(dirname(scenarioPath), object) : undefined;
}

/** The first scenario of the workspace that names the object at `objectPath`. */
export function scenarioNaming(ws: Workspace, objectPath: string): string | undefined {
  return ws.scenarios.find((path) => {
    const text = path === ws.scenarioPath ? ws.scenarioText : ws.files.has(path) ? fileText(ws.files.get(path)!) : '';
    return scenarioObjectPath(path, text) === objectPath;
  });
}

/** A path not yet taken in the workspace: 'x.yaml', then 'x-2.yaml', ... */
export function freePath(ws: Workspace, path: string): string {
  if (!ws.files.has(path)) return path;
  const dot = path.lastIndexOf('.');
  const stem = dot > 0 ? path.slice(0, dot) : path;
  const ext = dot > 0 ? path.slice(dot) : '';
  for (let n = 2; ; n++) if (!ws.files.has(`${stem}-${n}${ext}`)) return `${stem}-${n}${ext}`;
}

/** Workspace paths of the object and input capture a scenario names (those it needs to run). */
export function namedFiles(scenarioPath: string, text: string): string[] {
  const { data } = parseScenarioText(text, scenarioPath);
  const base = dirname(scenarioPath);
  const input = data?.input as { pcap?: unknown } | undefined;
  return [data?.object, input?.pcap].filter((p): p is string => typeof p === 'string' && p !== '').map((p) => resolvePath(base, p));
}
