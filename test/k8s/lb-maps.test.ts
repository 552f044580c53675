import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BE_STATE_ACTIVE,
  BE_STATE_TERMINATING,
  buildLbMaps,
  IPPROTO_TCP,
  IPPROTO_UDP,
  SVC_FLAG_AFFINITY,
  SVC_FLAG_EXTERNAL_IP,
  SVC_FLAG_LOADBALANCER,
  SVC_FLAG_LOCAL_SCOPE,
  SVC_FLAG_NODEPORT,
  SVC_FLAG_ROUTABLE,
  type LbPlan,
  type NodeInfo,
} from '../../src/k8s/lb-maps.js';
import { K8sObjectError, parseClusterYaml } from '../../src/k8s/objects.js';

const fixtures = join(import.meta.dirname, '../../fixtures/k8s');
const clusterYaml = readFileSync(join(fixtures, 'cluster.yaml'), 'utf8');
const node: NodeInfo = JSON.parse(readFileSync(join(fixtures, 'node-1.json'), 'utf8'));
const plan = buildLbMaps(parseClusterYaml(clusterYaml), node);

/** The lb4/lb6_services entries of one frontend, slot 0 first. */
function serviceEntries(p: LbPlan, address: string, dport: number, proto: number) {
  const map = address.includes(':') ? p.entries.lb6_services : p.entries.lb4_services;
  return map.filter((e) => e.key.address === address && e.key.dport === dport && e.key.proto === proto);
}

/** The backends of one frontend's slots, as address:port. */
function slotBackends(p: LbPlan, address: string, dport: number, proto: number): string[] {
  const backends = address.includes(':') ? p.entries.lb6_backends : p.entries.lb4_backends;
  return serviceEntries(p, address, dport, proto)
    .filter((e) => e.key.backend_slot > 0)
    .map((e) => {
      const b = backends.find((x) => x.key === e.value.backend_id);
      return b ? `${b.value.address}:${b.value.port}` : `missing backend ${e.value.backend_id}`;
    });
}

const slot0 = (p: LbPlan, address: string, dport: number, proto: number) => serviceEntries(p, address, dport, proto).find((e) => e.key.backend_slot === 0)?.value;

function withNodePortService(extraSpec: string, endpoints: string, opts: { family?: 'IPv4' | 'IPv6' } = {}): LbPlan {
  const family = opts.family ?? 'IPv4';
  const yaml = `apiVersion: v1
kind: Service
metadata: { name: app }
spec:
  type: NodePort
  clusterIP: ${family === 'IPv4' ? '10.96.7.7' : '"fd00:96::7"'}
${extraSpec}
  ports: [{ port: 80, targetPort: 8080, nodePort: 30007 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: app-1, labels: { kubernetes.io/service-name: app } }
addressType: ${family}
endpoints:
${endpoints}
`;
  return buildLbMaps(parseClusterYaml(yaml), node);
}

