// A node running bpf/kpr/nodeport.c on eth0 over IPv6, built from the kpr-v6-remote scenario's
// world, for tests that send packets one at a time, move the clock and look at ct6 / snat6.
import { ipv6Frame, type Ipv6FrameSpec } from '../../src/kpr/frames.js';
import { formatIPv6 } from '../../src/env/addr.js';
import { loadScenario, MAC, mac, scenarioNode, type TestNode } from './nodeport-node.js';

export const V6 = { client: 'fd00::1', node: 'fd00::2', node2: 'fd00::5', pod: 'fd00:244:1::5', localPod: 'fd00:244::5' };

export type TestNode6 = TestNode;

/** The node of a scenario (default kpr-v6-remote.yaml), `edit` applied to the parsed scenario first. */
export async function v6Node(name = 'kpr-v6-remote.yaml', edit?: (s: ReturnType<typeof loadScenario>['scenario']) => void): Promise<TestNode6> {
  const { scenario, read } = loadScenario(name);
  edit?.(scenario);
  return scenarioNode(scenario, read, { ct: 'ct6', nat: 'snat6' });
}

type FrameOpts = Partial<Ipv6FrameSpec>;

/** The client's packet to the NodePort [fd00::2]:30080 (TCP) or :30053 (UDP). */
export function toNodePort6(opts: FrameOpts = {}): Uint8Array {
  const proto = opts.proto ?? 'tcp';
  return ipv6Frame({ srcMac: MAC.client, dstMac: MAC.node, src: V6.client, dst: V6.node, sport: 40000, dport: proto === 'tcp' ? 30080 : 30053, proto, ...opts });
}

/** The remote pod's packet to the node's address and an SNAT port. */
export function fromPod6(port: number, opts: FrameOpts = {}): Uint8Array {
  return ipv6Frame({ srcMac: MAC.node2, dstMac: MAC.node, src: V6.pod, dst: V6.node, sport: 8080, dport: port, proto: 'tcp', ...opts });
}

export interface Frame6View {
  dstMac: string;
  srcMac: string;
  src: string;
  dst: string;
  hopLimit: number;
  nextHeader: number;
}

/** The fixed-header fields of an Ethernet/IPv6 frame. */
export function view6(frame: Uint8Array): Frame6View {
  return { dstMac: mac(frame, 0), srcMac: mac(frame, 6), src: formatIPv6(frame, 22), dst: formatIPv6(frame, 38), hopLimit: frame[21], nextHeader: frame[20] };
}

/** The ports of the L4 header at `off` (54 without extension headers). */
export function ports6(frame: Uint8Array, off = 54): { sport: number; dport: number } {
  return { sport: (frame[off] << 8) | frame[off + 1], dport: (frame[off + 2] << 8) | frame[off + 3] };
}
