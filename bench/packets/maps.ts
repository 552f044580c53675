// Fills packet_lb's maps (bpf/bench/packet.c) for a world: every service VIP to its first
// backend, every tracked flow's 5-tuple to its backend.
//
// Each entry also has its mirror (backend -> VIP): BPF_PROG_TEST_RUN's `repeat` runs the program
// again on the same skb without restoring the packet (net/bpf/test_run.c bpf_test_run), so the
// kernel's second run sees the translated packet. With the mirror it translates it back through
// the same path (same lookups, same helper calls), so every repeat measures the path of the
// first run. The capture never sends to a backend address, so bpfbed's runs never use them.
import type { CtxRunner } from '../../src/ctx/runner.js';
import type { TypedValue } from '../../src/typed/typed-value.js';
import { ipv4Text, type Endpoint, type PacketWorld } from './world.js';

const TCP = 6;

function svcKey(e: Endpoint) {
  return { vip: ipv4Text(e.addr), port: e.port, proto: TCP };
}

function ctKey(client: Endpoint, server: Endpoint) {
  return { saddr: ipv4Text(client.addr), daddr: ipv4Text(server.addr), sport: client.port, dport: server.port, proto: TCP };
}

function set(runner: CtxRunner, map: string, key: TypedValue, value: TypedValue): void {
  const rc = runner.bed.typedMap(map).set(key, value);
  if (rc !== 0) throw new Error(`packet bench: ${map} update failed with ${rc} for ${JSON.stringify(key)}`);
}

/** Writes the services and conntrack entries of `world`; returns how many of each. */
export function fillPacketMaps(runner: CtxRunner, world: PacketWorld): { services: number; conntrack: number } {
  let services = 0;
  let conntrack = 0;
  for (const svc of world.services) {
    set(runner, 'services', svcKey(svc.vip), { addr: ipv4Text(svc.backends[0].addr), port: svc.backends[0].port, ifindex: svc.ifindex });
    services++;
    for (const be of svc.backends) {
      set(runner, 'services', svcKey(be), { addr: ipv4Text(svc.vip.addr), port: svc.vip.port, ifindex: svc.ifindex });
      services++;
    }
  }
  for (const flow of world.flows) {
    if (flow.cls !== 'tracked' || !flow.backend) continue;
    set(runner, 'conntrack', ctKey(flow.client, flow.server), { addr: ipv4Text(flow.backend.addr), port: flow.backend.port, packets: 0 });
    set(runner, 'conntrack', ctKey(flow.client, flow.backend), { addr: ipv4Text(flow.server.addr), port: flow.server.port, packets: 0 });
    conntrack += 2;
  }
  return { services, conntrack };
}
