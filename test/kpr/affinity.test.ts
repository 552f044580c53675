// sessionAffinity: ClientIP on the tc NodePort path (bpf/kpr/nodeport.c affinity_backend /
// affinity_update, as Cilium's lb4_affinity_backend_id): kpr-affinity.yaml (expected outputs
// from the kernel) and packet-by-packet behaviours: the timeout from the service, counted from
// the client's last packet; an entry naming a backend the service no longer has is not
// followed; IPv6; the control plane writing lb_affinity_match.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareScenario, runScenario } from '../../src/run/scenario-run.js';
import { Pipeline } from '../../src/run/pipeline.js';
import { ipv4Frame, TCP_SYN } from '../../src/kpr/frames.js';
import { backendSlot, backendSlot6 } from '../../src/kpr/snat-port.js';
import { affinityMatchEntries, applyToTestbed, buildLbMaps, SVC_FLAG_AFFINITY, type NodeInfo } from '../../src/k8s/lb-maps.js';
import { parseClusterYaml } from '../../src/k8s/objects.js';
import { loadScenario, MAC } from './nodeport-node.js';
import { ports6, toNodePort6, V6, v6Node, view6 } from './nodeport-v6-node.js';

const NP_AFFINITY = 10;
const POD = { 1: '10.244.0.5', 2: '10.244.0.6' } as const;

const syn = (src: string, sport: number) =>
  ipv4Frame({ srcMac: src === '10.0.0.1' ? MAC.client : MAC.client2, dstMac: MAC.node, src, dst: '10.0.0.2', proto: 'tcp', sport, dport: 30080, flags: TCP_SYN });
const dst = (frame: Uint8Array) => [...frame.subarray(30, 34)].join('.');
const frontend = (saddr: string, sport: number) => ({ saddr, daddr: '10.0.0.2', sport, dport: 30080, proto: 6 });

/** The kpr-affinity node, packet by packet, with the affinity timeout set to `timeout` seconds. */
async function affinityNode(timeout = 10800) {
  const { scenario, read } = loadScenario('kpr-affinity.yaml');
  const slot0 = scenario.maps!.lb4_services!.find((e) => (e.key as { backend_slot: number }).backend_slot === 0)!;
  (slot0.value as { backend_id: number }).backend_id = timeout;
  const runner = await prepareScenario(scenario, read);
  const env = runner.bed.env;
  const pipeline = new Pipeline(runner, env, scenario.programs);
  return {
    runner,
    send: (frame: Uint8Array) => pipeline.process(frame, 'eth0', 'ingress'),
    advance: (seconds: number) => env.advance(BigInt(seconds) * 1_000_000_000n),
    nowNs: () => env.ktimeGetNs(),
    stat: (index: number) => runner.bed.typedMap('np_stats').get(index) as bigint,
  };
}

describe('sessionAffinity ClientIP (kpr-affinity.yaml)', () => {
  it("sends every connection of a client to its first connection's backend, where the hash alone would spread them", async () => {
    const { scenario, read } = loadScenario('kpr-affinity.yaml');
    const { report, outputs } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]); // verdicts, bytes, np_stats and lb4_affinity as the kernel produced them
    const to = outputs.packets('lxc0').map((p) => dst(p.data));
    // the first connection of each client goes where the hash says ...
    expect(to[0]).toBe(POD[backendSlot(frontend('10.0.0.1', 40000), 2) as 1 | 2]);
    expect(to[3]).toBe(POD[backendSlot(frontend('10.0.0.7', 40000), 2) as 1 | 2]);
    // ... and the later ones follow it, though the hash would have sent them elsewhere
    expect([backendSlot(frontend('10.0.0.1', 40001), 2), backendSlot(frontend('10.0.0.7', 40001), 2)]).not.toEqual([backendSlot(frontend('10.0.0.1', 40000), 2), backendSlot(frontend('10.0.0.7', 40000), 2)]);
    expect(to).toEqual([to[0], to[0], to[0], to[3], to[3]]);
    expect(to[0]).not.toBe(to[3]);
  });
});

describe('the affinity timeout', () => {
  it('expires timeout seconds after the last packet: then the hash chooses again and the entry is rewritten', async () => {
    const node = await affinityNode(5);
    expect(dst(node.send(syn('10.0.0.1', 40000)).data!)).toBe(POD[2]);
    node.advance(5); // [last_used, last_used + timeout) is sticky; at the deadline it is over
    expect(dst(node.send(syn('10.0.0.1', 40001)).data!)).toBe(POD[backendSlot(frontend('10.0.0.1', 40001), 2) as 1 | 2]);
    expect(node.stat(NP_AFFINITY)).toBe(0n);
    const entry = node.runner.bed.typedMap('lb4_affinity').get({ address: '10.0.0.1', rev_nat_id: 1 }) as { backend_id: number; last_used: bigint };
    expect(entry.backend_id).toBe(backendSlot(frontend('10.0.0.1', 40001), 2));
    expect(BigInt(entry.last_used)).toBe(node.nowNs());
  });

  it('runs from the last packet: a client that keeps coming back stays on its backend', async () => {
    const node = await affinityNode(5);
    node.send(syn('10.0.0.1', 40000));
    node.advance(4);
    expect(dst(node.send(syn('10.0.0.1', 40001)).data!)).toBe(POD[2]); // refreshes last_used
    node.advance(4); // 8 s after the first, 4 after the last
    expect(dst(node.send(syn('10.0.0.1', 40002)).data!)).toBe(POD[2]);
    expect(node.stat(NP_AFFINITY)).toBe(2n);
  });
});