describe('ClusterIP services', () => {
  it('gives each (VIP, port, protocol) a slot 0 with count and rev NAT index, and slots naming the backends', () => {
    const udp = serviceEntries(plan, '10.96.0.10', 53, IPPROTO_UDP);
    const tcp = serviceEntries(plan, '10.96.0.10', 53, IPPROTO_TCP);
    expect(udp.map((e) => e.key.backend_slot)).toEqual([0, 1, 2]);
    expect(udp[0].key).toEqual({ address: '10.96.0.10', dport: 53, backend_slot: 0, proto: IPPROTO_UDP, scope: 0 });
    expect(udp[0].value).toMatchObject({ backend_id: 0, count: 2, flags: 0, flags2: 0 });
    expect(slotBackends(plan, '10.96.0.10', 53, IPPROTO_UDP)).toEqual(['10.0.1.5:53', '10.0.2.6:53']);
    expect(slotBackends(plan, '10.96.0.10', 53, IPPROTO_TCP)).toEqual(['10.0.1.5:53', '10.0.2.6:53']);
    // UDP and TCP are different frontends with different backends (backend protocol differs)
    expect(udp[0].value.rev_nat_index).not.toBe(tcp[0].value.rev_nat_index);
    const udpBackendIds = udp.slice(1).map((e) => e.value.backend_id);
    const tcpBackendIds = tcp.slice(1).map((e) => e.value.backend_id);
    expect(udpBackendIds.some((id) => tcpBackendIds.includes(id))).toBe(false);
    for (const id of udpBackendIds) expect(plan.entries.lb4_backends.find((b) => b.key === id)?.value.proto).toBe(IPPROTO_UDP);
    // every slot carries the frontend's rev NAT index; rev NAT maps it back to the VIP
    expect(new Set(udp.map((e) => e.value.rev_nat_index)).size).toBe(1);
    expect(plan.entries.lb4_reverse_nat.find((r) => r.key === udp[0].value.rev_nat_index)?.value).toEqual({ address: '10.96.0.10', port: 53 });
  });

  it('gives a local backend the ifindex of its pod device and a remote one ifindex 0', () => {
    const byAddress = (a: string) => plan.entries.lb4_backends.find((b) => b.value.address === a && b.value.proto === IPPROTO_UDP)?.value;
    expect(byAddress('10.0.1.5')).toEqual({ address: '10.0.1.5', port: 53, proto: IPPROTO_UDP, flags: BE_STATE_ACTIVE, ifindex: 3 });
    expect(byAddress('10.0.2.6')).toEqual({ address: '10.0.2.6', port: 53, proto: IPPROTO_UDP, flags: BE_STATE_ACTIVE, ifindex: 0 });
  });

  it('resolves a named targetPort through the EndpointSlice port', () => {
    expect(slotBackends(plan, '10.96.100.20', 80, IPPROTO_TCP)).toEqual(['10.0.1.10:8080', '10.0.2.11:8080']);
  });

  it('puts the affinity timeout in slot 0 and the affinity flag on every frontend with ClientIP affinity', () => {
    expect(slot0(plan, '10.96.60.6', 6379, IPPROTO_TCP)).toMatchObject({ backend_id: 600, count: 2, flags: SVC_FLAG_AFFINITY });
    const p = withNodePortService('  sessionAffinity: ClientIP', '  - addresses: [10.0.1.50]');
    expect(slot0(p, '10.96.7.7', 80, IPPROTO_TCP)).toMatchObject({ backend_id: 10800, flags: SVC_FLAG_AFFINITY });
    expect(slot0(p, '0.0.0.0', 30007, IPPROTO_TCP)).toMatchObject({ backend_id: 10800, flags: SVC_FLAG_AFFINITY | SVC_FLAG_NODEPORT | SVC_FLAG_ROUTABLE });
    expect(slot0(plan, '10.96.0.10', 53, IPPROTO_UDP)?.backend_id).toBe(0);
  });
});

