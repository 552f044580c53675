import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterFromObjects, K8sObjectError, parseClusterYaml } from '../../src/k8s/objects.js';

const fixture = readFileSync(join(import.meta.dirname, '../../fixtures/k8s/cluster.yaml'), 'utf8');

/** A one-Service YAML document with `spec` lines replaced. */
function service(specLines: string, name = 'nginx'): string {
  return `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n${specLines}\n`;
}

const ports = '  ports:\n    - port: 80\n';

describe('reading Services and EndpointSlices from YAML', () => {
  it('reads every Service and EndpointSlice of the fixture with their fields', () => {
    const cluster = parseClusterYaml(fixture);
    expect(cluster.services.map((s) => `${s.namespace}/${s.name}`)).toEqual(['kube-system/kube-dns', 'default/web', 'default/echo', 'ingress-nginx/ingress', 'default/cache']);
    expect(cluster.endpointSlices).toHaveLength(6);
    const web = cluster.services.find((s) => s.name === 'web')!;
    expect(web).toMatchObject({ type: 'NodePort', clusterIPs: ['10.96.100.20'], ipFamilies: ['IPv4'], externalTrafficPolicy: 'Cluster', sessionAffinity: 'None' });
    expect(web.ports).toEqual([{ name: 'http', protocol: 'TCP', port: 80, targetPort: 'web-http', nodePort: 30080 }]);
    const dns = cluster.services.find((s) => s.name === 'kube-dns')!;
    expect(dns.ports.map((p) => `${p.port}/${p.protocol}`)).toEqual(['53/UDP', '53/TCP']);
    const echo = cluster.services.find((s) => s.name === 'echo')!;
    expect(echo.clusterIPs).toEqual(['10.96.50.5', 'fd00:96::50:5']);
    expect(echo.ipFamilies).toEqual(['IPv4', 'IPv6']);
    const cache = cluster.services.find((s) => s.name === 'cache')!;
    expect(cache).toMatchObject({ sessionAffinity: 'ClientIP', affinityTimeoutSeconds: 600 });
    const slice = cluster.endpointSlices.find((s) => s.name === 'web-abcde')!;
    expect(slice).toMatchObject({ serviceName: 'web', addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] });
    expect(slice.endpoints[2]).toEqual({ addresses: ['10.0.2.12'], ready: false, serving: true, terminating: true, nodeName: 'node-2' });
  });

  it('reads absent conditions as the API does: ready, serving as ready, not terminating', () => {
    const yaml = `apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: s1, labels: { kubernetes.io/service-name: nginx } }
addressType: IPv6
endpoints:
  - addresses: ["fd00:0:0::0001"]
  - addresses: ["fd00::2"]
    conditions: { ready: false }
`;
    const [slice] = parseClusterYaml(yaml).endpointSlices;
    expect(slice.namespace).toBe('default');
    expect(slice.endpoints).toEqual([
      { addresses: ['fd00::1'], ready: true, serving: true, terminating: false },
      { addresses: ['fd00::2'], ready: false, serving: false, terminating: false },
    ]);
  });

  it('defaults targetPort to port, protocol to TCP, affinity timeout to 10800 seconds', () => {
    const [svc] = parseClusterYaml(service(`  clusterIP: 10.96.0.1\n  sessionAffinity: ClientIP\n${ports}`)).services;
    expect(svc.ports).toEqual([{ name: '', protocol: 'TCP', port: 80, targetPort: 80 }]);
    expect(svc.affinityTimeoutSeconds).toBe(10800);
    expect(svc.type).toBe('ClusterIP');
  });

  it('reads LoadBalancer ingress IPs and externalIPs', () => {
    const yaml = `${service(`  type: LoadBalancer\n  clusterIP: 10.96.0.1\n  externalIPs: [203.0.113.5]\n  ports:\n    - port: 443\n      nodePort: 31443\n`)}status:\n  loadBalancer:\n    ingress:\n      - ip: 198.51.100.7\n      - hostname: lb.example.com\n`;
    const [svc] = parseClusterYaml(yaml).services;
    expect(svc.externalIPs).toEqual(['203.0.113.5']);
    expect(svc.loadBalancerIPs).toEqual(['198.51.100.7']);
  });

  it('reads kind: List and legacy Endpoints, and lists other kinds as ignored', () => {
    const yaml = `apiVersion: v1
kind: List
items:
  - ${service(`  clusterIP: 10.96.0.1\n${ports}`).replace(/\n/g, '\n    ')}
  - apiVersion: v1
    kind: Endpoints
    metadata: { name: nginx }
    subsets:
      - addresses: [{ ip: 10.0.1.5, nodeName: node-1 }, { ip: "fd00::5" }]
        notReadyAddresses: [{ ip: 10.0.1.6 }]
        ports: [{ port: 8080 }]
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: nginx }
`;
    const cluster = parseClusterYaml(yaml, 'all.yaml');
    expect(cluster.services.map((s) => s.name)).toEqual(['nginx']);
    expect(cluster.endpointSlices.map((s) => [s.serviceName, s.addressType, s.endpoints.map((e) => `${e.addresses[0]}:${e.ready}`)])).toEqual([
      ['nginx', 'IPv4', ['10.0.1.5:true', '10.0.1.6:false']],
      ['nginx', 'IPv6', ['fd00::5:true']],
    ]);
    expect(cluster.endpointSlices[0].endpoints[0].nodeName).toBe('node-1');
    expect(cluster.ignored).toEqual(['all.yaml: document 2 (Deployment default/nginx)']);
  });

  it('accepts objects already parsed from JSON', () => {
    const cluster = clusterFromObjects([{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: { clusterIP: '10.96.0.1', ports: [{ port: 80 }] } }]);
    expect(cluster.services[0].clusterIPs).toEqual(['10.96.0.1']);
  });
});

