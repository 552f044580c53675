// The worker's logic without the worker: answers the page's requests (describe an object, run a
// scenario, detail a packet, pack a snapshot). src/playground/worker.ts only moves messages.
//
// A run keeps no traces and no per-packet map copies: a packet's detail is REPLAYED. The world
// is rebuilt (runs are deterministic: seeded PRNG, virtual clock), packets 1..N-1 run untraced,
// the maps are copied, packet N runs traced, the maps are diffed. The last replay's world is
// kept, so detailing a later packet continues from there instead of starting over.
import type { CtxRunner } from '../../ctx/runner.js';
import { reportJson } from '../../run/report-json.js';
import { prepareScenario, runScenario, type FileReader, type RunReport } from '../../run/scenario-run.js';
import { runSocketScenario } from '../../scenario/socket-run.js';
import type { OutputSet } from '../../run/outputs.js';
import { parseScenario } from '../../scenario/parse.js';
import type { Scenario } from '../../scenario/types.js';
import type { PacketDetail, PageToWorker, RunSummary, WorkerToPage, WorkspaceFile } from '../protocol.js';
import { encodePlaygroundSnapshot } from '../snapshot.js';
import { describeWorkspaceObject } from './describe.js';
import { packetDetail } from './detail.js';
import { dumpMaps, mapChanges, mapViews, type MapsDump } from './map-state.js';
import { packetRow } from './rows.js';
import { runAllPackets } from './loop-report.js';
import { PacketLoop, ScenarioWorld, type Checkpoint } from './world.js';
import { workspaceReader } from './workspace.js';

/** Trace entries per program run when a request gives no usable limit. */
export const DEFAULT_TRACE_LIMIT = 20_000;
/** Progress messages at most this often (ms): the page redraws on each. */
export const PROGRESS_INTERVAL_MS = 50;
/**
 * Packets between replay checkpoints, at least. A checkpoint is a Testbed#snapshot() (every
 * map's whole storage: tens of MB and a third of a second for bpf/kpr's preallocated maps), so
 * the gap grows until taking one costs about a tenth of replaying the packets between two.
 */
export const CHECKPOINT_EVERY = 1000;
/** Checkpoint bytes kept per run; beyond, every other one is dropped and the gap doubles. */
export const CHECKPOINT_BYTES = 96 * 1024 * 1024;
/** Finished runs kept for detail and snapshot requests (the page asks about its latest). */
const KEPT_RUNS = 2;

type RunRequest = Extract<PageToWorker, { type: 'run' }>;

interface RunSession {
  runId: number;
  files: WorkspaceFile[];
  scenarioText: string;
  scenarioPath: string;
  scenario: Scenario;
  state?: Uint8Array;
  traceLimit: number;
  /** The world after the whole run (map views, snapshot). */
  finalRunner: CtxRunner;
  /** The world of replays (the capture read once). */
  world?: ScenarioWorld;
  /** The last replay's loop, to continue from for a later packet. */
  cursor?: PacketLoop;
  /** Worlds part way through the capture, taken while replaying, by position. */
  checkpoints: Checkpoint[];
  /** Packets between checkpoints: grows with what a checkpoint costs (see packet()). */
  checkpointGap: number;
}

export class PlaygroundEngine {
  private readonly runs = new Map<number, RunSession>();

  constructor(
    private readonly now: () => number = () => Date.now(),
    /** A replay saves the world every this many packets, so later replays start near their packet. */
    private readonly checkpointEvery = CHECKPOINT_EVERY,
  ) {}

  /** Handles one request; everything it says goes through `post`, failures as `error` messages. */
  async handle(msg: PageToWorker, post: (reply: WorkerToPage) => void): Promise<void> {
    try {
      switch (msg.type) {
        case 'describe':
          post({ type: 'described', requestId: msg.requestId, description: describeWorkspaceObject(msg.files, msg.object) });
          return;
        case 'run':
          post({ type: 'finished', summary: await this.run(msg, (done, total) => post({ type: 'progress', runId: msg.runId, done, total })) });
          // While the page draws the table, build the world the first packet detail replays in.
          await this.prepareReplay(msg.runId);
          return;
        case 'packet':
          post({ type: 'packet', requestId: msg.requestId, detail: await this.packet(msg.runId, msg.packet) });
          return;
        case 'snapshot':
          post({ type: 'snapshot', requestId: msg.requestId, bytes: this.snapshot(msg.runId) });
          return;
        default:
          throw new Error(`unknown request type '${(msg as { type?: unknown }).type}'`);
      }
    } catch (err) {
      const what = requestName(msg);
      const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
      const ids: { requestId?: number; runId?: number } = {};
      if ('requestId' in msg && typeof msg.requestId === 'number') ids.requestId = msg.requestId;
      if ('runId' in msg && typeof msg.runId === 'number') ids.runId = msg.runId;
      post({ type: 'error', ...ids, message });
    }
  }

