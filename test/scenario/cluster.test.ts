import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clusterMapEntries } from '../../src/k8s/scenario.js';
import { prepareScenario } from '../../src/run/scenario-run.js';
import { parseScenario } from '../../src/scenario/parse.js';

const fixtures = join(import.meta.dirname, '../../fixtures');
const read = (p: string) => new Uint8Array(readFileSync(join(fixtures, 'scenarios', p)));

describe('a scenario that names a cluster', () => {
  it('fills the load-balancer maps from the Services and EndpointSlices, then its own entries', async () => {
    const node = JSON.parse(readFileSync(join(fixtures, 'k8s/node-1.json'), 'utf8'));
    const scenario = parseScenario(
      JSON.stringify({
        object: '../obj/k8s/lb_maps.o',
        programs: [{ program: 'touch_lb_maps', attach: 'tc/ingress' }],
        cluster: { objects: '../k8s/cluster.yaml', node },
        maps: { lb4_reverse_nat: [{ key: 999, value: { address: '10.99.0.1', port: 1 } }] },
      }),
      'cluster-scenario.json',
    );
    const runner = await prepareScenario(scenario, read);
    const expected = clusterMapEntries(readFileSync(join(fixtures, 'k8s/cluster.yaml'), 'utf8'), node).maps;
    expect(expected.lb4_services.length).toBeGreaterThan(5);
    expect(runner.bed.typedMap('lb4_services').entries()).toHaveLength(expected.lb4_services.length);
    expect(runner.bed.typedMap('lb6_backends').entries()).toHaveLength(expected.lb6_backends.length);
    expect(runner.bed.typedMap('lb4_reverse_nat').entries()).toHaveLength(expected.lb4_reverse_nat.length + 1);
  });

  it('names the cluster file and document when the YAML is wrong', async () => {
    const scenario = parseScenario('object: ../obj/k8s/lb_maps.o\nprograms: [{ program: touch_lb_maps, attach: tc/ingress }]\ncluster: { objects: bad.yaml, node: { name: n, addresses: [10.0.0.1] } }\n');
    const bad = 'apiVersion: v1\nkind: Service\nmetadata: { name: web, namespace: default }\nspec: { clusterIP: 10.96.0.1, ports: [{ port: 70000 }] }\n';
    await expect(prepareScenario(scenario, (p) => (p === 'bad.yaml' ? new TextEncoder().encode(bad) : read(p)))).rejects.toThrow(/bad\.yaml: document 1 \(Service default\/web\): spec\.ports\[0\]\.port/);
  });
});
