// Maglev backend selection on the tc NodePort path (bpf/kpr/nodeport.c + maglev.h) with the
// tables the control plane computes (src/k8s/maglev.ts) and links into lb4_maglev as inner maps
// (src/k8s/maglev-maps.ts): kpr-maglev.yaml's node, packet by packet.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadObject } from '../../src/loader/object.js';
import { prepareScenario } from '../../src/run/scenario-run.js';
import { Pipeline } from '../../src/run/pipeline.js';
import { checkIpv4Checksums, ipv4Frame, TCP_SYN } from '../../src/kpr/frames.js';
import { clusterMapEntries } from '../../src/k8s/scenario.js';
import { applyMaglevToTestbed } from '../../src/k8s/maglev-maps.js';
import { maglevHash4, maglevHash6 } from '../../src/k8s/maglev.js';
import { parseIPv6 } from '../../src/env/addr.js';
import { SVC_FLAG2_MAGLEV, type MaglevTableEntry } from '../../src/k8s/lb-maps.js';
import { loadScenario, MAC } from './nodeport-node.js';
import { toNodePort6, view6 } from './nodeport-v6-node.js';

const NP_NO_BACKEND = 4;
const M = 251;

const syn = (client: string, sport: number) => ipv4Frame({ srcMac: MAC.client, dstMac: MAC.node, src: client, dst: '10.0.0.2', proto: 'tcp', sport, dport: 30080, flags: TCP_SYN });
const dst = (frame: Uint8Array) => [...frame.subarray(30, 34)].join('.');
const bytesOf = (ip: string) => ip.split('.').map(Number);

/** kpr-maglev.yaml's node with the control plane's entries, Maglev tables included. */
async function maglevNode(edit?: (yaml: string) => string) {
  const { scenario, read, base } = loadScenario('kpr-maglev.yaml');
  const runner = await prepareScenario(scenario, read);
  const yaml = readFileSync(`${base}/${scenario.cluster!.objects}`, 'utf8');
  const cluster = clusterMapEntries(edit ? edit(yaml) : yaml, scenario.cluster!.node);
  applyMaglevToTestbed(runner.bed, cluster.maglev);
  const pipeline = new Pipeline(runner, runner.bed.env, scenario.programs);
  const backendAddress = new Map(cluster.plan.backends.map((b) => [b.id, b.address]));
  const wildcard = cluster.plan.frontends.find((f) => f.address === '0.0.0.0')!;
  const table = cluster.maglev.find((t) => t.revNatIndex === wildcard.revNatIndex)!;
  return {
    runner,
    cluster,
    table,
    send: (frame: Uint8Array) => pipeline.process(frame, 'eth0', 'ingress'),
    /** Where the table says a client's SYN must go. */
    expected: (t: MaglevTableEntry, client: string, sport: number) => backendAddress.get(t.table[maglevHash4(bytesOf(client), sport, 30080, 6) % M])!,
    stat: (i: number) => runner.bed.typedMap('np_stats').get(i) as bigint,
  };
}

