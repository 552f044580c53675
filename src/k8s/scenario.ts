// The scenario hook: a scenario may describe its cluster the way Kubernetes users do, as
// Services and EndpointSlices in YAML, instead of writing the load-balancer map entries by hand.
// Proposed scenario field (wired in by src/scenario/):
//
//   cluster:
//     objects: cluster.yaml          # relative to the scenario file
//     node:
//       name: node-1                 # matched against endpoints' nodeName
//       addresses: [192.168.1.10, fd00::10]
//       podDevices: { 10.0.1.5: 3 }  # local backend address -> ifindex of its device
//       lbAlgorithm: maglev          # Cilium's --bpf-lb-algorithm (random | maglev)
//       maglevTableSize: 251         # M, prime (Cilium's --bpf-lb-maglev-table-size)
//
// The entries computed here go first; entries the scenario's own `maps:` lists are written after
// them, so a scenario can still override one entry.
import type { MapEntrySpec } from '../scenario/types.js';
import { affinityMatchEntries, buildLbMaps, LB_AFFINITY_MATCH_MAP, LB_MAP_NAMES, type LbPlan, type NodeInfo } from './lb-maps.js';
import { K8sObjectError, parseClusterYaml } from './objects.js';

/** The `cluster:` field of a scenario. */
export interface ClusterSpec {
  /** Path of the YAML file with the Services and EndpointSlices. */
  objects: string;
  node: NodeInfo;
}

/** JSON Schema of the `cluster:` field, for src/scenario/schema.ts. */
export const clusterSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['objects', 'node'],
  properties: {
    objects: { type: 'string', minLength: 1, description: 'YAML file with Services and EndpointSlices, relative to the scenario' },
    node: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'addresses'],
      properties: {
        name: { type: 'string', minLength: 1 },
        addresses: { type: 'array', items: { type: 'string' } },
        podDevices: { type: 'object', additionalProperties: { type: 'integer', minimum: 1 } },
        lbAlgorithm: { enum: ['random', 'maglev'], description: "Cilium's --bpf-lb-algorithm: how a new connection's backend is chosen" },
        maglevTableSize: { type: 'integer', minimum: 3, description: 'M, the Maglev lookup table size (a prime; must equal the object\'s LB_MAGLEV_LUT_SIZE)' },
      },
    },
  },
} as const;

export interface ClusterMaps {
  /** In the scenario `maps:` format: map name -> entries (every lb map, possibly empty). */
  maps: Record<string, MapEntrySpec[]>;
  /**
   * With node.lbAlgorithm 'maglev': the frontends' Maglev tables. Not in `maps`: lb4_maglev /
   * lb6_maglev hold inner maps, which applyMaglevToTestbed (maglev-maps.ts) creates and links.
   */
  maglev: LbPlan['maglev'];
  plan: LbPlan;
  warnings: string[];
}

/** The map entries for a cluster YAML text (`fileName` names it in errors). */
export function clusterMapEntries(yamlText: string, node: NodeInfo, fileName = 'cluster.yaml'): ClusterMaps {
  const cluster = parseClusterYaml(yamlText, fileName);
  let plan: LbPlan;
  try {
    plan = buildLbMaps(cluster, node);
  } catch (err) {
    if (err instanceof K8sObjectError) throw new K8sObjectError(`cluster.${err.message}`); // the node comes from the scenario
    throw err;
  }
  const maps: Record<string, MapEntrySpec[]> = {};
  for (const name of LB_MAP_NAMES) {
    maps[name] = plan.entries[name].map((e) => ({ key: e.key as unknown as MapEntrySpec['key'], value: e.value as unknown as MapEntrySpec['value'] }));
  }
  // sessionAffinity: ClientIP needs the (backend, service) pairs the tc datapath checks an
  // affinity entry against (bpf/kpr/nodeport.c, as Cilium's lb_affinity_match).
  maps[LB_AFFINITY_MATCH_MAP] = affinityMatchEntries(plan.entries).map((e) => ({ key: e.key as unknown as MapEntrySpec['key'], value: e.value }));
  return { maps, maglev: plan.maglev, plan, warnings: plan.warnings };
}
