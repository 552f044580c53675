import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { affinityMatchEntries, buildLbMaps, LB_AFFINITY_MATCH_MAP, LB_MAP_NAMES, type NodeInfo } from '../../src/k8s/lb-maps.js';
import { parseClusterYaml } from '../../src/k8s/objects.js';
import { clusterMapEntries } from '../../src/k8s/scenario.js';

const fixtures = join(import.meta.dirname, '../../fixtures/k8s');
const clusterYaml = readFileSync(join(fixtures, 'cluster.yaml'), 'utf8');
const node: NodeInfo = JSON.parse(readFileSync(join(fixtures, 'node-1.json'), 'utf8'));

describe('the scenario hook', () => {
  it('gives the entries of every lb map in the scenario maps: format', () => {
    const { maps, warnings } = clusterMapEntries(clusterYaml, node, 'cluster.yaml');
    expect(Object.keys(maps)).toEqual([...LB_MAP_NAMES, LB_AFFINITY_MATCH_MAP]);
    const plan = buildLbMaps(parseClusterYaml(clusterYaml), node);
    for (const name of LB_MAP_NAMES) expect(maps[name]).toEqual(plan.entries[name]);
    // The bundled cluster has a sessionAffinity: ClientIP service: its backends are matched.
    expect(maps[LB_AFFINITY_MATCH_MAP].length).toBeGreaterThan(0);
    expect(maps[LB_AFFINITY_MATCH_MAP]).toEqual(affinityMatchEntries(plan.entries));
    expect(maps.lb4_reverse_nat[0]).toEqual({ key: plan.frontends[0].revNatIndex, value: { address: plan.frontends[0].address, port: plan.frontends[0].port } });
    expect(warnings).toEqual([]);
  });

  it('names the file in errors from the YAML and the scenario field in errors from the node', () => {
    expect(() => clusterMapEntries('kind: Service\napiVersion: v1\nmetadata: { name: x }\nspec: { clusterIP: 10.0.0.1 }\n', node, 'svc.yaml')).toThrow(
      'svc.yaml: document 1 (Service default/x): spec.ports: must list at least one port',
    );
    expect(() => clusterMapEntries(clusterYaml, { name: 'n', addresses: ['nope'] }, 'cluster.yaml')).toThrow(/^cluster\.node\.addresses\[0\]: /);
  });
});
