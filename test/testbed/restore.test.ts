// Testbed#restoreState: a snapshot put back into an existing Testbed of the same object (a
// CtxRunner's included), which then continues exactly as the Testbed the snapshot was taken of.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pack } from 'msgpackr/pack';
import { unpack } from 'msgpackr/unpack';
import { describe, expect, it } from 'vitest';
import { loadObject } from '../../src/loader/object.js';
import { Testbed, SNAPSHOT_VERSION, type SnapshotData } from '../../src/testbed/testbed.js';
import { TCP_ACK } from '../../src/kpr/frames.js';
import { remoteNode, toNodePort, fromPod, type TestNode } from '../kpr/nodeport-node.js';

const obj = (name: string) => new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/obj', name)));
const core = loadObject(obj('helpers/core.o'), { name: 'core.o' });
const args = () => new Uint8Array(56);

/** Client connections to the NodePort and the pod's answers, from a seeded generator. */
function traffic(seed: number, n: number): { frame: Uint8Array; advance: number }[] {
  let a = seed;
  const rand = (m: number) => {
    a = (Math.imul(a, 1103515245) + 12345) >>> 0;
    return (a >>> 8) % m;
  };
  return Array.from({ length: n }, () => {
    const proto = rand(3) === 0 ? 'udp' : 'tcp';
    const frame = toNodePort({ sport: 40000 + rand(200), proto, ...(proto === 'tcp' && rand(2) ? { flags: TCP_ACK } : {}) });
    return { frame, advance: rand(4) === 0 ? 30 + rand(400) : rand(1000) / 1000 };
  });
}

const fateOf = (node: TestNode, frame: Uint8Array) => {
  const f = node.send(frame);
  return { output: f.output, data: f.data ? Array.from(f.data) : null, hops: f.hops.map((h) => h.verdict) };
};
const tables = (node: TestNode) => ({ ct: node.ct(), nat: node.nat(), now: node.nowNs() });

describe('Testbed#restoreState', () => {
  it('puts a Testbed that ran on back where the snapshot was taken, clock and random generator included', async () => {
    const bed = await Testbed.create(core, { environment: { seed: 11 } });
    bed.runWithMemory('spin_count', args());
    bed.env.advance(1_000_000);
    const snap = bed.snapshot();
    const before = bed.runWithMemory('clocks', args()).memory!;
    bed.runWithMemory('spin_count', args());
    bed.env.advance(9_000_000);
    bed.restoreState(snap);
    expect(Number(bed.runWithMemory('spin_count', args()).r0)).toBe(2);
    expect(bed.runWithMemory('clocks', args()).memory!).toEqual(before);
  });

  it('a CtxRunner restored mid-traffic sends every later packet as the original does (nodeport.o)', async () => {
    const original = await remoteNode();
    const history = traffic(1, 60);
    for (const p of history) {
      original.advance(p.advance);
      original.send(p.frame);
      original.send(fromPod(32768 + (p.frame[37] % 8)));
    }
    const snap = original.runner.bed.snapshot();
    // The whole state of nodeport.o's preallocated maps (tens of MB) is not in it: the live entries are.
    expect(snap.length).toBeLessThan(64 * 1024);
    expect(original.ct().length).toBeGreaterThan(10);

    // Another node that has had traffic of its own, then is restored.
    const restored = await remoteNode();
    for (const p of traffic(2, 80)) {
      restored.advance(p.advance);
      restored.send(p.frame);
    }
    restored.runner.bed.restoreState(snap);
    expect(tables(restored)).toEqual(tables(original));

    for (const p of traffic(3, 120)) {
      for (const node of [original, restored]) node.advance(p.advance);
      expect(fateOf(restored, p.frame)).toEqual(fateOf(original, p.frame));
      const reply = fromPod(32768 + (p.frame[37] % 64));
      expect(fateOf(restored, reply)).toEqual(fateOf(original, reply));
    }
    expect(tables(restored)).toEqual(tables(original));
  });

  it("'clock-and-random' keeps the Testbed's devices and routes; 'all' takes the snapshot's", async () => {
    const bed = await Testbed.create(core, { environment: { seed: 3, devices: [{ name: 'eth0', addrs: ['10.0.0.1/24'] }] } });
    const snap = bed.snapshot();
    const other = await Testbed.create(core, { environment: { seed: 4, devices: [{ name: 'eth9', addrs: ['10.9.0.1/24'] }] } });
    other.restoreState(snap, { environment: 'clock-and-random' });
    expect(other.env.state.devices.map((d) => d.name)).toContain('eth9');
    expect(other.runWithMemory('clocks', args()).memory!).toEqual(bed.runWithMemory('clocks', args()).memory!);
    other.restoreState(snap);
    expect(other.env.state.devices.map((d) => d.name)).toContain('eth0');
    expect(other.env.state.devices.map((d) => d.name)).not.toContain('eth9');
  });

  it('refuses, changing nothing, a snapshot of another object or of maps of other sizes', async () => {
    const bed = await Testbed.create(core);
    bed.runWithMemory('spin_count', args());
    const lb = await Testbed.create(loadObject(obj('typed/lb_types.o'), { name: 'lb_types.o' }));
    expect(() => bed.restoreState(lb.snapshot())).toThrow(/taken from object lb_types, not core/);

    const data = unpack(bed.snapshot()) as SnapshotData;
    const renamed = { ...data, object: lb.spec.name };
    expect(() => lb.restoreState(pack(renamed))).toThrow(/its maps \(.*\) are not this object's \(.*\)/);
    const resized = { ...data, maps: data.maps.map((m, i) => (i === 0 ? { ...m, maxEntries: m.maxEntries + 1 } : m)) };
    expect(() => bed.restoreState(pack(resized))).toThrow(new RegExp(`map ${data.maps[0].name}: saved with maxEntries ${data.maps[0].maxEntries + 1}, this object's map has ${data.maps[0].maxEntries}`));
    const twoCpus = await Testbed.create(core, { nrCpus: 2 });
    twoCpus.cpu = 1;
    expect(() => bed.restoreState(twoCpus.snapshot())).toThrow(/taken on CPU 1, this Testbed has 1 CPUs/);
    // Nothing was restored: the count goes on from where it was.
    expect(Number(bed.runWithMemory('spin_count', args()).r0)).toBe(2);
  });

  it('says that a version 1 snapshot (whole map memories) must be taken again', async () => {
    const bed = await Testbed.create(core);
    const v1 = { ...(unpack(bed.snapshot()) as SnapshotData), version: 1 };
    expect(SNAPSHOT_VERSION).toBe(2);
    expect(() => bed.restoreState(pack(v1))).toThrow(/version 1 .* is no longer read; take the snapshot again/);
    await expect(Testbed.fromSnapshot(core, pack(v1))).rejects.toThrow(/version 1/);
    expect(() => bed.restoreState(pack({ ...v1, version: 9 }))).toThrow(/version 9 is not one this bpfbed reads \(2\)/);
  });
});
