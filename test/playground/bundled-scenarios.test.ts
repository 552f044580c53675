import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PlaygroundEngine } from '../../src/playground/engine/engine.js';
import { scenarioFilePaths } from '../../src/playground/engine/workspace.js';
import type { WorkerToPage } from '../../src/playground/protocol.js';
import { reportJson } from '../../src/run/report-json.js';
import { runScenario } from '../../src/run/scenario-run.js';
import { runSocketScenario } from '../../src/scenario/socket-run.js';
import { parseScenario } from '../../src/scenario/parse.js';

const scenarios = readdirSync('fixtures/scenarios').filter((f) => f.endsWith('.yaml')).map((f) => `fixtures/scenarios/${f}`);

describe('playground engine on every bundled scenario', () => {
  it.each(scenarios)('%s: the report is runScenario\'s and every packet replays to its row', async (scenarioPath) => {
    const scenarioText = readFileSync(scenarioPath, 'utf8');
    const scenario = parseScenario(scenarioText, scenarioPath);
    // What `bpfbed run --scenario` runs (src/cli/commands/run.ts): socket scenarios their calls.
    let expected: { report: object } | Error;
    try {
      const read = (p: string) => new Uint8Array(readFileSync(join(dirname(scenarioPath), p)));
      expected = scenario.sockets ? await runSocketScenario(scenario, read) : await runScenario(scenario, read);
    } catch (err) {
      expected = err as Error;
    }
    const files = scenarioFilePaths(scenario, scenarioPath).map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }));
    const engine = new PlaygroundEngine();
    const replies: WorkerToPage[] = [];
    await engine.handle({ type: 'run', runId: 1, files, scenarioText, scenarioPath, traceLimit: 1000 }, (r) => replies.push(r));
    const last = replies.at(-1)!;
    if (expected instanceof Error) {
      // The world cannot be built: the page gets the same message the CLI prints.
      expect(last).toMatchObject({ type: 'error', runId: 1, message: `run ${scenarioPath}: ${expected.message}` });
      return;
    }
    if (last.type !== 'finished') throw new Error(`no finished reply: ${JSON.stringify(last)}`);
    expect(last.summary.reportJson).toBe(reportJson(expected.report));
    if (scenario.sockets) expect(last.summary.socketCalls).toHaveLength(scenario.sockets.calls.length);
    for (const row of last.summary.rows) {
      const detail = await engine.packet(1, row.packet);
      expect(detail.row).toEqual(row);
    }
  });
});
