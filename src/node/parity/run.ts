// One parity run over everything the repository holds: every scenario under fixtures/scenarios
// (packet scenarios through BPF_PROG_TEST_RUN, socket scenarios through real sockets in a cgroup),
// every object under fixtures/obj that no scenario runs (load, maps, global data, packet programs
// on a fixed packet set), and the differential run of random programs. Everything created in the
// kernel lives in one Workspace (unique prefix) and is removed at the end, also on errors and on
// SIGINT/SIGTERM. Node-only, root-only; bpfbed itself never needs it.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { findRepoRoot } from '../c-tool.js';
import { runDifferential } from '../differential/run.js';
import { kernelAvailable } from '../kernel.js';
import { parseScenario } from '../../scenario/parse.js';
import { compareObjects } from './objects.js';
import { comparePacketScenario } from './packet-scenario.js';
import { computeTotals, emptyCounts, type ParityItem, type ParityReport } from './report.js';
import { compareSocketScenario } from './socket-scenario.js';
import { socketKernelAvailable } from './sockets-kernel.js';
import { Workspace } from './workspace.js';

export interface ParityOptions {
  /** The repository (default: the one this module is in). */
  root?: string;
  /** Run the scenarios (default true). */
  scenarios?: boolean;
  /** Run the objects no scenario covers (default true). */
  objects?: boolean;
  /** The differential run: random programs to compare and the seed; false: none. Default 10,000 of seed 20261122. */
  differential?: { count: number; seed: number } | false;
  /** Only scenarios and objects whose name (path relative to the repository) matches. */
  only?: RegExp;
  /** Called after each scenario, object or program. */
  onItem?: (item: ParityItem) => void;
}

export const DEFAULT_DIFFERENTIAL = { count: 10_000, seed: 20261122 } as const;

/** Runs everything and returns the report. Throws only when the kernel cannot be used at all. */
export async function runParity(options: ParityOptions = {}): Promise<ParityReport> {
  const kernel = kernelAvailable();
  if (!kernel.ok) throw new Error(`kernel parity cannot run: ${kernel.why}`);
  const root = options.root ?? findRepoRoot('fixtures/scenarios');
  const started = Date.now();
  const items: ParityItem[] = [];
  const push = (item: ParityItem) => {
    items.push(item);
    options.onItem?.(item);
  };
  const wanted = (name: string) => !options.only || options.only.test(name);
  const ws = new Workspace();
  let differential: ParityReport['differential'];
  try {
    const covered = new Set<string>();
    const scenarioDir = join(root, 'fixtures/scenarios');
    const files = readdirSync(scenarioDir).filter((f) => /\.(ya?ml|json)$/.test(f)).sort();
    const sockets = socketKernelAvailable();
    for (const file of files) {
      const path = join(scenarioDir, file);
      const name = `fixtures/scenarios/${file}`;
      let scenario;
      try {
        scenario = parseScenario(readFileSync(path, 'utf8'), name);
      } catch (err) {
        push({ kind: 'packet-scenario', name, status: 'error', compared: '-', counts: emptyCounts(), mismatches: [], note: (err as Error).message });
        continue;
      }
      covered.add(resolve(dirname(path), scenario.object));
      if (options.scenarios === false || !wanted(name)) continue;
      const kind = scenario.sockets ? 'socket-scenario' : 'packet-scenario';
      try {
        if (scenario.sockets) {
          if (!sockets.ok) push({ kind, name, status: 'not-compared', compared: '-', counts: emptyCounts(), mismatches: [], note: sockets.why });
          else push(await compareSocketScenario(scenario, path, name, ws));
        } else if (scenario.input) {
          push(await comparePacketScenario(scenario, path, name, ws));
        } else {
          push({ kind, name, status: 'not-compared', compared: '-', counts: emptyCounts(), mismatches: [], note: 'neither input (packets) nor sockets: nothing to run' });
        }
      } catch (err) {
        push({ kind, name, status: 'error', compared: '-', counts: emptyCounts(), mismatches: [], note: (err as Error).message.slice(0, 500) });
      }
    }
    if (options.objects !== false) {
      const objects = await compareObjects({ root, covered, ws, onItem: () => {} });
      for (const item of objects) if (wanted(item.name)) push(item);
    }
    if (options.differential !== false) {
      const d = options.differential ?? DEFAULT_DIFFERENTIAL;
      const r = await runDifferential({ seed: d.seed, count: d.count });
      differential = {
        seed: r.seed,
        generated: r.generated,
        accepted: r.accepted,
        compared: r.compared,
        mismatches: r.mismatches,
        toolErrors: r.toolErrors,
        reports: r.mismatchList.map((m) => m.report),
      };
    }
  } finally {
    ws.dispose();
  }
  let release = '';
  try {
    release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    release = 'unknown';
  }
  return {
    kernel: release,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    items,
    ...(differential ? { differential } : {}),
    totals: computeTotals(items, differential),
  };
}