describe('NodePort services', () => {
  it('adds a frontend per node address and one for any local address, flagged NODEPORT and ROUTABLE', () => {
    const nodePortFlags = SVC_FLAG_NODEPORT | SVC_FLAG_ROUTABLE;
    expect(slot0(plan, '10.96.100.20', 80, IPPROTO_TCP)?.flags).toBe(0);
    for (const address of ['192.168.1.10', '0.0.0.0']) {
      expect(slot0(plan, address, 30080, IPPROTO_TCP)).toMatchObject({ count: 2, flags: nodePortFlags, backend_id: 0 });
      expect(slotBackends(plan, address, 30080, IPPROTO_TCP)).toEqual(['10.0.1.10:8080', '10.0.2.11:8080']);
    }
    // the service port itself is not a node port, and a single-stack IPv4 service has no IPv6 node port
    expect(serviceEntries(plan, '192.168.1.10', 80, IPPROTO_TCP)).toEqual([]);
    expect(serviceEntries(plan, 'fd00::10', 30080, IPPROTO_TCP)).toEqual([]);
    const anyIndex = slot0(plan, '0.0.0.0', 30080, IPPROTO_TCP)!.rev_nat_index;
    const nodeIndex = slot0(plan, '192.168.1.10', 30080, IPPROTO_TCP)!.rev_nat_index;
    expect(anyIndex).not.toBe(nodeIndex);
    expect(plan.entries.lb4_reverse_nat.find((r) => r.key === anyIndex)?.value).toEqual({ address: '0.0.0.0', port: 30080 });
    expect(plan.entries.lb4_reverse_nat.find((r) => r.key === nodeIndex)?.value).toEqual({ address: '192.168.1.10', port: 30080 });
  });

  it('flags externalIPs and LoadBalancer ingress IPs as routable frontends on the service port', () => {
    const yaml = `apiVersion: v1
kind: Service
metadata: { name: lb }
spec:
  type: LoadBalancer
  clusterIP: 10.96.8.8
  externalIPs: [203.0.113.5]
  ports: [{ port: 443, nodePort: 31443 }]
status: { loadBalancer: { ingress: [{ ip: 198.51.100.7 }] } }
`;
    const p = buildLbMaps(parseClusterYaml(yaml), node);
    expect(slot0(p, '203.0.113.5', 443, IPPROTO_TCP)?.flags).toBe(SVC_FLAG_EXTERNAL_IP | SVC_FLAG_ROUTABLE);
    expect(slot0(p, '198.51.100.7', 443, IPPROTO_TCP)?.flags).toBe(SVC_FLAG_LOADBALANCER | SVC_FLAG_ROUTABLE);
    expect(slot0(p, '0.0.0.0', 31443, IPPROTO_TCP)?.flags).toBe(SVC_FLAG_NODEPORT | SVC_FLAG_ROUTABLE);
    expect(p.frontends.map((f) => `${f.kind} ${f.address}:${f.port}`)).toEqual(['ClusterIP 10.96.8.8:443', 'NodePort 192.168.1.10:31443', 'NodePort 0.0.0.0:31443', 'ExternalIP 203.0.113.5:443', 'LoadBalancer 198.51.100.7:443']);
    // no endpoints at all: every frontend is there with count 0, for the datapath to drop
    expect(p.frontends.every((f) => f.backendIds.length === 0)).toBe(true);
    expect(slot0(p, '10.96.8.8', 443, IPPROTO_TCP)?.count).toBe(0);
  });
});

describe('endpoint readiness', () => {
  it('keeps a terminating backend in the backend map but out of the slots while others are ready', () => {
    const terminating = plan.entries.lb4_backends.find((b) => b.value.address === '10.0.2.12');
    expect(terminating?.value).toMatchObject({ port: 8080, flags: BE_STATE_TERMINATING });
    const slots = serviceEntries(plan, '10.96.100.20', 80, IPPROTO_TCP).map((e) => e.value.backend_id);
    expect(slots).not.toContain(terminating!.key);
  });

  it('falls back to serving terminating endpoints when none is ready, and never uses not-serving ones', () => {
    const p = withNodePortService(
      '',
      `  - addresses: [10.0.1.50]
    conditions: { ready: false, serving: true, terminating: true }
  - addresses: [10.0.1.51]
    conditions: { ready: false, serving: false, terminating: true }
  - addresses: [10.0.1.52]
    conditions: { ready: false }`,
    );
    expect(slotBackends(p, '10.96.7.7', 80, IPPROTO_TCP)).toEqual(['10.0.1.50:8080']);
    expect(p.entries.lb4_backends.map((b) => [b.value.address, b.value.flags])).toEqual([['10.0.1.50', BE_STATE_TERMINATING]]);
  });
});

