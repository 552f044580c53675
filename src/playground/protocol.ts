// The messages between the playground page and its Web Worker, and the plain data they carry.
// Everything here crosses postMessage (structured clone): plain objects, strings, numbers,
// Uint8Array; no classes, no functions. The page never runs BPF itself: it owns the workspace
// (files and the scenario being edited) and asks the worker to describe, run and inspect.

/** A file of the workspace, by its path relative to the workspace root (as a scenario names it). */
export interface WorkspaceFile {
  path: string;
  bytes: Uint8Array;
}

/** What an object holds, for the page's program and map pickers and its typed map editors. */
export interface ObjectDescription {
  path: string;
  programs: { name: string; section: string; type: string; attach?: string; insns: number }[];
  maps: MapDescription[];
  /** True when the object carries BTF line info (traces can be grouped by C line). */
  hasLineInfo: boolean;
}

export interface MapDescription {
  name: string;
  type: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** BTF layout of key and value as field paths with their text form ('ip4', 'u16', 'be16', 'mac'...). */
  keyFields: FieldDescription[];
  valueFields: FieldDescription[];
}

export interface FieldDescription {
  /** Dotted path of the field ('addr', 'ports.0', 'inner.flags'); '' for a scalar key or value. */
  path: string;
  /** How the typed host API shows it: 'number', 'bigint', 'ip4', 'ip6', 'mac', 'bool', 'bytes', 'string'. */
  kind: string;
  /** The BTF type name, for tooltips ('__be32', '__u16', 'union v6addr'). */
  btfType: string;
}

/** One decoded header field, before or after. */
export interface DecodedField {
  layer: string; // 'eth', 'ip', 'ip6', 'tcp', 'udp', 'icmp', ...
  name: string; // 'ip.dst', 'tcp.sport', ...
  value: string;
  /** Byte range of the field in the frame, for the hex view: [offset, length]. */
  range?: [number, number];
}

/** The trace of one program run, grouped by C source line where BTF has line info. */
export interface TraceGroup {
  /** 'file.c:123' and the source text, or undefined for instructions without line info. */
  line?: { file: string; line: number; column?: number; text: string };
  entries: TraceRow[];
}

export interface TraceRow {
  pc: number;
  disasm: string;
  /** r0..r10 after the instruction, as hex strings (structured clone carries bigint, JSON does not). */
  regs: string[];
  /** Added by the engine: the program the instruction belongs to, when the object has several (tail calls). */
  program?: string;
  /** Added by the engine: the instruction that faulted (it did not complete: regs are those it saw). */
  fault?: boolean;
}

/** One program run on a packet's way (one hop of the pipeline). */
export interface HopDetail {
  program: string;
  attach: string;
  device: string;
  verdict: string;
  redirect?: string;
  insnCount: number;
  printk: string[];
  tailCalls: number;
  trace: TraceGroup[];
  /** True when the trace hit its entry limit. */
  traceTruncated: boolean;
  fault?: { message: string; pc: number; disasm: string; line?: { file: string; line: number; text: string } };
}

/** A map entry the packet changed: key and value BTF-decoded as text, before and after. */
export interface MapChange {
  map: string;
  key: unknown;
  before?: unknown;
  after?: unknown;
  kind: 'added' | 'changed' | 'removed';
}

/** The table row of a packet (small: sent for every packet). */
export interface PacketRow {
  packet: number;
  device: string;
  direction: 'ingress' | 'egress';
  before: string;
  after?: string;
  verdict: string;
  /** Where it went: a device name, 'stack' or 'drop'. */
  output: string;
  redirect?: string;
  rewritten: boolean;
  fault: boolean;
  error?: string;
}

/** Everything shown when a packet is selected (sent on request). */
export interface PacketDetail {
  row: PacketRow;
  beforeBytes: Uint8Array;
  afterBytes?: Uint8Array;
  beforeFields: DecodedField[];
  afterFields?: DecodedField[];
  /** Field names whose value changed ('ip.dst'). */
  changedFields: string[];
  /** Offsets of bytes that differ between before and after (same length frames), or all when lengths differ. */
  changedBytes: number[];
  hops: HopDetail[];
  mapChanges: MapChange[];
}

/** A map's content after the run, BTF-decoded, with what the run changed. */
export interface MapView {
  name: string;
  type: string;
  entries: { key: unknown; value: unknown; status: 'added' | 'changed' | 'same' }[];
  removed: { key: unknown; value: unknown }[];
  /** Set when the map holds more entries than were sent. */
  truncated?: number;
}

export interface RunSummary {
  runId: number;
  rows: PacketRow[];
  maps: MapView[];
  /** Output captures per device (pcap bytes), named by device. */
  outputs: { name: string; packets: number; pcap: Uint8Array }[];
  /** The JSON report `bpfbed run --json` prints for the same scenario. */
  reportJson: string;
  mismatches: { what: string; packet?: number; message: string }[];
  totals: { packets: number; faults: number; dropped: number; instructions: number };
  captureError?: string;
  /**
   * Added by the engine: a socket scenario (`sockets:`, run by src/scenario/socket-run.ts) has
   * calls instead of packets (rows is empty): each call and what the application saw.
   */
  socketCalls?: SocketCallRow[];
}

/** Added by the engine: one call of a socket scenario ("connect 10.96.0.20:80") and what it saw. */
export interface SocketCallRow {
  /** 1-based, as `bpfbed run` numbers them. */
  call: number;
  socket: string;
  text: string;
  /** What the application saw: error, reached, peer, from (as the scenario's `expect:` names them). */
  seen: Record<string, string>;
  mismatches: string[];
}

// A run is cancelled by terminating the worker: its packet loop is synchronous and reads no
// messages until it ends. The page then starts a fresh worker.
export type PageToWorker =
  | { type: 'describe'; requestId: number; files: WorkspaceFile[]; object: string }
  | {
      type: 'run';
      runId: number;
      files: WorkspaceFile[];
      scenarioText: string;
      scenarioPath: string;
      /** Trace entries kept per program run (0: no trace). */
      traceLimit: number;
      /** A Testbed state (from a loaded snapshot file) to start from instead of the scenario's map entries. */
      state?: Uint8Array;
    }
  | { type: 'packet'; requestId: number; runId: number; packet: number }
  /** The whole workspace and the state after run `runId`, as a snapshot file (see snapshot.ts). */
  | { type: 'snapshot'; requestId: number; runId: number };

export type WorkerToPage =
  | { type: 'described'; requestId: number; description: ObjectDescription }
  | { type: 'progress'; runId: number; done: number; total: number }
  | { type: 'finished'; summary: RunSummary }
  | { type: 'packet'; requestId: number; detail: PacketDetail }
  | { type: 'snapshot'; requestId: number; bytes: Uint8Array }
  /** Any failure, naming what and where (the loader's, scenario parser's or run's own message). */
  | { type: 'error'; requestId?: number; runId?: number; message: string };