  /** Runs a scenario over its whole capture (or a socket scenario's calls). */
  async run(req: RunRequest, onProgress: (done: number, total: number) => void = () => {}): Promise<RunSummary> {
    const scenario = parseScenario(req.scenarioText, req.scenarioPath);
    const read = workspaceReader(req.files, req.scenarioPath);
    if (scenario.sockets) return this.runSockets(req, scenario, read);
    const progress = throttle(onProgress, this.now);
    let report: RunReport;
    let outputs: OutputSet;
    let finalRunner: CtxRunner;
    let before: MapsDump;
    if (!req.state) {
      // The CLI's own run, so the report is the one `bpfbed run --json` prints; the maps before
      // the first packet are kept to show what the run changed.
      let prepared: MapsDump | undefined;
      ({ report, outputs, runner: finalRunner } = await runScenario(scenario, read, { onPacket: progress, onPrepared: (runner) => (prepared = dumpMaps(runner.bed)) }));
      before = prepared!;
    } else {
      const world = new ScenarioWorld(scenario, read, req.state);
      finalRunner = await world.create();
      before = dumpMaps(finalRunner.bed);
      ({ report, outputs } = runAllPackets(new PacketLoop(world, finalRunner), scenario.object, scenario.description, progress));
    }
    progress.flush();
    this.keep({
      runId: req.runId,
      files: req.files,
      scenarioText: req.scenarioText,
      scenarioPath: req.scenarioPath,
      scenario,
      ...(req.state ? { state: req.state } : {}),
      traceLimit: Number.isInteger(req.traceLimit) && req.traceLimit >= 0 ? req.traceLimit : DEFAULT_TRACE_LIMIT,
      finalRunner,
      checkpoints: [],
      checkpointGap: this.checkpointEvery,
    });
    return {
      runId: req.runId,
      rows: report.packets.map(packetRow),
      maps: mapViews(finalRunner.bed, before),
      outputs: outputs.names().map((name) => ({ name, packets: outputs.packets(name).length, pcap: outputs.pcap(name) })),
      reportJson: reportJson(report),
      mismatches: report.mismatches.map((m) => ({ what: m.what, ...(m.packet !== undefined ? { packet: m.packet } : {}), message: [m.message, ...(m.details ?? [])].join('\n') })),
      totals: { ...report.totals },
      ...(report.captureError ? { captureError: report.captureError } : {}),
    };
  }

  /** A socket scenario, as `bpfbed run` runs it (src/cli/commands/run.ts runSocketsCommand). */
  private async runSockets(req: RunRequest, scenario: Scenario, read: FileReader): Promise<RunSummary> {
    if (req.state) throw new Error('a socket scenario cannot start from a snapshot state (its sockets are not in it)');
    const before = dumpMaps((await prepareScenario(scenario, read)).bed);
    const { report, runner } = await runSocketScenario(scenario, read);
    this.keep({ runId: req.runId, files: req.files, scenarioText: req.scenarioText, scenarioPath: req.scenarioPath, scenario, traceLimit: 0, finalRunner: runner, checkpoints: [], checkpointGap: this.checkpointEvery });
    return {
      runId: req.runId,
      rows: [],
      maps: mapViews(runner.bed, before),
      outputs: [],
      reportJson: reportJson(report),
      mismatches: report.mismatches.map((message) => ({ what: 'socket', message })),
      totals: { packets: 0, faults: 0, dropped: 0, instructions: 0 },
      socketCalls: report.calls.map((c) => ({
        call: c.index + 1,
        socket: c.socket,
        text: c.call,
        seen: Object.fromEntries(Object.entries(c.seen).map(([k, v]) => [k, String(v)])),
        mismatches: c.mismatches,
      })),
    };
  }

  /** Builds the replay world of run `runId` before the first packet, unless there is one already. */
  async prepareReplay(runId: number): Promise<void> {
    const session = this.session(runId);
    if (session.cursor || session.scenario.sockets) return;
    const world = this.replayWorld(session);
    session.cursor = new PacketLoop(world, await world.create(), session.traceLimit);
  }