describe('traffic policies', () => {
  it('externalTrafficPolicy: Local keeps only this node\'s backends on NodePort frontends, all on the ClusterIP', () => {
    expect(slotBackends(plan, '10.96.200.30', 443, IPPROTO_TCP)).toEqual(['10.0.1.30:8443', '10.0.2.31:8443']);
    expect(slot0(plan, '10.96.200.30', 443, IPPROTO_TCP)?.flags).toBe(0);
    for (const address of ['192.168.1.10', '0.0.0.0']) {
      expect(slotBackends(plan, address, 30443, IPPROTO_TCP)).toEqual(['10.0.1.30:8443']);
      expect(slot0(plan, address, 30443, IPPROTO_TCP)).toMatchObject({ count: 1, flags: SVC_FLAG_NODEPORT | SVC_FLAG_ROUTABLE | SVC_FLAG_LOCAL_SCOPE });
    }
  });

  it('externalTrafficPolicy: Local with no local endpoint leaves the node port with no backends', () => {
    const p = withNodePortService('  externalTrafficPolicy: Local', '  - addresses: [10.0.2.50]\n    nodeName: node-2');
    expect(slot0(p, '192.168.1.10', 30007, IPPROTO_TCP)?.count).toBe(0);
    expect(slot0(p, '10.96.7.7', 80, IPPROTO_TCP)?.count).toBe(1);
  });

  it('a local endpoint without nodeName is recognised by node.podDevices', () => {
    const p = withNodePortService('  externalTrafficPolicy: Local', '  - addresses: [10.0.1.5]\n  - addresses: [10.0.2.50]');
    expect(slotBackends(p, '192.168.1.10', 30007, IPPROTO_TCP)).toEqual(['10.0.1.5:8080']);
  });

  it('internalTrafficPolicy: Local keeps only this node\'s backends on the ClusterIP', () => {
    const p = withNodePortService('  internalTrafficPolicy: Local', '  - addresses: [10.0.1.50]\n    nodeName: node-1\n  - addresses: [10.0.2.50]\n    nodeName: node-2');
    expect(slotBackends(p, '10.96.7.7', 80, IPPROTO_TCP)).toEqual(['10.0.1.50:8080']);
    expect(slotBackends(p, '0.0.0.0', 30007, IPPROTO_TCP)).toEqual(['10.0.1.50:8080', '10.0.2.50:8080']);
    expect(p.warnings).toEqual(['cluster.yaml: document 2 (EndpointSlice default/app-1): endpoint 10.0.1.50 is on node node-1 but node.podDevices gives no device for it; ifindex 0']);
  });
});

describe('dual stack', () => {
  it('puts each family\'s ClusterIP in its own map with that family\'s backends', () => {
    expect(slotBackends(plan, '10.96.50.5', 7, IPPROTO_TCP)).toEqual(['10.0.1.20:7007', '10.0.2.21:7007']);
    expect(slotBackends(plan, 'fd00:96::50:5', 7, IPPROTO_TCP)).toEqual(['fd00:10:1::20:7007', 'fd00:10:2::21:7007']);
    const v6 = slot0(plan, 'fd00:96::50:5', 7, IPPROTO_TCP)!;
    expect(plan.entries.lb6_reverse_nat.find((r) => r.key === v6.rev_nat_index)?.value).toEqual({ address: 'fd00:96::50:5', port: 7 });
    expect(plan.entries.lb6_backends.find((b) => b.value.address === 'fd00:10:1::20')?.value.ifindex).toBe(5);
    expect(plan.entries.lb4_services.some((e) => e.key.address.includes(':'))).toBe(false);
  });

  it('gives a dual-stack NodePort service IPv6 node-address and :: frontends', () => {
    const yaml = `apiVersion: v1
kind: Service
metadata: { name: ds }
spec:
  type: NodePort
  clusterIPs: [10.96.9.9, "fd00:96::9"]
  ports: [{ port: 80, nodePort: 30009 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ds-v6, labels: { kubernetes.io/service-name: ds } }
addressType: IPv6
endpoints: [{ addresses: ["fd00:10:2::9"] }]
`;
    const p = buildLbMaps(parseClusterYaml(yaml), node);
    expect(p.entries.lb6_services.filter((e) => e.key.backend_slot === 0).map((e) => `${e.key.address} ${e.key.dport}`)).toEqual([':: 30009', 'fd00::10 30009', 'fd00:96::9 80']);
    expect(slotBackends(p, '::', 30009, IPPROTO_TCP)).toEqual(['fd00:10:2::9:80']);
    expect(slot0(p, '0.0.0.0', 30009, IPPROTO_TCP)?.count).toBe(0);
  });
});