describe('an affinity entry naming a backend the service no longer has', () => {
  it('is deleted and not followed (lb_affinity_match has no pair for it)', async () => {
    const node = await affinityNode();
    node.send(syn('10.0.0.1', 40000)); // backend #2
    expect(node.runner.bed.typedMap('lb_affinity_match').delete({ backend_id: 2, rev_nat_id: 1 })).toBe(0);
    const next = node.send(syn('10.0.0.1', 40001));
    expect(dst(next.data!)).toBe(POD[1]); // the hash's choice for this tuple
    expect(node.stat(NP_AFFINITY)).toBe(0n);
    expect(node.runner.bed.typedMap('lb4_affinity').get({ address: '10.0.0.1', rev_nat_id: 1 })).toMatchObject({ backend_id: 1 });
  });
});

describe('sessionAffinity over IPv6 (lb6_affinity)', () => {
  it('keeps a client on one backend across source ports', async () => {
    const node = await v6Node('kpr-v6-local.yaml', (s) => {
      const m = s.maps!;
      m.lb6_services = [
        { key: { address: '::', dport: 30080, backend_slot: 0, proto: 6 }, value: { backend_id: 600, count: 2, rev_nat_index: 1, flags: 66 | SVC_FLAG_AFFINITY } },
        { key: { address: '::', dport: 30080, backend_slot: 1, proto: 6 }, value: { backend_id: 1, rev_nat_index: 1 } },
        { key: { address: '::', dport: 30080, backend_slot: 2, proto: 6 }, value: { backend_id: 2, rev_nat_index: 1 } },
      ];
      m.lb6_backends = [...m.lb6_backends!, { key: 2, value: { address: 'fd00:244::6', port: 8080, proto: 6, ifindex: 3 } }];
      m.lb_affinity_match = [1, 2].map((id) => ({ key: { backend_id: id, rev_nat_id: 1 }, value: 1 }));
      s.environment!.neighbours!.push({ ip: 'fd00:244::6', mac: '02:00:00:00:0d:06', dev: 'lxc0' });
    });
    const ports = [40000, 40001, 40002, 40003, 40004, 40005];
    const slots = ports.map((sport) => backendSlot6({ saddr: V6.client, daddr: V6.node, sport, dport: 30080, proto: 6 }, 2));
    expect(new Set(slots).size).toBe(2); // the hash alone would use both backends
    const to = ports.map((sport) => view6(node.send(toNodePort6({ sport })).data!).dst);
    expect(new Set(to)).toEqual(new Set([to[0]]));
    expect(to[0]).toBe(slots[0] === 1 ? V6.localPod : 'fd00:244::6');
    expect(ports6(node.send(toNodePort6({ sport: 40009 })).data!).dport).toBe(8080);
    expect(node.runner.bed.typedMap('lb6_affinity').get({ address: V6.client, rev_nat_id: 1 })).toMatchObject({ backend_id: slots[0] });
  });
});

describe('the control plane fills lb_affinity_match', () => {
  const root = join(import.meta.dirname, '../..');
  const cluster = parseClusterYaml(readFileSync(join(root, 'fixtures/k8s/cluster.yaml'), 'utf8'));
  const node: NodeInfo = JSON.parse(readFileSync(join(root, 'fixtures/k8s/node-1.json'), 'utf8'));

  it('one (backend, service) pair per backend of each ClientIP frontend, none for the others', () => {
    const plan = buildLbMaps(cluster, node);
    const matches = affinityMatchEntries(plan.entries);
    const sticky = plan.frontends.filter((f) => f.flags & SVC_FLAG_AFFINITY);
    expect(sticky.length).toBeGreaterThan(0);
    const want = sticky.flatMap((f) => f.backendIds.map((id) => `${id}/${f.revNatIndex}`));
    expect(matches.map((m) => `${m.key.backend_id}/${m.key.rev_nat_id}`).sort()).toEqual([...new Set(want)].sort());
    expect(matches.every((m) => m.value === 1)).toBe(true);
    const plain = plan.frontends.filter((f) => !(f.flags & SVC_FLAG_AFFINITY) && f.backendIds.length > 0)[0];
    expect(matches.some((m) => m.key.rev_nat_id === plain.revNatIndex)).toBe(false);
  });

  it('applyToTestbed writes them into an object that has the map (nodeport.o)', async () => {
    const { scenario, read } = loadScenario('kpr-affinity.yaml');
    scenario.maps = { nodeport_config: scenario.maps!.nodeport_config };
    const bed = (await prepareScenario(scenario, read)).bed;
    expect(bed.map('lb_affinity_match').entries()).toEqual([]);
    const plan = buildLbMaps(cluster, node);
    const summary = applyToTestbed(bed, plan.entries);
    const matches = affinityMatchEntries(plan.entries);
    expect(summary.written.lb_affinity_match).toBe(matches.length);
    for (const m of matches) expect(bed.typedMap('lb_affinity_match').get({ ...m.key })).toBe(1);
  });
});
