// The per-packet benchmark's workload against the running kernel: for a representative packet of
// every kind and for the start of the generated capture, the kernel (BPF_PROG_TEST_RUN through
// bpftool, maps filled with bpfbed's bytes) and bpfbed return the same verdict and the same
// packet. Needs root, bpftool and bpffs; skips otherwise (BPFBED_KERNEL=0 skips too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFrame } from '../../bench/packets/bpfbed.js';
import { KernelPacketProgram, kernelUnavailable } from '../../bench/packets/kernel.js';
import { generateTraffic, sampleFrame } from '../../bench/packets/traffic.js';
import { PACKET_PROGRAM, packetObjectPath, preparePacketRunner } from '../../bench/packets/workload.js';
import { EXPECTED_VERDICT, PACKET_CLASSES, makeWorld } from '../../bench/packets/world.js';
import type { CtxRunner } from '../../src/ctx/runner.js';
import { readCapture } from '../../src/pcap/read.js';

const why = process.env.BPFBED_KERNEL === '1' ? kernelUnavailable() : 'BPFBED_KERNEL is not 1';

describe.skipIf(why !== undefined)(`per-packet benchmark workload agrees with the kernel${why ? ` (skipped: ${why})` : ''}`, () => {
  const world = makeWorld();
  let runner: CtxRunner;
  let kernel: KernelPacketProgram;

  beforeAll(async () => {
    runner = await preparePacketRunner(world);
    kernel = KernelPacketProgram.open(packetObjectPath(), runner);
  });
  afterAll(() => kernel?.close());

  it.each(PACKET_CLASSES)('a %s packet gets the same verdict and output bytes in both, also when repeated', (cls) => {
    const frame = sampleFrame(world.flows.find((f) => f.cls === cls)!);
    const ours = runFrame(runner, PACKET_PROGRAM, frame);
    const theirs = kernel.run(PACKET_PROGRAM, frame, 1);
    expect(ours.verdict.name).toBe(EXPECTED_VERDICT[cls]);
    expect(theirs.retval).toBe(ours.verdict.value);
    expect(theirs.dataOut).toEqual(ours.skb.data);
    // The timed kernel runs repeat on one skb: the mirror map entries keep them on this path, and
    // an even number of runs gives the packet back as it came.
    const twice = kernel.run(PACKET_PROGRAM, frame, 2);
    expect(twice.retval).toBe(ours.verdict.value);
    expect(twice.dataOut).toEqual(frame);
  });

  it('the first 200 packets of the generated capture get the same verdicts and bytes in both', () => {
    const frames = readCapture(generateTraffic(world, 200).pcap).packets.map((p) => p.data);
    const differences: string[] = [];
    frames.forEach((frame, i) => {
      const ours = runFrame(runner, PACKET_PROGRAM, frame);
      const theirs = kernel.run(PACKET_PROGRAM, frame, 1);
      if (theirs.retval !== ours.verdict.value) differences.push(`packet ${i + 1}: kernel ${theirs.retval}, bpfbed ${ours.verdict.value}`);
      else if (Buffer.compare(theirs.dataOut, ours.skb.data) !== 0) differences.push(`packet ${i + 1}: output bytes differ`);
    });
    expect(differences).toEqual([]);
  });
});
