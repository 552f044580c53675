import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultScenario } from '../../src/playground/engine/default-scenario.js';
import { describeWorkspaceObject } from '../../src/playground/engine/describe.js';
import { PlaygroundEngine } from '../../src/playground/engine/engine.js';
import { runScenario } from '../../src/run/scenario-run.js';
import { parseScenario } from '../../src/scenario/parse.js';

const OBJECT = 'fixtures/obj/examples/dnat.o';
const PCAP = 'fixtures/examples/packets.pcap';
const files = [OBJECT, PCAP].map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }));

describe('playground default scenario', () => {
  it('attaches the first tc program to eth0 of a minimal world and feeds the capture; the scenario schema accepts it', () => {
    const text = defaultScenario(describeWorkspaceObject(files, OBJECT), OBJECT, PCAP);
    const scenario = parseScenario(text, 'fixtures/obj/examples/dnat.yaml');
    expect(scenario.object).toBe('dnat.o');
    expect(scenario.programs).toEqual([{ program: 'dnat_ingress', attach: 'tc/ingress', device: 'eth0' }]);
    expect(scenario.environment?.devices).toEqual([{ name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01' }]);
    expect(scenario.input).toEqual({ pcap: '../../examples/packets.pcap', device: 'eth0' });
  });

  it('runs, saved beside the object, as runScenario runs it', async () => {
    const scenarioPath = 'fixtures/obj/examples/dnat.yaml';
    const scenarioText = defaultScenario(describeWorkspaceObject(files, OBJECT), OBJECT, PCAP);
    const summary = await new PlaygroundEngine().run({ type: 'run', runId: 1, files, scenarioText, scenarioPath, traceLimit: 0 });
    const { report } = await runScenario(parseScenario(scenarioText), (p) => new Uint8Array(readFileSync(`fixtures/obj/examples/${p}`)));
    expect(summary.rows.length).toBeGreaterThan(0);
    expect(summary.rows.map((r) => [r.verdict, r.output])).toEqual(report.packets.map((p) => [p.verdict, p.output]));
    expect(summary.totals.faults).toBe(0);
  });

  it('picks an XDP program where the object has one, and says so when it has no packet program', () => {
    const xdp = { path: 'x.o', programs: [{ name: 'sock', section: 'cgroup/connect4', type: 'cgroup_sock_addr', insns: 3 }, { name: 'fw', section: 'xdp', type: 'xdp', attach: 'xdp', insns: 9 }], maps: [], hasLineInfo: false };
    expect(parseScenario(defaultScenario(xdp, 'x.o')).programs).toEqual([{ program: 'fw', attach: 'xdp', device: 'eth0' }]);
    expect(() => defaultScenario({ ...xdp, programs: [xdp.programs[0]] }, 'x.o')).toThrow('x.o: no XDP or tc program to attach (programs: sock (cgroup/connect4))');
  });
});