describe('errors name the file, document, object, field and problem', () => {
  const fails = (yaml: string) => () => parseClusterYaml(yaml, 'cluster.yaml');

  it('rejects a port out of range', () => {
    const yaml = `---\n# first\n${service('  clusterIP: 10.96.0.1\n  ports: [{ port: 80 }]', 'a')}---\n${service('  clusterIP: 10.96.0.2\n  ports: [{ port: 80 }]', 'b')}---\n${service('  clusterIP: 10.96.0.3\n  ports:\n    - port: 70000\n')}`;
    expect(fails(yaml)).toThrow(K8sObjectError);
    expect(fails(yaml)).toThrow('cluster.yaml: document 3 (Service default/nginx): spec.ports[0].port: must be 1..65535, got 70000');
  });

  it('refuses SCTP clearly', () => {
    expect(fails(service('  clusterIP: 10.96.0.1\n  ports:\n    - port: 9\n      protocol: SCTP\n'))).toThrow(
      'cluster.yaml: document 1 (Service default/nginx): spec.ports[0].protocol: SCTP is not supported: the load-balancer datapath handles TCP and UDP only',
    );
  });

  it('asks for the addresses and ports the API server would have assigned', () => {
    expect(fails(service(ports))).toThrow(/spec\.clusterIP: required: the API server assigns it/);
    expect(fails(service(`  type: NodePort\n  clusterIP: 10.96.0.1\n${ports}`))).toThrow(/spec\.ports\[0\]\.nodePort: required for a NodePort Service/);
  });

  it('rejects inconsistent dual-stack fields', () => {
    expect(fails(service(`  clusterIPs: [10.96.0.1, 10.96.0.2]\n${ports}`))).toThrow(/spec\.clusterIPs: the two addresses must be of different families/);
    expect(fails(service(`  clusterIPs: [10.96.0.1]\n  ipFamilies: [IPv6]\n${ports}`))).toThrow(/spec\.ipFamilies\[0\]: must be the family of clusterIPs\[0\] 10\.96\.0\.1 \(IPv4\), got "IPv6"/);
    expect(fails(service(`  clusterIP: 10.96.0.9\n  clusterIPs: [10.96.0.1]\n${ports}`))).toThrow(/spec\.clusterIP: must equal spec\.clusterIPs\[0\]/);
  });

  it('rejects bad addresses, names and duplicate ports', () => {
    expect(fails(service(`  clusterIP: 10.96.0.300\n${ports}`))).toThrow(/spec\.clusterIP: IPv4 address "10\.96\.0\.300": part 4 "300" is not 0\.\.255/);
    expect(fails(service('  clusterIP: 10.96.0.1\n  ports: [{ port: 80, name: a }, { port: 81 }]'))).toThrow(/spec\.ports\[1\]\.name: required when a Service has more than one port/);
    expect(fails(service('  clusterIP: 10.96.0.1\n  ports: [{ port: 80, name: a }, { port: 80, name: b }]'))).toThrow(/spec\.ports\[1\]: 80\/TCP is already spec\.ports\[0\]/);
    expect(fails(service('  clusterIP: 10.96.0.1\n  ports: [{ port: 80, targetPort: "Bad_Name" }]'))).toThrow(/spec\.ports\[0\]\.targetPort: must be a port number or a port name/);
    expect(fails(service('  clusterIP: 10.96.0.1\n  sessionAffinity: ClientIP\n  sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } }\n  ports: [{ port: 80 }]'))).toThrow(
      /spec\.sessionAffinityConfig\.clientIP\.timeoutSeconds: must be 1\.\.86400, got 0/,
    );
    expect(fails(service('  clusterIP: 10.96.0.1\n  externalTrafficPolicy: Nearby\n  ports: [{ port: 80 }]'))).toThrow(/spec\.externalTrafficPolicy: must be one of Cluster, Local, got "Nearby"/);
  });

  it('rejects a slice with no Service label or an address of the wrong family', () => {
    const slice = (labels: string, address: string) => `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: { name: s1, namespace: web${labels} }\naddressType: IPv4\nendpoints:\n  - addresses: ["${address}"]\n`;
    expect(fails(slice('', '10.0.0.1'))).toThrow("cluster.yaml: document 1 (EndpointSlice web/s1): metadata.labels['kubernetes.io/service-name']: required");
    expect(fails(slice(', labels: { kubernetes.io/service-name: x }', 'fd00::1'))).toThrow('cluster.yaml: document 1 (EndpointSlice web/s1): endpoints[0].addresses[0]: fd00::1 is not an IPv4 address');
  });

  it('reports YAML syntax errors, unknown versions and duplicate objects', () => {
    expect(fails('kind: Service\n  bad: [indent\n')).toThrow(/cluster\.yaml: document 1: not valid YAML/);
    expect(fails(`apiVersion: v2\nkind: Service\nmetadata: { name: x }\n`)).toThrow(/document 1 \(Service default\/x\): apiVersion: Service must be v1, got "v2"/);
    const twice = service(`  clusterIP: 10.96.0.1\n${ports}`);
    expect(fails(`${twice}---\n${twice}`)).toThrow(/document 2 \(Service default\/nginx\): Service default\/nginx is defined twice \(first in cluster\.yaml: document 1/);
    expect(fails('- just\n- a list\n')).toThrow(/cluster\.yaml: document 1: \(document\): must be a mapping/);
  });
});
