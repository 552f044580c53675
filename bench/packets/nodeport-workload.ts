// The NodePort workload of the per-packet bench (issue 5, "Tests and figures"): bpf/kpr/nodeport.c
// (fixtures/obj/kpr/nodeport.o) in the world of fixtures/scenarios/kpr-remote.yaml — the node
// 10.0.0.2 with a NodePort 30080 whose one backend 10.244.1.5:8080 lives on node2 behind
// 10.0.0.5 — prepared exactly as `bpfbed run` prepares that scenario (prepareScenario: its
// environment, its map entries). Two paths:
//   syn:         a new connection (a SYN from a client port not seen before): service lookup, CT
//                create, SNAT port allocation, bpf_fib_lookup, redirect out eth0;
//   established: the client's ACK after its SYN: CT hit, NAT hit, rewrite, FIB, redirect.
// Both through CtxRunner.runSkb directly (the skb the pipeline would build on eth0's ingress) and
// through the scenario pipeline (src/run/pipeline.ts, the way `bpfbed run` sends every packet).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { CtxRunner } from '../../src/ctx/runner.js';
import { skbFromFrame, type SkbState } from '../../src/ctx/skb.js';
import type { MapState } from '../../src/maps/state.js';
import { readCapture } from '../../src/pcap/read.js';
import { Pipeline } from '../../src/run/pipeline.js';
import { prepareScenario } from '../../src/run/scenario-run.js';
import { parseScenario } from '../../src/scenario/parse.js';
import type { Scenario } from '../../src/scenario/types.js';
import { packetRepoRoot } from './workload.js';

export const NODEPORT_SCENARIO = 'fixtures/scenarios/kpr-remote.yaml';
export const NODEPORT_PROGRAM = 'nodeport_ingress';
/** The device the scenario's client packets arrive on. */
export const NODEPORT_DEVICE = 'eth0';
/** TC_ACT_REDIRECT: what both paths must return (the packet leaves eth0 towards node2). */
export const NODEPORT_VERDICT = 'TC_ACT_REDIRECT';

/** The capture's packets the workload is made from (scripts/gen-kpr-pcaps.sh, remote-flow.pcap). */
const CAPTURE_SYN = 0; // 10.0.0.1:40000 > 10.0.0.2:30080 [S]
const CAPTURE_ACK = 2; // 10.0.0.1:40000 > 10.0.0.2:30080 [.], after the SYN-ACK
/** Client ports of the generated SYNs start here (the capture's own flow uses 40000). */
const FIRST_SYN_PORT = 1024;
export const MAX_SYNS = 40000 - FIRST_SYN_PORT;

export interface NodePortWorld {
  scenario: Scenario;
  scenarioPath: string;
  objectPath: string;
  runner: CtxRunner;
  pipeline: Pipeline;
  /** The capture's SYN and the ACK after it (the established flow). */
  flowSyn: Uint8Array;
  flowAck: Uint8Array;
  /** SYNs of `count` distinct new connections (client ports FIRST_SYN_PORT..). */
  syns: Uint8Array[];
  /** The skb the pipeline builds for a frame arriving on eth0 (for CtxRunner.runSkb directly). */
  skbOf(frame: Uint8Array): SkbState;
  /** Every map back to its state right after the scenario was prepared (no connection yet). */
  resetMaps(): void;
}

/** 16-bit ones' complement sum of `len` bytes at `off` (RFC 1071), added to `sum`. */
function sum16(b: Uint8Array, off: number, len: number, sum: number): number {
  for (let i = 0; i + 1 < len; i += 2) sum += (b[off + i] << 8) | b[off + i + 1];
  if (len & 1) sum += b[off + len - 1] << 8;
  return sum;
}

const fold = (s: number): number => {
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
};

/**
 * The capture's SYN from another client port, with the TCP checksum recomputed (RFC 793 pseudo
 * header): the program does not check it, but the frames stay valid packets for anyone who looks.
 */
export function synFromPort(template: Uint8Array, port: number): Uint8Array {
  const f = template.slice();
  const ihl = (f[14] & 15) * 4;
  const l4 = 14 + ihl;
  const l4Len = ((f[16] << 8) | f[17]) - ihl;
  f[l4] = port >> 8;
  f[l4 + 1] = port & 255;
  f[l4 + 16] = 0;
  f[l4 + 17] = 0;
  let s = sum16(f, 26, 8, 0) + f[23] + l4Len;
  s = sum16(f, l4, l4Len, s);
  const c = fold(s);
  f[l4 + 16] = c >> 8;
  f[l4 + 17] = c & 255;
  return f;
}

/**
 * The scenario's world, prepared as `bpfbed run` prepares it, and `synCount` new-connection SYNs.
 * `scenarioFile` replaces NODEPORT_SCENARIO (another build of the same world, e.g. an older object).
 */
export async function prepareNodePort(synCount: number, scenarioFile?: string): Promise<NodePortWorld> {
  if (synCount > MAX_SYNS) throw new Error(`nodeport bench: at most ${MAX_SYNS} distinct SYNs (client ports ${FIRST_SYN_PORT}..39999)`);
  const scenarioPath = scenarioFile ? resolve(scenarioFile) : join(packetRepoRoot(), NODEPORT_SCENARIO);
  const base = dirname(scenarioPath);
  const read = (p: string): Uint8Array => new Uint8Array(readFileSync(resolve(base, p)));
  const scenario = parseScenario(readFileSync(scenarioPath, 'utf8'), scenarioPath);
  if (!scenario.input) throw new Error(`${NODEPORT_SCENARIO}: no input capture`);
  const runner = await prepareScenario(scenario, read);
  const env = runner.bed.env;
  const pipeline = new Pipeline(runner, env, scenario.programs, scenario.budget);
  const capture = readCapture(read(scenario.input.pcap));
  if (capture.error) throw new Error(`${scenario.input.pcap}: ${capture.error.message}`);
  const flowSyn = capture.packets[CAPTURE_SYN].data;
  const flowAck = capture.packets[CAPTURE_ACK].data;
  const syns: Uint8Array[] = [];
  for (let i = 0; i < synCount; i++) syns.push(synFromPort(flowSyn, FIRST_SYN_PORT + i));
  const device = env.deviceByName(0, NODEPORT_DEVICE);
  if (!device) throw new Error(`${NODEPORT_SCENARIO}: no device ${NODEPORT_DEVICE}`);
  const maps = runner.bed.maps;
  const saved: MapState[] = maps.map((m) => m.saveState());
  return {
    scenario,
    scenarioPath,
    objectPath: resolve(base, scenario.object),
    runner,
    pipeline,
    flowSyn,
    flowAck,
    syns,
    // What Pipeline.runSkb builds for a packet entering eth0 with no metadata.
    skbOf: (frame) => skbFromFrame(frame, { deviceMac: device.mac, ifindex: device.ifindex, ingressIfindex: device.ifindex, direction: 'ingress' }),
    resetMaps: () => maps.forEach((m, i) => m.restoreState(saved[i])),
  };
}
