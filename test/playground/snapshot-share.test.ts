import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlaygroundEngine } from '../../src/playground/engine/engine.js';
import { scenarioFilePaths } from '../../src/playground/engine/workspace.js';
import { decodeShareHash, encodeShareHash } from '../../src/playground/share.js';
import { decodePlaygroundSnapshot, encodePlaygroundSnapshot } from '../../src/playground/snapshot.js';
import { parseScenario } from '../../src/scenario/parse.js';

const SCENARIO = 'fixtures/scenarios/kpr-remote.yaml';

function workspace() {
  const scenarioText = readFileSync(SCENARIO, 'utf8');
  const files = scenarioFilePaths(parseScenario(scenarioText, SCENARIO), SCENARIO).map((path) => ({ path, bytes: new Uint8Array(readFileSync(path)) }));
  return { scenarioText, files };
}

describe('playground snapshot file', () => {
  it('carries the workspace and the state after a run, and a run from that state continues it', async () => {
    const { scenarioText, files } = workspace();
    const engine = new PlaygroundEngine();
    const first = await engine.run({ type: 'run', runId: 1, files, scenarioText, scenarioPath: SCENARIO, traceLimit: 0 });
    const snap = decodePlaygroundSnapshot(engine.snapshot(1));
    expect(snap.scenarioPath).toBe(SCENARIO);
    expect(snap.scenarioText).toBe(scenarioText);
    expect(snap.files.map((f) => [f.path, f.bytes])).toEqual(files.map((f) => [f.path, f.bytes]));
    expect(snap.state).toBeInstanceOf(Uint8Array);

    const second = await engine.run({ type: 'run', runId: 2, files: snap.files, scenarioText: snap.scenarioText, scenarioPath: snap.scenarioPath, traceLimit: 0, state: snap.state });
    const statsAfter = (s: typeof first) => s.maps.find((m) => m.name === 'np_stats')!.entries.find((e) => e.key === 2);
    const once = statsAfter(first)!.value as bigint;
    expect(once).toBeGreaterThan(0n);
    // The second run starts from the first one's counters and connections, not from the scenario's maps.
    expect(statsAfter(second)).toMatchObject({ value: 2n * once, status: 'changed' });
    const ct = second.maps.find((m) => m.name === 'ct4')!;
    expect(ct.entries.length).toBeGreaterThan(0);
    expect(ct.entries.some((e) => e.status === 'added')).toBe(false);
    // A packet of the continued run replays from the snapshot too.
    const replayed = await engine.packet(2, 3);
    expect(replayed.row).toEqual(second.rows[2]);
  });

  it('refuses a file that is not a playground snapshot, saying so', () => {
    expect(() => decodePlaygroundSnapshot(new TextEncoder().encode('object: x.o\n'))).toThrow(/not a bpfbed playground snapshot/);
    expect(() => decodePlaygroundSnapshot(encodePlaygroundSnapshot({ files: [], scenarioPath: 'a.yaml', scenarioText: '' }).slice(0, 5))).toThrow(/not a bpfbed playground snapshot/);
  });

  it('a snapshot of an unknown run is an error reply naming the run', async () => {
    const out: unknown[] = [];
    await new PlaygroundEngine().handle({ type: 'snapshot', requestId: 3, runId: 42 }, (r) => out.push(r));
    expect(out).toEqual([{ type: 'error', requestId: 3, runId: 42, message: expect.stringContaining('run 42 is not known') }]);
  });
});

describe('playground share link', () => {
  it('carries the scenario text and path through the URL hash', async () => {
    const { scenarioText } = workspace();
    const hash = await encodeShareHash(scenarioText, SCENARIO);
    expect(hash).toMatch(/^#s=[A-Za-z0-9_-]+$/);
    expect(hash.length).toBeLessThan(scenarioText.length);
    expect(await decodeShareHash(hash)).toEqual({ scenarioText, scenarioPath: SCENARIO });
    expect(await decodeShareHash(hash.slice(1))).toEqual({ scenarioText, scenarioPath: SCENARIO });
  });

  it('gives undefined for a hash that carries no scenario or a damaged one', async () => {
    expect(await decodeShareHash('')).toBeUndefined();
    expect(await decodeShareHash('#packet=3')).toBeUndefined();
    expect(await decodeShareHash('#s=not*base64')).toBeUndefined();
    expect(await decodeShareHash('#s=AAAA')).toBeUndefined();
  });
});
