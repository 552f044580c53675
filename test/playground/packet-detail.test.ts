import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultScenario } from '../../src/playground/engine/default-scenario.js';
import { describeWorkspaceObject } from '../../src/playground/engine/describe.js';
import { PlaygroundEngine } from '../../src/playground/engine/engine.js';
import { scenarioFilePaths } from '../../src/playground/engine/workspace.js';
import type { WorkspaceFile } from '../../src/playground/protocol.js';
import { readCapture } from '../../src/pcap/read.js';
import { runScenario } from '../../src/run/scenario-run.js';
import { parseScenario } from '../../src/scenario/parse.js';

const SCENARIO = 'fixtures/scenarios/kpr-remote.yaml';
const file = (path: string): WorkspaceFile => ({ path, bytes: new Uint8Array(readFileSync(path)) });

async function engineWithRun(scenarioPath = SCENARIO) {
  const scenarioText = readFileSync(scenarioPath, 'utf8');
  const files = scenarioFilePaths(parseScenario(scenarioText, scenarioPath), scenarioPath).map(file);
  const engine = new PlaygroundEngine();
  const summary = await engine.run({ type: 'run', runId: 1, files, scenarioText, scenarioPath, traceLimit: 20_000 });
  return { engine, summary, scenarioText };
}

describe('playground engine: packet detail (replayed)', () => {
  it('shows the SYN DNATed and SNATed, its trace by C line of nodeport.c and the CT/NAT entries it created', async () => {
    const { engine } = await engineWithRun();
    const d = await engine.packet(1, 1);
    expect(d.row).toMatchObject({ packet: 1, verdict: 'TC_ACT_REDIRECT', output: 'eth0', rewritten: true });
    expect(d.changedFields).toEqual(expect.arrayContaining(['ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport']));
    const field = (fields: { name: string; value: string }[] | undefined, name: string) => fields?.find((f) => f.name === name)?.value;
    expect(field(d.beforeFields, 'ip.dst')).toBe('10.0.0.2');
    expect(field(d.afterFields, 'ip.dst')).toBe('10.244.1.5');
    expect(field(d.afterFields, 'ip.src')).toBe('10.0.0.2');
    expect(field(d.afterFields, 'tcp.dstport')).toBe('8080');
    // ip.dst is bytes 30..33 of the Ethernet frame: all of them changed (10.0.0.2 -> 10.244.1.5, byte 30 stays 10).
    expect(d.changedBytes).toEqual(expect.arrayContaining([31, 32, 33]));
    expect(d.changedBytes).not.toContain(12); // eth.type

    expect(d.hops).toHaveLength(1);
    const hop = d.hops[0];
    expect(hop).toMatchObject({ program: 'nodeport_ingress', attach: 'tc/ingress', device: 'eth0', verdict: 'TC_ACT_REDIRECT', redirect: 'eth0', traceTruncated: false });
    const rows = hop.trace.flatMap((g) => g.entries);
    expect(rows.length).toBe(hop.insnCount);
    expect(hop.trace.every((g) => g.line?.file.endsWith('bpf/kpr/nodeport.c') || g.line?.file.endsWith('.h'))).toBe(true);
    // Groups are runs of one line: two neighbours never share a line.
    hop.trace.slice(1).forEach((g, i) => expect(`${g.line?.file}:${g.line?.line}`).not.toBe(`${hop.trace[i].line?.file}:${hop.trace[i].line?.line}`));
    expect(rows[0].regs).toHaveLength(11);
    expect(rows[0].regs.every((r) => /^0x[0-9a-f]+$/.test(r))).toBe(true);
    expect(rows.at(-1)!.disasm).toBe('exit');

    const added = (map: string) => d.mapChanges.filter((c) => c.map === map && c.kind === 'added');
    expect(added('ct4').map((c) => c.key)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ saddr: '10.0.0.1', daddr: '10.0.0.2', sport: 40000, dport: 30080, dir: 1 }),
        expect.objectContaining({ saddr: '10.0.0.1', daddr: '10.244.1.5', dport: 8080, dir: 2 }),
      ]),
    );
    expect(added('snat4').map((c) => c.after)).toEqual(expect.arrayContaining([expect.objectContaining({ to_addr: '10.0.0.2', to_port: 46471 })]));
    expect(d.mapChanges.find((c) => c.map === 'np_stats')).toMatchObject({ key: 2, before: 0n, after: 1n, kind: 'changed' });
  });

  it('replays every packet to the verdict, output and bytes of the full run, in any order', async () => {
    const { engine, summary, scenarioText } = await engineWithRun();
    const base = dirname(SCENARIO);
    const { report, outputs } = await runScenario(parseScenario(scenarioText, SCENARIO), (p) => new Uint8Array(readFileSync(join(base, p))));
    const sent = new Map(outputs.packets('eth0').map((p) => [p.packet, p.data]));
    for (const n of [5, 2, 12, 1, 6, 7]) {
      const d = await engine.packet(1, n);
      const full = report.packets.find((p) => p.packet === n)!;
      expect(d.row).toEqual(summary.rows[n - 1]);
      expect([d.row.verdict, d.row.output]).toEqual([full.verdict, full.output]);
      expect(d.afterBytes).toEqual(sent.get(n));
    }
  });

  it('replays from checkpoints taken on the way to the same packets, map changes and instructions', async () => {
    const scenarioText = readFileSync(SCENARIO, 'utf8');
    const files = scenarioFilePaths(parseScenario(scenarioText, SCENARIO), SCENARIO).map(file);
    const request = { type: 'run' as const, runId: 1, files, scenarioText, scenarioPath: SCENARIO, traceLimit: 20_000 };
    const fresh = new PlaygroundEngine();
    const checkpointed = new PlaygroundEngine(undefined, 3);
    await fresh.run(request);
    await checkpointed.run(request);
    await checkpointed.packet(1, 12); // passes positions 3, 6 and 9, saving the world there
    for (const n of [7, 4, 10]) {
      const a = await new PlaygroundEngine().run(request).then(() => fresh.packet(1, n));
      const b = await checkpointed.packet(1, n);
      expect(b.row).toEqual(a.row);
      expect(b.afterBytes).toEqual(a.afterBytes);
      expect(b.mapChanges).toEqual(a.mapChanges);
      // The same instructions; register values holding VM addresses depend on the heap's history.
      const steps = (d: typeof a) => d.hops.map((h) => h.trace.map((g) => [g.line, g.entries.map((r) => r.pc)]));
      expect(steps(b)).toEqual(steps(a));
    }
  });

  it('names the C line of a fault, and ends the trace with the faulting instruction', async () => {
    const obj = 'fixtures/obj/testdata/fault_oob.o';
    const pcap = 'fixtures/examples/packets.pcap';
    const files = [file(obj), file(pcap)];
    const scenarioPath = 'fixtures/obj/testdata/fault_oob.yaml';
    const scenarioText = defaultScenario(describeWorkspaceObject(files, obj), obj, pcap);
    const engine = new PlaygroundEngine();
    const summary = await engine.run({ type: 'run', runId: 4, files, scenarioText, scenarioPath, traceLimit: 100 });
    // A fault is no verdict of the kernel's: the row says FAULT, not whatever r0 held.
    expect(summary.rows[0]).toMatchObject({ fault: true, output: 'drop', verdict: 'FAULT' });
    expect(summary.totals.faults).toBe(summary.totals.packets);
    const hop = (await engine.packet(4, 1)).hops[0];
    const faultLine = readFileSync('bpf/testdata/fault_oob.c', 'utf8').split('\n').findIndex((l) => l.includes('= data[skb->len]')) + 1;
    expect(hop.fault).toMatchObject({ message: expect.stringContaining('past the end of packet'), line: { file: './bpf/testdata/fault_oob.c', line: faultLine } });
    expect(hop.fault!.line!.text).toContain('data[skb->len]');
    expect(hop.fault!.disasm).toMatch(/^r\d = \*\(u8 \*\)/);
    const last = hop.trace.at(-1)!;
    expect(last.line).toMatchObject({ file: './bpf/testdata/fault_oob.c', line: faultLine });
    expect(last.entries.at(-1)).toMatchObject({ pc: hop.fault!.pc, fault: true });
  });

  it('marks a trace cut at the limit as truncated', async () => {
    const scenarioText = readFileSync(SCENARIO, 'utf8');
    const files = scenarioFilePaths(parseScenario(scenarioText, SCENARIO), SCENARIO).map(file);
    const engine = new PlaygroundEngine();
    await engine.run({ type: 'run', runId: 9, files, scenarioText, scenarioPath: SCENARIO, traceLimit: 10 });
    const hop = (await engine.packet(9, 1)).hops[0];
    expect(hop.traceTruncated).toBe(true);
    expect(hop.trace.flatMap((g) => g.entries).filter((r) => !r.fault)).toHaveLength(10);
  });

  it('says which packet does not exist', async () => {
    const { engine } = await engineWithRun();
    const capture = readCapture(new Uint8Array(readFileSync('fixtures/kpr/pcap/remote-flow.pcap')));
    await expect(engine.packet(1, capture.packets.length + 1)).rejects.toThrow(`packet ${capture.packets.length + 1}: the capture has no such packet`);
    await expect(engine.packet(99, 1)).rejects.toThrow('run 99 is not known');
  });
});
