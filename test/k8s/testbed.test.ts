import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeLbEntries } from '../../src/k8s/lb-bytes.js';
import { applyToTestbed, buildLbMaps, LB_MAP_NAMES, readFromTestbed, type NodeInfo } from '../../src/k8s/lb-maps.js';
import { applyOpsToTestbed, LbController } from '../../src/k8s/lb-update.js';
import { parseClusterYaml } from '../../src/k8s/objects.js';
import { Testbed } from '../../src/testbed/testbed.js';

const root = join(import.meta.dirname, '../..');
const clusterYaml = readFileSync(join(root, 'fixtures/k8s/cluster.yaml'), 'utf8');
const node: NodeInfo = JSON.parse(readFileSync(join(root, 'fixtures/k8s/node-1.json'), 'utf8'));
const lbMapsObject = () => Testbed.fromObject(new Uint8Array(readFileSync(join(root, 'fixtures/obj/k8s/lb_maps.o'))), { name: 'lb_maps.o' });
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

describe('writing the maps of a real object (bpf/k8s/lb_maps.c, the structs of bpf/kpr/lb.h)', () => {
  it('stores every entry and reads back the same typed entries', async () => {
    const bed = await lbMapsObject();
    const plan = buildLbMaps(parseClusterYaml(clusterYaml), node);
    const summary = applyToTestbed(bed, plan.entries);
    expect(summary.skipped).toEqual([]);
    for (const name of LB_MAP_NAMES) expect(summary.written[name]).toBe(plan.entries[name].length);
    expect(bed.typedMap('lb4_services').entries().length).toBe(plan.entries.lb4_services.length);
    expect(bed.typedMap('lb4_services').get({ address: '10.96.0.10', dport: 53, backend_slot: 0, proto: 17 })).toMatchObject({ count: 2, flags: 0 });
    expect(readFromTestbed(bed)).toEqual(plan.entries);
  });

  it('lays out the raw bytes exactly as the compiler laid out the structs', async () => {
    const bed = await lbMapsObject();
    const plan = buildLbMaps(parseClusterYaml(clusterYaml), node);
    applyToTestbed(bed, plan.entries);
    const raw = encodeLbEntries(plan.entries);
    for (const name of LB_MAP_NAMES) {
      const stored = bed.map(name).dump().entries.map((e) => `${hex(e.key)}=${hex(e.value)}`).sort();
      expect(raw[name].map((e) => `${hex(e.key)}=${hex(e.value)}`).sort(), name).toEqual(stored);
      expect(raw[name].every((e) => e.key.length === bed.map(name).keySize && e.value.length === bed.map(name).valueSize)).toBe(true);
    }
    // spot check against lb.h by hand: 10.96.0.10:53/UDP slot 0, then lb4_backend of 10.0.1.5:53/UDP on ifindex 3
    const dns = raw.lb4_services.find((e) => hex(e.key) === '0a60000a' + '0035' + '0000' + '11' + '00' + '0000');
    expect(dns).toBeDefined();
    expect(raw.lb4_backends.some((e) => hex(e.value) === '0a000105' + '0035' + '11' + '00' + '03000000')).toBe(true);
  });

  it('brings the maps from one cluster state to the next by applying the update operations', async () => {
    const bed = await lbMapsObject();
    const ctl = new LbController(node, parseClusterYaml(clusterYaml));
    applyToTestbed(bed, ctl.entries);
    const slice = ctl.objects().endpointSlices.find((s) => s.name === 'web-abcde')!;
    applyOpsToTestbed(bed, ctl.upsertEndpointSlice({ ...slice, endpoints: slice.endpoints.slice(1) }));
    expect(readFromTestbed(bed)).toEqual(ctl.entries);
    applyOpsToTestbed(bed, ctl.deleteService('kube-system', 'kube-dns'));
    applyOpsToTestbed(bed, ctl.deleteService('default', 'echo'));
    expect(readFromTestbed(bed)).toEqual(ctl.entries);
    expect(bed.typedMap('lb6_services').entries()).toEqual([]);
    expect(bed.typedMap('lb4_services').get({ address: '10.96.0.10', dport: 53, backend_slot: 0, proto: 17 })).toBeUndefined();
  });

  it('skips the maps an object does not have', async () => {
    const other = await Testbed.fromObject(new Uint8Array(readFileSync(join(root, 'fixtures/obj/typed/lb_types.o'))), { name: 'lb_types.o' });
    const summary = applyToTestbed(other, buildLbMaps(parseClusterYaml(clusterYaml), node).entries);
    expect(summary).toEqual({ written: {}, skipped: [...LB_MAP_NAMES] });
  });
});
