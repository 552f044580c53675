// The control plane under node.lbAlgorithm 'maglev' (src/k8s/lb-maps.ts, scenario.ts,
// maglev-maps.ts): which frontends get a table, the flag the datapath reads, errors for a bad
// configuration, and the inner maps written into a testbed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildLbMaps, maglevBackendName, SVC_FLAG2_MAGLEV, type NodeInfo } from '../../src/k8s/lb-maps.js';
import { parseClusterYaml } from '../../src/k8s/objects.js';
import { clusterMapEntries } from '../../src/k8s/scenario.js';
import { maglevTable } from '../../src/k8s/maglev.js';
import { applyMaglevToTestbed } from '../../src/k8s/maglev-maps.js';
import { CtxRunner } from '../../src/ctx/runner.js';
import { loadObject } from '../../src/loader/object.js';

const fixtures = join(import.meta.dirname, '../../fixtures');
const clusterYaml = readFileSync(join(fixtures, 'k8s/cluster.yaml'), 'utf8');
const node: NodeInfo = JSON.parse(readFileSync(join(fixtures, 'k8s/node-1.json'), 'utf8'));
const maglevNode: NodeInfo = { ...node, lbAlgorithm: 'maglev' };

describe('node.lbAlgorithm maglev', () => {
  it('gives every frontend reachable from outside a table and SVC_FLAG2_MAGLEV on all its slots; ClusterIPs keep the slots alone', () => {
    const plan = buildLbMaps(parseClusterYaml(clusterYaml), maglevNode);
    const outside = plan.frontends.filter((f) => f.kind !== 'ClusterIP' && f.backendIds.length > 0);
    expect(outside.length).toBeGreaterThan(0);
    expect(plan.maglev.map((t) => t.revNatIndex)).toEqual(outside.map((f) => f.revNatIndex).sort((a, b) => a - b));
    for (const f of plan.frontends) {
      const entries = plan.entries[f.family === 'IPv4' ? 'lb4_services' : 'lb6_services'].filter((e) => e.key.address === f.address && e.key.dport === f.port && e.key.proto === f.proto);
      for (const e of entries) expect(e.value.flags2).toBe(f.kind === 'ClusterIP' ? 0 : SVC_FLAG2_MAGLEV);
    }
    for (const t of plan.maglev) {
      const f = plan.frontends.find((x) => x.revNatIndex === t.revNatIndex)!;
      expect(t.family).toBe(f.family);
      expect(t.table).toHaveLength(251);
      const byId = new Map(plan.backends.map((b) => [b.id, b]));
      expect(t.table).toEqual(maglevTable(f.backendIds.map((id) => ({ name: maglevBackendName(byId.get(id)!), id })), 251));
    }
  });

  it('is off by default: no tables, flags2 0', () => {
    const plan = buildLbMaps(parseClusterYaml(clusterYaml), node);
    expect(plan.maglev).toEqual([]);
    expect([...plan.entries.lb4_services, ...plan.entries.lb6_services].every((e) => e.value.flags2 === 0)).toBe(true);
  });

  it('takes the table size from node.maglevTableSize and refuses a bad algorithm or a size that is not prime', () => {
    const plan = buildLbMaps(parseClusterYaml(clusterYaml), { ...maglevNode, maglevTableSize: 509 });
    expect(plan.maglev.every((t) => t.table.length === 509)).toBe(true);
    expect(() => clusterMapEntries(clusterYaml, { ...maglevNode, maglevTableSize: 500 })).toThrow(/^cluster\.node\.maglevTableSize: must be a prime/);
    expect(() => clusterMapEntries(clusterYaml, { ...node, lbAlgorithm: 'ring' as 'maglev' })).toThrow(/^cluster\.node\.lbAlgorithm: must be 'random' or 'maglev'/);
  });

  it('names backends by address, port and protocol, IPv6 in brackets', () => {
    expect(maglevBackendName({ address: '10.244.0.5', port: 8080, proto: 6 })).toBe('10.244.0.5:8080/TCP');
    expect(maglevBackendName({ address: 'fd00::5', port: 53, proto: 17 })).toBe('[fd00::5]:53/UDP');
  });
});

describe('applyMaglevToTestbed', () => {
  const nodeport = async () => (await CtxRunner.create(loadObject(new Uint8Array(readFileSync(join(fixtures, 'obj/kpr/nodeport.o'))), { name: 'nodeport.o' }))).bed;

  it('links one inner map per table under its rev_nat_index, holding the table', async () => {
    const bed = await nodeport();
    const { maglev } = clusterMapEntries(clusterYaml, maglevNode);
    const summary = applyMaglevToTestbed(bed, maglev);
    expect(summary.inner).toHaveLength(maglev.length);
    for (const t of maglev) {
      const outer = bed.map(t.family === 'IPv4' ? 'lb4_maglev' : 'lb6_maglev');
      const key = Uint8Array.of(t.revNatIndex & 0xff, t.revNatIndex >> 8, 0, 0);
      const id = new DataView(outer.read(key)!.buffer).getUint32(0, true);
      const inner = bed.registry.byId(id)!;
      const value = inner.read(new Uint8Array(4))!;
      expect(Array.from({ length: t.table.length }, (_, i) => new DataView(value.buffer, value.byteOffset).getUint32(i * 4, true))).toEqual(t.table);
    }
  });

  it("replaces a service's inner map on a second write and releases the old one", async () => {
    const bed = await nodeport();
    const { maglev } = clusterMapEntries(clusterYaml, maglevNode);
    const first = applyMaglevToTestbed(bed, maglev).inner[0];
    const second = applyMaglevToTestbed(bed, maglev).inner[0];
    expect(second.mapId).not.toBe(first.mapId);
    expect(bed.registry.byId(first.mapId)).toBeUndefined();
  });

  it("says so when the object's table size differs from the control plane's", async () => {
    const bed = await nodeport();
    const { maglev } = clusterMapEntries(clusterYaml, { ...maglevNode, maglevTableSize: 509 });
    expect(() => applyMaglevToTestbed(bed, maglev)).toThrow(/inner map holds 251 backend ids .* has 509 .*must agree/);
  });
});
