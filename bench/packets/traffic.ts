// The generated capture of the per-packet workload: `count` frames drawn from the world's flows
// with the class shares of CLASS_WEIGHTS, written as a pcap in memory (the bench then reads it
// back, as `bpfbed run` would read a capture). Deterministic for a given seed.
import { PcapWriter } from '../../src/pcap/write.js';
import { buildFrame, TCP_ACK, TCP_PSH, TCP_SYN, type FrameSpec } from './frames.js';
import { CLASS_WEIGHTS, PACKET_CLASSES, XorShift32, type Flow, type PacketClass, type PacketWorld } from './world.js';

export interface Traffic {
  pcap: Uint8Array;
  /** The class of each packet, in capture order. */
  classes: PacketClass[];
}

const MAX_TCP_PAYLOAD = 1460;

function frameOf(flow: Flow, rng: XorShift32, ipId: number): FrameSpec {
  const base = { src: flow.client, dst: flow.server, ipId, seq: rng.next(), payloadSeed: rng.next() };
  switch (flow.cls) {
    case 'syn':
      return { ...base, protocol: 'tcp', flags: TCP_SYN, payloadLength: 0 };
    case 'udp':
      return { ...base, protocol: 'udp', payloadLength: 20 + rng.below(200) };
    default: {
      // Half pure ACKs, half data segments of any size.
      const data = rng.below(2) === 0;
      return { ...base, protocol: 'tcp', flags: data ? TCP_PSH | TCP_ACK : TCP_ACK, ack: rng.next(), payloadLength: data ? 1 + rng.below(MAX_TCP_PAYLOAD) : 0 };
    }
  }
}

/** One frame of `flow` (the first one its flow would send in the traffic, for a given seed). */
export function sampleFrame(flow: Flow, seed = 1): Uint8Array {
  return buildFrame(frameOf(flow, new XorShift32(seed), 1));
}

export function generateTraffic(world: PacketWorld, count: number, seed = 0x7a11c0de): Traffic {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`traffic: packet count must be a positive integer, got ${count}`);
  const rng = new XorShift32(seed);
  const byClass = new Map<PacketClass, Flow[]>(PACKET_CLASSES.map((c) => [c, world.flows.filter((f) => f.cls === c)]));
  // Cumulative weights scaled to 2^32 so one draw picks the class.
  const thresholds: [number, PacketClass][] = [];
  let acc = 0;
  for (const c of PACKET_CLASSES) thresholds.push([(acc += CLASS_WEIGHTS[c]) * 0x100000000, c]);
  const writer = new PcapWriter();
  const classes: PacketClass[] = [];
  const start = 1_700_000_000_000_000_000n;
  for (let i = 0; i < count; i++) {
    const draw = rng.next();
    const cls = thresholds.find(([t]) => draw < t)?.[1] ?? 'tracked';
    const flows = byClass.get(cls)!;
    const flow = flows[rng.below(flows.length)];
    writer.add(buildFrame(frameOf(flow, rng, i & 0xffff)), start + BigInt(i) * 1000n);
    classes.push(cls);
  }
  return { pcap: writer.bytes(), classes };
}
