// The NodePort rows of the per-packet benchmark (bench/packets/nodeport*.ts): bpf/kpr/nodeport.c
// in the world of fixtures/scenarios/kpr-remote.yaml, its SYN and established paths through
// CtxRunner and through the scenario pipeline, without root.
import { describe, expect, it } from 'vitest';
import { benchNodePort, formatNodePortBench } from '../../bench/packets/nodeport.js';
import { NODEPORT_PROGRAM, prepareNodePort, synFromPort } from '../../bench/packets/nodeport-workload.js';
import { verifyChecksums } from '../../src/csum/verify.js';

const ETH_HLEN = 14;
const sport = (frame: Uint8Array): number => (frame[34] << 8) | frame[35];

describe('NodePort benchmark workload', () => {
  it('makes SYNs of distinct new connections with valid checksums from the capture\'s SYN', async () => {
    const world = await prepareNodePort(50);
    const ports = new Set(world.syns.map(sport));
    expect(ports.size).toBe(50);
    expect(ports.has(sport(world.flowSyn))).toBe(false);
    for (const syn of world.syns) expect(verifyChecksums(syn, ETH_HLEN)).toEqual({ ipv4: true, l4: true });
    const again = synFromPort(world.flowSyn, sport(world.flowSyn));
    expect(again).toEqual(world.flowSyn);
  });

  it('sends every new connection and the established flow out eth0, the same through the runner and the pipeline', async () => {
    const world = await prepareNodePort(20);
    const direct = world.syns.map((syn) => world.runner.runSkb(NODEPORT_PROGRAM, world.skbOf(syn)));
    const directOut = direct.map((r) => r.skb.data);
    expect(new Set(direct.map((r) => r.verdict.name))).toEqual(new Set(['TC_ACT_REDIRECT']));
    world.resetMaps();
    const piped = world.syns.map((syn) => world.pipeline.process(syn, 'eth0', 'ingress'));
    expect(piped.map((f) => f.output)).toEqual(world.syns.map(() => 'eth0'));
    // After resetMaps the pipeline allocates the same SNAT ports: the packets leave identical.
    expect(piped.map((f) => f.data)).toEqual(directOut);
    // Every new connection got its own SNAT source port.
    expect(new Set(directOut.map(sport)).size).toBe(20);
  });

  it('reports the SYN and established paths for both ways in, with verdicts and no mismatches', async () => {
    const log: string[] = [];
    const rows = await benchNodePort({ minSeconds: 0.01, log: (s) => log.push(s), kernel: false, syns: 64 });
    expect(rows.map((r) => `${r.path}/${r.via}`)).toEqual(['syn/runner', 'established/runner', 'syn/pipeline', 'established/pipeline']);
    for (const r of rows) {
      expect(r.mismatches, `${r.path}/${r.via}`).toEqual([]);
      expect(r.kernel).toEqual({ na: 'not asked for' });
      expect(r.ratio).toBeUndefined();
      expect(r.bpfbed.nsPerPacket).toBeGreaterThan(0);
    }
    expect(rows[0].verdicts).toEqual({ TC_ACT_REDIRECT: 64 });
    // The SYN path creates state (CT, SNAT) the established path only looks up.
    expect(rows[0].bpfbed.insnsPerPacket).toBeGreaterThan(rows[1].bpfbed.insnsPerPacket);
    const text = formatNodePortBench(rows);
    expect(text).toContain('established');
    expect(text).toContain('kernel: not asked for');
  });
});
