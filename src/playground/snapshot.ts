// The playground's snapshot FILE: the whole workspace (files, the scenario being edited) and the
// Testbed state after a run (Testbed#snapshot(): every map's state, the environment with its
// clock and random generator), packed with msgpackr. Loading it gives back the same workspace,
// and a run started from `state` continues where the saved run stopped.
import { pack } from 'msgpackr/pack';
import { unpack } from 'msgpackr/unpack';
import type { WorkspaceFile } from './protocol.js';

export interface PlaygroundSnapshot {
  format: 'bpfbed-playground';
  version: 1;
  files: WorkspaceFile[];
  scenarioPath: string;
  scenarioText: string;
  /** Testbed#snapshot() after the run. */
  state?: Uint8Array;
}

export const SNAPSHOT_FORMAT = 'bpfbed-playground';
export const SNAPSHOT_VERSION = 1;

export function encodePlaygroundSnapshot(s: Omit<PlaygroundSnapshot, 'format' | 'version'> & Partial<Pick<PlaygroundSnapshot, 'format' | 'version'>>): Uint8Array {
  const data: PlaygroundSnapshot = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    files: s.files.map((f) => ({ path: f.path, bytes: f.bytes })),
    scenarioPath: s.scenarioPath,
    scenarioText: s.scenarioText,
    ...(s.state ? { state: s.state } : {}),
  };
  return pack(data);
}

const asBytes = (v: unknown): Uint8Array | undefined => (v instanceof Uint8Array ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : undefined);

/** Reads a snapshot file; throws an Error saying why when the bytes are not one. */
export function decodePlaygroundSnapshot(bytes: Uint8Array): PlaygroundSnapshot {
  let data: unknown;
  try {
    data = unpack(bytes);
  } catch (err) {
    throw new Error(`not a bpfbed playground snapshot (${(err as Error).message})`);
  }
  const d = data as Partial<PlaygroundSnapshot> | null;
  if (!d || typeof d !== 'object' || d.format !== SNAPSHOT_FORMAT) throw new Error('not a bpfbed playground snapshot (no bpfbed-playground format marker)');
  if (d.version !== SNAPSHOT_VERSION) throw new Error(`playground snapshot version ${String(d.version)} is not one this page reads (${SNAPSHOT_VERSION})`);
  if (typeof d.scenarioPath !== 'string' || typeof d.scenarioText !== 'string' || !Array.isArray(d.files)) {
    throw new Error('playground snapshot: missing scenarioPath, scenarioText or files');
  }
  const files = d.files.map((f, i) => {
    const bytes = asBytes((f as WorkspaceFile | undefined)?.bytes);
    if (typeof f?.path !== 'string' || !bytes) throw new Error(`playground snapshot: files[${i}] has no path or bytes`);
    return { path: f.path, bytes };
  });
  const state = d.state === undefined ? undefined : asBytes(d.state);
  if (d.state !== undefined && !state) throw new Error('playground snapshot: state is not bytes');
  return { format: SNAPSHOT_FORMAT, version: SNAPSHOT_VERSION, files, scenarioPath: d.scenarioPath, scenarioText: d.scenarioText, ...(state ? { state } : {}) };
}
