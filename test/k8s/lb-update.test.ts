import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IPPROTO_TCP, type LbPlan, type NodeInfo } from '../../src/k8s/lb-maps.js';
import { diffLbEntries, LbController, type LbMapOp } from '../../src/k8s/lb-update.js';
import { parseClusterYaml, type EndpointSlice } from '../../src/k8s/objects.js';

const fixtures = join(import.meta.dirname, '../../fixtures/k8s');
const cluster = () => parseClusterYaml(readFileSync(join(fixtures, 'cluster.yaml'), 'utf8'));
const node: NodeInfo = JSON.parse(readFileSync(join(fixtures, 'node-1.json'), 'utf8'));

const backendId = (plan: LbPlan, address: string) => plan.backends.find((b) => b.address === address)!.id;
const webSlice = (c = cluster()) => c.endpointSlices.find((s) => s.name === 'web-abcde')!;
const withEndpoints = (slice: EndpointSlice, endpoints: EndpointSlice['endpoints']): EndpointSlice => ({ ...slice, endpoints });
const ready = (address: string, nodeName = 'node-2') => ({ addresses: [address], ready: true, serving: true, terminating: false, nodeName });
const opText = (op: LbMapOp) => `${op.op} ${op.map} ${JSON.stringify(op.key)}${op.op === 'set' ? ` ${JSON.stringify(op.value)}` : ''}`;

describe('updates', () => {
  it('gives nothing to do when nothing changed', () => {
    const ctl = new LbController(node, cluster());
    expect(ctl.upsertEndpointSlice(webSlice())).toEqual([]);
    expect(diffLbEntries(ctl.entries, ctl.entries)).toEqual([]);
  });

  it('keeps every existing id when a backend is added, and gives the new one a fresh id', () => {
    const ctl = new LbController(node, cluster());
    const before = ctl.plan;
    const slice = webSlice();
    ctl.upsertEndpointSlice(withEndpoints(slice, [...slice.endpoints, ready('10.0.2.13')]));
    const after = ctl.plan;
    expect(after.backends.filter((b) => before.backends.some((x) => x.id === b.id)).map((b) => `${b.id} ${b.address}:${b.port}/${b.proto}`)).toEqual(
      before.backends.map((b) => `${b.id} ${b.address}:${b.port}/${b.proto}`),
    );
    expect(after.frontends.map((f) => f.revNatIndex)).toEqual(before.frontends.map((f) => f.revNatIndex));
    const fresh = backendId(after, '10.0.2.13');
    expect(fresh).toBeGreaterThan(Math.max(...before.backends.map((b) => b.id)));
    expect(after.frontends.find((f) => f.address === '10.96.100.20')!.backendIds).toEqual([backendId(before, '10.0.1.10'), backendId(before, '10.0.2.11'), fresh]);
  });

  it('compacts the slots when a backend goes: the rest move down, slot 0 shrinks, the last slot and the backend are deleted', () => {
    const ctl = new LbController(node, cluster());
    const before = ctl.plan;
    const gone = backendId(before, '10.0.1.10');
    const stays = backendId(before, '10.0.2.11');
    const slice = webSlice();
    const ops = ctl.upsertEndpointSlice(withEndpoints(slice, slice.endpoints.filter((e) => e.addresses[0] !== '10.0.1.10')));
    const clusterIP = before.frontends.find((f) => f.address === '10.96.100.20')!.revNatIndex;
    const forVip = ops.filter((op) => op.map === 'lb4_services' && (op.key as { address: string }).address === '10.96.100.20').map(opText);
    expect(forVip).toEqual([
      `set lb4_services {"address":"10.96.100.20","dport":80,"backend_slot":1,"proto":6,"scope":0} {"backend_id":${stays},"count":0,"rev_nat_index":${clusterIP},"flags":0,"flags2":0}`,
      `set lb4_services {"address":"10.96.100.20","dport":80,"backend_slot":0,"proto":6,"scope":0} {"backend_id":0,"count":1,"rev_nat_index":${clusterIP},"flags":0,"flags2":0}`,
      `delete lb4_services {"address":"10.96.100.20","dport":80,"backend_slot":2,"proto":6,"scope":0}`,
    ]);
    // three frontends (ClusterIP, node address, any address) change the same way; the backend goes last
    expect(ops.filter((op) => op.op === 'delete' && op.map === 'lb4_services')).toHaveLength(3);
    expect(opText(ops[ops.length - 1])).toBe(`delete lb4_backends ${gone}`);
    expect(ctl.plan.frontends.filter((f) => f.service === 'default/web').map((f) => f.backendIds)).toEqual([[stays], [stays], [stays]]);
  });

  it('orders a removed service\'s deletes: slot 0 first, then its slots, its rev NAT, then its backends', () => {
    const ctl = new LbController(node, cluster());
    const ops = ctl.deleteService('default', 'cache').map(opText);
    expect(ops.every((t) => t.startsWith('delete'))).toBe(true);
    expect(ops.map((t) => t.split(' ').slice(0, 2).join(' ') + (t.includes('"backend_slot":0') ? ' slot0' : ''))).toEqual([
      'delete lb4_services slot0',
      'delete lb4_services',
      'delete lb4_services',
      'delete lb4_reverse_nat',
      'delete lb4_backends',
      'delete lb4_backends',
    ]);
    expect(ctl.plan.frontends.some((f) => f.service === 'default/cache')).toBe(false);
  });

  it('marks a backend terminating in place and takes it out of the slots', () => {
    const ctl = new LbController(node, cluster());
    const id = backendId(ctl.plan, '10.0.1.10');
    const slice = webSlice();
    const ops = ctl.upsertEndpointSlice(
      withEndpoints(
        slice,
        slice.endpoints.map((e) => (e.addresses[0] === '10.0.1.10' ? { ...e, ready: false, terminating: true } : e)),
      ),
    );
    expect(ops.filter((op) => op.map === 'lb4_backends').map(opText)).toEqual([`set lb4_backends ${id} {"address":"10.0.1.10","port":8080,"proto":6,"flags":1,"ifindex":4}`]);
    expect(ctl.plan.frontends.find((f) => f.address === '10.96.100.20')!.backendIds).not.toContain(id);
  });

  it('does not hand a freed id to the next new frontend or backend', () => {
    const ctl = new LbController(node, cluster());
    const maxRevNat = Math.max(...ctl.plan.frontends.map((f) => f.revNatIndex));
    const maxBackend = Math.max(...ctl.plan.backends.map((b) => b.id));
    const cache = ctl.objects().services.find((s) => s.name === 'cache')!;
    const cacheSlice = ctl.objects().endpointSlices.find((s) => s.serviceName === 'cache')!;
    ctl.deleteService('default', 'cache');
    ctl.deleteEndpointSlice('default', cacheSlice.name);
    ctl.upsertService({ ...cache, name: 'cache2', clusterIPs: ['10.96.60.7'] });
    ctl.upsertEndpointSlice({ ...cacheSlice, name: 'cache2-x', serviceName: 'cache2' });
    const cache2 = ctl.plan.frontends.find((f) => f.service === 'default/cache2')!;
    expect(cache2.revNatIndex).toBe(maxRevNat + 1);
    expect(Math.min(...cache2.backendIds)).toBeGreaterThan(maxBackend);
    expect(cache2.proto).toBe(IPPROTO_TCP);
  });
});