describe('determinism and problems', () => {
  it('gives the same entries and ids whatever the order of the objects', () => {
    const cluster = parseClusterYaml(clusterYaml);
    const reversed = { ...cluster, services: [...cluster.services].reverse(), endpointSlices: [...cluster.endpointSlices].reverse() };
    expect(buildLbMaps(reversed, node)).toEqual(plan);
  });

  it('lists service entries sorted by address, port, protocol and slot, backends and rev NAT by id', () => {
    const keys = plan.entries.lb4_services.map((e) => e.key);
    const bytes = (a: string) => a.split('.').reduce((n, p) => n * 256 + Number(p), 0);
    for (let i = 1; i < keys.length; i++) {
      const [a, b] = [keys[i - 1], keys[i]];
      const order = bytes(a.address) - bytes(b.address) || a.dport - b.dport || a.proto - b.proto || a.backend_slot - b.backend_slot;
      expect(order).toBeLessThan(0);
    }
    const ids = plan.entries.lb4_backends.map((b) => b.key);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(new Set(plan.frontends.map((f) => f.revNatIndex)).size).toBe(plan.frontends.length);
  });

  it('warns about frontends claimed twice, slices of unknown services and ports no slice serves', () => {
    const yaml = `apiVersion: v1
kind: Service
metadata: { name: a }
spec: { clusterIP: 10.96.1.1, externalIPs: [203.0.113.9], ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: b }
spec: { clusterIP: 10.96.1.2, externalIPs: [203.0.113.9], ports: [{ port: 80, name: web, targetPort: http }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: b-1, labels: { kubernetes.io/service-name: b } }
addressType: IPv4
ports: [{ name: metrics, port: 9090 }]
endpoints: [{ addresses: [10.0.2.1] }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: c-1, labels: { kubernetes.io/service-name: c } }
addressType: IPv4
endpoints: [{ addresses: [10.0.2.2] }]
`;
    const p = buildLbMaps(parseClusterYaml(yaml), node);
    expect(p.warnings).toEqual([
      'EndpointSlices of default/c name no Service that was given; they are ignored',
      "cluster.yaml: document 2 (Service default/b): no IPv4 EndpointSlice has a port matching targetPort 'http' (TCP); port 80 has no backends",
      "cluster.yaml: document 2 (Service default/b): ExternalIP frontend 203.0.113.9 port 80/TCP is already a frontend of default/a; kept there",
    ]);
    expect(p.frontends.filter((f) => f.address === '203.0.113.9').map((f) => f.service)).toEqual(['default/a']);
  });

  it('rejects a node description it cannot use, naming the field', () => {
    const cluster = parseClusterYaml(clusterYaml);
    expect(() => buildLbMaps(cluster, { name: 'n', addresses: ['192.168.1.300'] })).toThrow(K8sObjectError);
    expect(() => buildLbMaps(cluster, { name: 'n', addresses: ['192.168.1.300'] })).toThrow(/node\.addresses\[0\]: IPv4 address "192\.168\.1\.300"/);
    expect(() => buildLbMaps(cluster, { name: 'n', addresses: [], podDevices: { '10.0.1.5': 0 } })).toThrow("node.podDevices['10.0.1.5']: must be an ifindex (a positive integer), got 0");
    expect(() => buildLbMaps(cluster, { name: '', addresses: [] })).toThrow('node.name: must be a non-empty string');
  });
});
