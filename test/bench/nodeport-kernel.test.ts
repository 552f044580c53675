// The NodePort rows' kernel column (bench/packets/nodeport-kernel.ts) against bpfbed: in a
// namespace holding the scenario's routes and neighbours, the kernel forwards every new
// connection and the established flow as bpfbed does, byte for byte. Needs root, ip, a C
// compiler and libbpf-dev; skips otherwise (BPFBED_KERNEL=0 skips too).
import { describe, expect, it } from 'vitest';
import { kernelUnavailable } from '../../bench/packets/kernel.js';
import { runNodePortInKernel } from '../../bench/packets/nodeport-kernel.js';
import { NODEPORT_PROGRAM, prepareNodePort } from '../../bench/packets/nodeport-workload.js';

const why = process.env.BPFBED_KERNEL === '1' ? kernelUnavailable() : 'BPFBED_KERNEL is not 1';
const TC_ACT_REDIRECT = 7;

describe.skipIf(why !== undefined)(`NodePort bench workload agrees with the kernel${why ? ` (skipped: ${why})` : ''}`, () => {
  it('forwards each new connection and the established flow with the same bytes as bpfbed', async () => {
    const world = await prepareNodePort(32);
    const kernel = runNodePortInKernel({
      objectPath: world.objectPath,
      program: NODEPORT_PROGRAM,
      environment: world.scenario.environment ?? {},
      prepared: world.runner,
      syns: world.syns,
      flowSyn: world.flowSyn,
      flowAck: world.flowAck,
      ackRuns: 10,
    });
    expect(kernel.synRetvals).toEqual({ [TC_ACT_REDIRECT]: 32 });
    expect(kernel.ackRetval).toBe(TC_ACT_REDIRECT);
    const firstSyn = world.runner.runSkb(NODEPORT_PROGRAM, world.skbOf(world.syns[0]));
    expect(kernel.firstSynOut).toEqual(firstSyn.skb.data);
    for (const syn of world.syns.slice(1)) world.runner.runSkb(NODEPORT_PROGRAM, world.skbOf(syn));
    world.runner.runSkb(NODEPORT_PROGRAM, world.skbOf(world.flowSyn));
    const ack = world.runner.runSkb(NODEPORT_PROGRAM, world.skbOf(world.flowAck));
    expect(kernel.ackOut).toEqual(ack.skb.data);
    expect(kernel.synNs).toBeGreaterThan(0);
    expect(kernel.ackNs).toBeGreaterThan(0);
  });
});