  private replayWorld(session: RunSession): ScenarioWorld {
    return (session.world ??= new ScenarioWorld(session.scenario, workspaceReader(session.files, session.scenarioPath), session.state));
  }

  /** Packet `packet` of run `runId`, replayed with tracing. */
  async packet(runId: number, packet: number): Promise<PacketDetail> {
    const session = this.session(runId);
    const traceLimit = session.traceLimit;
    const world = this.replayWorld(session);
    const at = world.positionOf(packet);
    // Start from the nearest world at or before the packet: the last replay's, or a checkpoint.
    let loop = session.cursor;
    const from = session.checkpoints.filter((c) => c.position <= at).at(-1);
    if (!loop || at < loop.next || (from && from.position > loop.next)) {
      session.cursor = undefined;
      loop = from ? await PacketLoop.resume(world, from, traceLimit) : new PacketLoop(world, await world.create(), traceLimit);
    }
    try {
      this.fastForward(session, loop, at);
      const bed = loop.runner.bed;
      const before = dumpMaps(bed);
      const step = loop.step(traceLimit > 0);
      session.cursor = loop;
      return packetDetail(loop.runner, step, mapChanges(bed, before, dumpMaps(bed)), traceLimit);
    } catch (err) {
      session.cursor = undefined; // part way through a packet: not a world to continue from
      throw err;
    }
  }

  /** Feeds packets untraced up to position `at`, saving checkpoints on the way. */
  private fastForward(session: RunSession, loop: PacketLoop, at: number): void {
    let since = this.now();
    let fed = 0;
    while (loop.next < at) {
      const position = loop.next;
      const last = session.checkpoints.filter((c) => c.position <= position).at(-1)?.position ?? 0;
      if (position > 0 && position - last >= session.checkpointGap) {
        const started = this.now();
        this.addCheckpoint(session, loop.checkpoint());
        const cost = this.now() - started;
        const perPacket = fed > 0 ? (started - since) / fed : 0;
        if (perPacket > 0) session.checkpointGap = Math.max(session.checkpointGap, Math.ceil((10 * cost) / perPacket));
        since = this.now();
        fed = 0;
      }
      loop.step(false, true);
      fed++;
    }
  }

  private addCheckpoint(session: RunSession, checkpoint: Checkpoint): void {
    let list = [...session.checkpoints, checkpoint].sort((a, b) => a.position - b.position);
    const bytes = () => list.reduce((sum, c) => sum + c.state.length, 0);
    while (list.length > 1 && bytes() > CHECKPOINT_BYTES) {
      list = list.filter((_, i) => i % 2 === 1);
      session.checkpointGap *= 2;
    }
    session.checkpoints = list;
  }

  /** The snapshot file of run `runId`: the workspace it ran and the state after it. */
  snapshot(runId: number): Uint8Array {
    const s = this.session(runId);
    return encodePlaygroundSnapshot({ files: s.files, scenarioPath: s.scenarioPath, scenarioText: s.scenarioText, state: s.finalRunner.bed.snapshot() });
  }

  private session(runId: number): RunSession {
    const s = this.runs.get(runId);
    if (!s) throw new Error(`run ${runId} is not known (finished runs kept: ${[...this.runs.keys()].join(', ') || 'none'})`);
    return s;
  }

  private keep(session: RunSession): void {
    this.runs.set(session.runId, session);
    while (this.runs.size > KEPT_RUNS) this.runs.delete(this.runs.keys().next().value!);
  }
}

function requestName(msg: PageToWorker): string {
  switch (msg?.type) {
    case 'describe':
      return `describe ${msg.object}`;
    case 'run':
      return `run ${msg.scenarioPath}`;
    case 'packet':
      return `packet ${msg.packet} of run ${msg.runId}`;
    case 'snapshot':
      return `snapshot of run ${msg.runId}`;
    default:
      return 'request';
  }
}

/** Calls `fn` at most every PROGRESS_INTERVAL_MS; `flush` sends the last call held back. */
function throttle(fn: (done: number, total: number) => void, now: () => number): ((done: number, total: number) => void) & { flush(): void } {
  let last = -Infinity;
  let pending: [number, number] | undefined;
  const call = (done: number, total: number) => {
    const t = now();
    if (t - last >= PROGRESS_INTERVAL_MS || done === total) {
      last = t;
      pending = undefined;
      fn(done, total);
    } else pending = [done, total];
  };
  return Object.assign(call, {
    flush() {
      if (pending) fn(...pending);
      pending = undefined;
    },
  });
}