describe('Maglev on the tc NodePort path', () => {
  it('flags the NodePort frontends, not the ClusterIP, and gives them one table over all three pods', async () => {
    const { cluster } = await maglevNode();
    for (const f of cluster.plan.frontends) {
      const slot0 = cluster.plan.entries.lb4_services.find((e) => e.key.address === f.address && e.key.backend_slot === 0)!;
      expect(Boolean(slot0.value.flags2 & SVC_FLAG2_MAGLEV)).toBe(f.kind !== 'ClusterIP');
    }
    const tables = cluster.maglev.map((t) => t.table);
    expect(tables).toHaveLength(2); // 10.0.0.2:30080 and 0.0.0.0:30080
    expect(tables[0]).toEqual(tables[1]); // the same backends, the same names: the same table
    expect(new Set(tables[0])).toEqual(new Set(cluster.plan.backends.map((b) => b.id)));
  });

  it("sends each new connection to table[jhash(client, ports, protocol) % M]", async () => {
    const node = await maglevNode();
    const seen = new Set<string>();
    for (const [client, sport] of [['10.0.0.1', 40000], ['10.0.0.1', 40001], ['10.0.0.1', 40002], ['10.0.0.7', 40000], ['10.0.0.7', 40001], ['10.0.0.9', 51515]] as const) {
      const fate = node.send(syn(client, sport));
      expect(fate.output).toBe('lxc0');
      expect(dst(fate.data!)).toBe(node.expected(node.table, client, sport));
      expect(checkIpv4Checksums(fate.data!)).toEqual({ ip: true, l4: true });
      seen.add(dst(fate.data!));
    }
    expect(seen.size).toBeGreaterThan(1);
  });

  it('keeps connections on the backends that stay when one pod goes (only the removed pod\'s share moves)', async () => {
    const before = await maglevNode();
    const after = await maglevNode((yaml) => yaml.replace(/.*10\.244\.0\.7.*\n/, ''));
    let stayed = 0;
    let moved = 0;
    for (let sport = 40000; sport < 40100; sport++) {
      const was = before.expected(before.table, '10.0.0.1', sport);
      const now = dst(after.send(syn('10.0.0.1', sport)).data!);
      expect(now).toBe(after.expected(after.table, '10.0.0.1', sport));
      expect(now).not.toBe('10.244.0.7');
      if (was === '10.244.0.7') continue;
      if (now === was) stayed++;
      else moved++;
    }
    // Maglev's disruption is near-minimal, not zero (with M = 251 < 100 N a few slots move)
    expect(stayed).toBeGreaterThan(40);
    expect(moved).toBeLessThan(stayed / 5);
  });

  it('drops a Maglev service whose table is missing (NP_NO_BACKEND), as Cilium drops on backend id 0', async () => {
    const { scenario, read } = loadScenario('kpr-maglev.yaml');
    const runner = await prepareScenario(scenario, read);
    runner.bed.map('lb4_maglev').entries().forEach((e) => runner.bed.map('lb4_maglev').delete(e.key));
    const pipeline = new Pipeline(runner, runner.bed.env, scenario.programs);
    const fate = pipeline.process(syn('10.0.0.1', 40000), 'eth0', 'ingress');
    expect(fate.output).toBe('drop');
    expect(fate.hops.at(-1)?.verdict).toBe('TC_ACT_SHOT');
    expect(runner.bed.typedMap('np_stats').get(NP_NO_BACKEND)).toBe(1n);
  });
});

describe('Maglev over IPv6 (kpr-maglev6.yaml)', () => {
  it('sends each new connection to table[jhash6(client, ports, protocol) % M] of lb6_maglev', async () => {
    const { scenario, read, base } = loadScenario('kpr-maglev6.yaml');
    const runner = await prepareScenario(scenario, read);
    const cluster = clusterMapEntries(readFileSync(`${base}/${scenario.cluster!.objects}`, 'utf8'), scenario.cluster!.node);
    applyMaglevToTestbed(runner.bed, cluster.maglev);
    const pipeline = new Pipeline(runner, runner.bed.env, scenario.programs);
    const wildcard = cluster.plan.frontends.find((f) => f.address === '::')!;
    const table = cluster.maglev.find((t) => t.revNatIndex === wildcard.revNatIndex)!.table;
    const address = new Map(cluster.plan.backends.map((b) => [b.id, b.address]));
    const seen = new Set<string>();
    for (let sport = 41000; sport < 41060; sport++) {
      const fate = pipeline.process(toNodePort6({ sport }), 'eth0', 'ingress');
      expect(fate.output).toBe('lxc0');
      const want = address.get(table[maglevHash6(parseIPv6('fd00::1'), sport, 30080, 6) % M])!;
      expect(view6(fate.data!).dst).toBe(want);
      seen.add(want);
    }
    expect(seen.size).toBe(3);
  });
});

describe('Maglev with the XDP fast path', () => {
  it('XDP passes a Maglev service to tc, which picks the table backend', async () => {
    const { scenario, read } = loadScenario('kpr-maglev.yaml');
    const spec = loadObject(new Uint8Array(readFileSync('fixtures/obj/kpr/nodeport_xdp.o')), { name: 'nodeport_xdp.o' });
    const runner = await prepareScenario(scenario, read, spec);
    const programs = [
      { program: 'nodeport_xdp', attach: 'xdp' as const, device: 'eth0' },
      { program: 'nodeport_ingress', attach: 'tc/ingress' as const, device: 'eth0' },
    ];
    const pipeline = new Pipeline(runner, runner.bed.env, programs);
    const { expected, table } = await maglevNode();
    const fate = pipeline.process(syn('10.0.0.1', 40123), 'eth0', 'ingress');
    expect(fate.hops.map((h) => h.verdict)).toEqual(['XDP_PASS', 'TC_ACT_REDIRECT']);
    expect(dst(fate.data!)).toBe(expected(table, '10.0.0.1', 40123));
  });
});
