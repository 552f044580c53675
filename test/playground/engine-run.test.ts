import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlaygroundEngine } from '../../src/playground/engine/engine.js';
import { scenarioFilePaths } from '../../src/playground/engine/workspace.js';
import type { PageToWorker, WorkerToPage, WorkspaceFile } from '../../src/playground/protocol.js';
import { reportJson } from '../../src/run/report-json.js';
import { runScenario } from '../../src/run/scenario-run.js';
import { parseScenario } from '../../src/scenario/parse.js';
import { runAllPackets } from '../../src/playground/engine/loop-report.js';
import { PacketLoop, ScenarioWorld } from '../../src/playground/engine/world.js';

/** The workspace the page would build for a bundled scenario: every file it names, by repo path. */
function workspaceFor(scenarioPath: string): { files: WorkspaceFile[]; scenarioText: string } {
  const scenarioText = readFileSync(scenarioPath, 'utf8');
  const paths = scenarioFilePaths(parseScenario(scenarioText, scenarioPath), scenarioPath);
  return { scenarioText, files: [...paths, scenarioPath].map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) })) };
}

async function runThroughEngine(engine: PlaygroundEngine, scenarioPath: string, runId = 1) {
  const { files, scenarioText } = workspaceFor(scenarioPath);
  const replies: WorkerToPage[] = [];
  await engine.handle({ type: 'run', runId, files, scenarioText, scenarioPath, traceLimit: 20_000 }, (r) => replies.push(r));
  const error = replies.find((r) => r.type === 'error');
  if (error) throw new Error(error.message);
  const finished = replies.find((r) => r.type === 'finished');
  if (finished?.type !== 'finished') throw new Error('no finished message');
  return { summary: finished.summary, replies, files, scenarioText };
}

const SCENARIO = 'fixtures/scenarios/kpr-remote.yaml';

describe('playground engine: run', () => {
  it('gives the verdicts, outputs and JSON report that runScenario (and so bpfbed run --json) gives', async () => {
    const { summary, scenarioText } = await runThroughEngine(new PlaygroundEngine(), SCENARIO);
    // The CLI's way: paths relative to the scenario file's folder, read from the disk.
    const read = (p: string) => new Uint8Array(readFileSync(join(dirname(SCENARIO), p)));
    const { report, outputs } = await runScenario(parseScenario(scenarioText, SCENARIO), read);
    expect(summary.rows.map((r) => [r.packet, r.verdict, r.output])).toEqual(report.packets.map((p) => [p.packet, p.verdict, p.output]));
    expect(summary.reportJson).toBe(reportJson(report));
    expect(JSON.parse(summary.reportJson).ok).toBe(true);
    expect(summary.outputs.map((o) => [o.name, o.pcap])).toEqual(outputs.names().map((n) => [n, outputs.pcap(n)]));
    expect(summary.totals).toEqual(report.totals);
    expect(summary.mismatches).toEqual([]);
  });

  it('shows the maps after the run with the CT and SNAT entries the run added', async () => {
    const { summary } = await runThroughEngine(new PlaygroundEngine(), SCENARIO);
    const ct = summary.maps.find((m) => m.name === 'ct4')!;
    expect(ct.entries.length).toBeGreaterThan(0);
    expect(ct.entries.every((e) => e.status === 'added')).toBe(true);
    const services = summary.maps.find((m) => m.name === 'lb4_services')!;
    expect(services.entries.map((e) => e.status)).toEqual(services.entries.map(() => 'same'));
    const stats = summary.maps.find((m) => m.name === 'np_stats')!;
    expect(stats.entries.find((e) => e.key === 2)).toMatchObject({ value: 7n, status: 'changed' });
  });

  it('reports progress, and a bad scenario as an error naming the file and place', async () => {
    const { replies } = await runThroughEngine(new PlaygroundEngine(), SCENARIO);
    const progress = replies.filter((r) => r.type === 'progress');
    expect(progress.at(-1)).toMatchObject({ done: 12, total: 12 });
    const out: WorkerToPage[] = [];
    const bad: PageToWorker = { type: 'run', runId: 2, files: [], scenarioText: 'object: x.o\nprograms: 3\n', scenarioPath: 'my.yaml', traceLimit: 0 };
    await new PlaygroundEngine().handle(bad, (r) => out.push(r));
    expect(out).toEqual([{ type: 'error', runId: 2, message: expect.stringMatching(/^run my\.yaml: my\.yaml: programs: must be array/) }]);
  });

  it('names a file the workspace lacks', async () => {
    const { files, scenarioText } = workspaceFor(SCENARIO);
    const out: WorkerToPage[] = [];
    const without = files.filter((f) => !f.path.endsWith('.pcap'));
    await new PlaygroundEngine().handle({ type: 'run', runId: 3, files: without, scenarioText, scenarioPath: SCENARIO, traceLimit: 0 }, (r) => out.push(r));
    expect(out[0]).toMatchObject({ type: 'error', runId: 3, message: expect.stringContaining('cannot read fixtures/kpr/pcap/remote-flow.pcap') });
  });

  it.each(['fixtures/scenarios/kpr-remote.yaml', 'fixtures/scenarios/dnat.yaml', 'fixtures/scenarios/kpr-fragments.yaml'])(
    "%s: the engine's own loop (runs from a snapshot's state) reports what runScenario reports, expectations aside",
    async (scenarioPath) => {
      const scenario = parseScenario(readFileSync(scenarioPath, 'utf8'), scenarioPath);
      delete scenario.expect;
      const read = (p: string) => new Uint8Array(readFileSync(join(dirname(scenarioPath), p)));
      const world = new ScenarioWorld(scenario, read);
      const own = runAllPackets(new PacketLoop(world, await world.create()), scenario.object, scenario.description);
      const cli = await runScenario(scenario, read);
      expect(reportJson(own.report)).toBe(reportJson(cli.report));
      expect(own.outputs.names().map((n) => own.outputs.pcap(n))).toEqual(cli.outputs.names().map((n) => cli.outputs.pcap(n)));
    },
  );
});
