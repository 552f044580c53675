import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describePlan } from '../../src/k8s/describe.js';
import { buildLbMaps, type NodeInfo } from '../../src/k8s/lb-maps.js';
import { parseClusterYaml } from '../../src/k8s/objects.js';

const fixtures = join(import.meta.dirname, '../../fixtures/k8s');
const node: NodeInfo = JSON.parse(readFileSync(join(fixtures, 'node-1.json'), 'utf8'));

it('describes each frontend with its rev NAT index, policy notes and backends', () => {
  const plan = buildLbMaps(parseClusterYaml(readFileSync(join(fixtures, 'cluster.yaml'), 'utf8')), node);
  const lines = describePlan(plan);
  expect(lines).toHaveLength(plan.frontends.length);
  const id = (address: string, port: number) => plan.backends.find((b) => b.address === address && b.port === port)!.id;
  const ingress = plan.frontends.find((f) => f.address === '192.168.1.10' && f.port === 30443)!;
  expect(lines).toContain(`ingress-nginx/ingress https NodePort 192.168.1.10:30443/TCP [rev NAT ${ingress.revNatIndex}, local only] -> #${id('10.0.1.30', 8443)} 10.0.1.30:8443 (ifindex 6)`);
  const echo6 = plan.frontends.find((f) => f.address === 'fd00:96::50:5')!;
  expect(lines).toContain(
    `default/echo echo ClusterIP [fd00:96::50:5]:7/TCP [rev NAT ${echo6.revNatIndex}] -> #${id('fd00:10:1::20', 7007)} [fd00:10:1::20]:7007 (ifindex 5), #${id('fd00:10:2::21', 7007)} [fd00:10:2::21]:7007`,
  );
  expect(lines.find((l) => l.startsWith('default/cache'))).toMatch(/\[rev NAT \d+, ClientIP affinity\]/);
});
