// A node running bpf/kpr/nodeport.c on eth0, built from the kpr-remote scenario's world (its
// devices, routes, neighbours and service maps), for tests that send packets one at a time,
// move the clock between them and look at the maps.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Pipeline, type PacketFate } from '../../src/run/pipeline.js';
import { prepareScenario, type FileReader } from '../../src/run/scenario-run.js';
import { parseScenario } from '../../src/scenario/parse.js';
import type { Scenario } from '../../src/scenario/types.js';
import { layoutForKeySize, type CtEntry, type NatEntry, type Tuple4Key } from '../../src/kpr/layout.js';
import { ipv4Frame, type Ipv4FrameSpec } from '../../src/kpr/frames.js';

export const SCENARIOS = join(import.meta.dirname, '../../fixtures/scenarios');
export const MAC = { client: '02:00:00:00:0a:01', client2: '02:00:00:00:0a:07', node: '02:00:00:00:0b:01', node2: '02:00:00:00:0e:01', lxc0: '02:00:00:00:0d:01', pod: '02:00:00:00:0d:05' };
export const PORT_MIN = 32768;
export const PORT_MAX = 60999;

export function loadScenario(name: string) {
  const path = join(SCENARIOS, name);
  const scenario = parseScenario(readFileSync(path, 'utf8'), name);
  const base = dirname(path);
  const read = (p: string) => new Uint8Array(readFileSync(p.startsWith('/') ? p : resolve(base, p)));
  return { scenario, read, base };
}

/** A node of an IPv4 or an IPv6 scenario (its CT and NAT keys in the address family's text). */
export interface TestNode {
  send(frame: Uint8Array, device?: string): PacketFate;
  advance(seconds: number): void;
  nowNs(): bigint;
  ct(): { key: Tuple4Key; entry: CtEntry }[];
  nat(): { key: Tuple4Key; entry: NatEntry }[];
  stat(index: number): bigint;
  runner: Awaited<ReturnType<typeof prepareScenario>>;
}

/** The node of kpr-remote.yaml (optionally another object built from nodeport.c, and a CPU count for num_possible_cpus()). */
export async function remoteNode(object?: string, cpus?: number): Promise<TestNode> {
  const { scenario, read } = loadScenario('kpr-remote.yaml');
  if (object) scenario.object = object;
  if (cpus) scenario.cpus = cpus;
  return scenarioNode(scenario, read, { ct: 'ct4', nat: 'snat4' });
}

/** A scenario's node: packets in on a device's ingress, its clock, its CT and NAT maps decoded (IPv4 or IPv6 by their key size). */
export async function scenarioNode(scenario: Scenario, read: FileReader, maps: { ct: string; nat: string }): Promise<TestNode> {
  const runner = await prepareScenario(scenario, read);
  const env = runner.bed.env;
  const pipeline = new Pipeline(runner, env, scenario.programs);
  const decoded = <T>(name: string, entry: (layout: ReturnType<typeof layoutForKeySize>, value: Uint8Array) => T) => {
    const map = runner.bed.map(name);
    const layout = layoutForKeySize(map.keySize);
    return map.entries().map((e) => ({ key: layout.key(e.key), entry: entry(layout, e.value) }));
  };
  return {
    runner,
    send: (frame, device = 'eth0') => pipeline.process(frame, device, 'ingress'),
    advance: (seconds) => env.advance(BigInt(Math.round(seconds * 1e9))),
    nowNs: () => env.ktimeGetNs(),
    ct: () => decoded(maps.ct, (layout, value) => layout.ct(value)),
    nat: () => decoded(maps.nat, (layout, value) => layout.nat(value)),
    stat: (index) => {
      const v = runner.bed.map('np_stats').read(Uint8Array.of(index, 0, 0, 0));
      return v ? new DataView(v.buffer, v.byteOffset).getBigUint64(0, true) : 0n;
    },
  };
}

type FrameOpts = Partial<Ipv4FrameSpec>;

/** A client's packet to the NodePort 10.0.0.2:30080 (TCP) or :30053 (UDP). */
export function toNodePort(opts: FrameOpts = {}): Uint8Array {
  const proto = opts.proto ?? 'tcp';
  return ipv4Frame({ srcMac: MAC.client, dstMac: MAC.node, src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: proto === 'tcp' ? 30080 : 30053, proto, ...opts });
}

/** The remote pod's packet to the node's address and an SNAT port. */
export function fromPod(port: number, opts: FrameOpts = {}): Uint8Array {
  return ipv4Frame({ srcMac: MAC.node2, dstMac: MAC.node, src: '10.244.1.5', dst: '10.0.0.2', sport: 8080, dport: port, proto: 'tcp', ...opts });
}

export interface FrameView {
  dstMac: string;
  srcMac: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  ttl: number;
}

/** The MAC address at offset `o`, as colon-separated hex. */
export const mac = (b: Uint8Array, o: number) => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** The fields of an Ethernet/IPv4/TCP|UDP frame the datapath rewrites. */
export function view(frame: Uint8Array): FrameView {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  return { dstMac: mac(frame, 0), srcMac: mac(frame, 6), src: [...frame.subarray(26, 30)].join('.'), dst: [...frame.subarray(30, 34)].join('.'), sport: v.getUint16(34), dport: v.getUint16(36), ttl: frame[22] };
}
