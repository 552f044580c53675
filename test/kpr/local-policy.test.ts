// externalTrafficPolicy: Local on the tc NodePort path (SVC_FLAG_LOCAL_SCOPE, bpf/kpr/nodeport.c):
// kpr-local-policy.yaml, whose maps the control plane fills from Kubernetes YAML, with expected
// outputs from the kernel; the same cluster with the Cluster policy for contrast; and the
// datapath's own guard against a slot naming a backend on another node.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/scenario-run.js';
import { checkIpv4Checksums } from '../../src/kpr/frames.js';
import { loadScenario, MAC, view } from './nodeport-node.js';

// enum np_stat in nodeport.c
const NP_LOCAL = 1, NP_REMOTE = 2, NP_NO_BACKEND = 4, NP_NO_LOCAL_BACKEND = 9;

async function run(edit?: (s: ReturnType<typeof loadScenario>['scenario']) => void, clusterText?: (text: string) => string) {
  const { scenario, read } = loadScenario('kpr-local-policy.yaml');
  edit?.(scenario);
  const reader = (p: string) => {
    const bytes = read(p);
    return clusterText && p === scenario.cluster?.objects ? new TextEncoder().encode(clusterText(new TextDecoder().decode(bytes))) : bytes;
  };
  return runScenario(scenario, reader);
}

describe('externalTrafficPolicy: Local (kpr-local-policy.yaml, maps from the control plane)', () => {
  it("sends the NodePort connection only to this node's pod, DNAT only, out of lxc0", async () => {
    const { report, outputs, runner } = await run();
    expect(report.mismatches).toEqual([]); // as the kernel produced it
    const lxc0 = outputs.packets('lxc0');
    expect(lxc0).toHaveLength(6);
    for (const p of lxc0) {
      expect(view(p.data)).toMatchObject({ dstMac: '02:00:00:00:0d:05', src: '10.0.0.1', dst: '10.244.0.5', dport: 8080, ttl: 63 });
      expect(checkIpv4Checksums(p.data)).toEqual({ ip: true, l4: true });
    }
    expect(runner.bed.typedMap('np_stats').get(NP_LOCAL)).toBe(6n);
    expect(runner.bed.typedMap('np_stats').get(NP_REMOTE)).toBe(0n);
  });

  it('drops a request to a service without a backend on this node (TC_ACT_SHOT, NP_NO_LOCAL_BACKEND), though node-2 has one', async () => {
    const { report, runner } = await run();
    const udp = report.packets.find((p) => p.input.includes('UDP'))!;
    expect([udp.verdict, udp.output]).toEqual(['TC_ACT_SHOT', 'drop']);
    expect(runner.bed.typedMap('np_stats').get(NP_NO_LOCAL_BACKEND)).toBe(1n);
    expect(runner.bed.typedMap('np_stats').get(NP_NO_BACKEND)).toBe(0n);
    expect(runner.bed.map('snat4').entries()).toEqual([]);
  });

  it('with externalTrafficPolicy: Cluster the same request goes to node-2 with SNAT instead', async () => {
    const { scenario } = loadScenario('kpr-local-policy.yaml');
    const { report, outputs, runner } = await run(
      (s) => {
        delete s.expect; // the expectations are the Local policy's
      },
      (text) => text.replaceAll('externalTrafficPolicy: Local', 'externalTrafficPolicy: Cluster'),
    );
    expect(scenario.cluster?.objects).toBeDefined();
    const udp = report.packets.find((p) => p.input.includes('UDP'))!;
    expect([udp.verdict, udp.output]).toEqual(['TC_ACT_REDIRECT', 'eth0']);
    expect(view(outputs.packets('eth0').find((p) => p.packet === udp.packet)!.data)).toMatchObject({ dstMac: MAC.node2, src: '10.0.0.2', dst: '10.244.1.5' });
    expect(runner.bed.typedMap('np_stats').get(NP_NO_LOCAL_BACKEND)).toBe(0n);
  });

  it('never uses a backend on another node under the Local policy, even when a slot names one', async () => {
    const { report, runner } = await run((s) => {
      delete s.expect;
      // a stale or hand-written slot: the UDP frontend with node-2's pod behind it, still Local
      s.maps!.lb4_backends = [{ key: 99, value: { address: '10.244.1.5', port: 8080, proto: 17, ifindex: 0 } }];
      s.maps!.lb4_services = [
        { key: { address: '0.0.0.0', dport: 30053, backend_slot: 0, proto: 17 }, value: { count: 1, rev_nat_index: 50, flags: 70 } },
        { key: { address: '0.0.0.0', dport: 30053, backend_slot: 1, proto: 17 }, value: { backend_id: 99, rev_nat_index: 50, flags: 70 } },
      ];
    });
    const udp = report.packets.find((p) => p.input.includes('UDP'))!;
    expect([udp.verdict, udp.output]).toEqual(['TC_ACT_SHOT', 'drop']);
    expect(runner.bed.typedMap('np_stats').get(NP_NO_LOCAL_BACKEND)).toBe(1n);
    expect(runner.bed.map('ct4').entries().filter((e) => e.key[12] === 17)).toEqual([]); // no connection made
  });
});
