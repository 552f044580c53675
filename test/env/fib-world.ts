// One routing world, described once: as a bpfbed EnvironmentSpec for the emulation, and as the
// `ip` commands that build the same world in a Linux network namespace for the kernel oracle
// (fib-kernel.test.ts). The cases are lookups a datapath makes, each recorded against Linux
// 6.18 in fib-kernel-answers.json.
import { Environment, type EnvironmentSpec } from '../../src/env/environment.js';
import {
  BPF_FIB_LOOKUP_DIRECT,
  BPF_FIB_LOOKUP_MARK,
  BPF_FIB_LOOKUP_OUTPUT,
  BPF_FIB_LOOKUP_SKIP_NEIGH,
  BPF_FIB_LOOKUP_SRC,
  BPF_FIB_LOOKUP_TBID,
  type BpfFibLookupInput,
  encodeFibLookup,
} from '../../src/env/fib-params.js';

export const worldSpec: EnvironmentSpec = {
  devices: [
    { name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:02', mtu: 1500, addrs: ['192.168.1.10/24', 'fd00:1::10/64'] },
    { name: 'eth1', ifindex: 3, mac: '02:00:00:00:00:03', mtu: 1400, addrs: ['10.1.0.1/24', 'fd00:2::1/64'] },
    { name: 'eth2', ifindex: 4, mac: '02:00:00:00:00:04', mtu: 1500, addrs: ['172.31.0.1/24', 'fd00:3::1/64'], forwarding: false },
    { name: 'eth3', ifindex: 5, mac: '02:00:00:00:00:05', mtu: 1500, addrs: ['10.3.0.1/24'] },
    { name: 'eth4', ifindex: 6, mac: '02:00:00:00:00:06', mtu: 1500, addrs: ['10.4.0.1/24'] },
  ],
  routes: [
    { dst: '10.0.0.0/8', via: '192.168.1.1', dev: 'eth0' },
    { dst: '172.16.0.0/16', via: '192.168.1.2', dev: 'eth0' },
    { dst: '10.99.0.0/16', dev: 'eth1' },
    { dst: '10.60.0.0/16', via: '10.1.0.2', dev: 'eth1', metric: 100 },
    { dst: '10.60.0.0/16', via: '192.168.1.1', dev: 'eth0', metric: 50 },
    { dst: '198.51.100.0/24', type: 'blackhole' },
    { dst: '198.51.101.0/24', type: 'unreachable' },
    { dst: '198.51.102.0/24', type: 'prohibit' },
    { dst: '10.50.0.0/16', type: 'throw' },
    { dst: '10.70.0.0/16', via: '192.168.1.1', dev: 'eth0', src: '10.1.0.1' },
    { dst: '10.80.0.0/16', via: '192.168.1.1', dev: 'eth0', mtu: 1300, mtuLock: true },
    { dst: '10.81.0.0/16', via: '192.168.1.1', dev: 'eth0', mtu: 1300 },
    { dst: '10.33.0.0/16', via: '10.3.0.2', dev: 'eth3' },
    { dst: '10.0.0.0/8', via: '10.1.0.2', dev: 'eth1', table: 100 },
    { dst: '10.90.0.0/16', via: '192.168.1.1', dev: 'eth0', encap: { headroom: 64 } },
    { dst: 'fd00:56::/64', dev: 'eth4' },
    { dst: 'fd00:9::/64', via: 'fd00:1::1', dev: 'eth0' },
    { dst: 'fd00:8::/64', via: 'fd00:1::2', dev: 'eth0' },
    { dst: 'fd00:66::/64', type: 'blackhole' },
    { dst: 'fd00:67::/64', type: 'unreachable' },
    { dst: 'fd00:68::/64', type: 'prohibit' },
    { dst: 'fd00:90::/64', via: 'fd00:2::2', dev: 'eth1', mtu: 1280 },
    { dst: 'fd00:91::/64', via: 'fd00:2::2', dev: 'eth1', mtu: 1300, mtuLock: true },
    { dst: 'fd00:99::/64', dev: 'eth1' },
    { dst: 'fd00:9::/64', via: 'fd00:2::2', dev: 'eth1', table: 100 },
  ],
  neighbours: [
    { ip: '192.168.1.1', mac: '02:00:00:00:01:01', dev: 'eth0' },
    { ip: '10.1.0.2', mac: '02:00:00:00:02:02', dev: 'eth1' },
    { ip: '10.99.0.6', mac: '02:00:00:00:02:06', dev: 'eth1' },
    { ip: '10.99.0.7', dev: 'eth1', state: 'failed' },
    { ip: '10.99.0.8', mac: '02:00:00:00:02:08', dev: 'eth1', state: 'stale' },
    { ip: 'fd00:1::1', mac: '02:00:00:00:01:01', dev: 'eth0' },
    { ip: 'fd00:2::2', mac: '02:00:00:00:02:02', dev: 'eth1' },
  ],
};

/** Phase 2 adds policy rules (which also unmerges the IPv4 local and main tables). */
export const phase2Rules: NonNullable<EnvironmentSpec['rules']> = [{ priority: 100, fwmark: 7, table: 100 }];

/** `ip route` text of the encapsulations (seg6 encap, one segment: 40 + 8 + 16 = 64 bytes). */
const encapText: Record<string, string> = { '10.90.0.0/16': 'encap seg6 mode encap segs fc00::1' };

/** Devices taken down after the routes are in (the kernel refuses routes via a down device). */
export const downDevices = ['eth3'];

/** The `ip` / `sysctl` commands that build worldSpec in namespace `ns` (peers go to `peer`). */
export function worldCommands(ns: string, peer: string, phase: 1 | 2): string[] {
  const c: string[] = [];
  if (phase === 2) {
    for (const r of phase2Rules) {
      for (const f of ['-4', '-6']) c.push(`ip -n ${ns} ${f} rule add fwmark ${r.fwmark} table ${r.table} priority ${r.priority}`);
    }
    return c;
  }
  c.push(`ip netns add ${ns}`, `ip netns add ${peer}`, `ip -n ${ns} link set lo up`);
  c.push(`ip netns exec ${ns} sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv6.conf.all.forwarding=1`);
  for (const d of worldSpec.devices!) {
    c.push(`ip -n ${ns} link add ${d.name} index ${d.ifindex} address ${d.mac} mtu ${d.mtu} type veth peer name p${d.ifindex} netns ${peer}`);
    c.push(`ip -n ${peer} link set p${d.ifindex} up`, `ip -n ${ns} link set ${d.name} up`);
    for (const a of d.addrs ?? []) c.push(`ip -n ${ns} addr add ${a} dev ${d.name}${a.includes(':') ? ' nodad' : ''}`);
    if (d.forwarding === false) {
      c.push(`ip netns exec ${ns} sysctl -qw net.ipv4.conf.${d.name}.forwarding=0 net.ipv6.conf.${d.name}.forwarding=0`);
    }
  }
  for (const r of worldSpec.routes!) {
    const fam = r.dst.includes(':') ? '-6' : '-4';
    const parts = [`ip -n ${ns} ${fam} route add`, r.type && r.type !== 'unicast' ? r.type : '', r.dst];
    if (r.encap) parts.push(encapText[r.dst]);
    if (r.via) parts.push('via', r.via);
    if (r.dev) parts.push('dev', r.dev);
    if (r.metric !== undefined) parts.push('metric', String(r.metric));
    if (r.src) parts.push('src', r.src);
    if (r.mtu !== undefined) parts.push('mtu', r.mtuLock ? 'lock' : '', String(r.mtu));
    if (r.table !== undefined) parts.push('table', String(r.table));
    c.push(parts.filter(Boolean).join(' '));
  }
  for (const n of worldSpec.neighbours!) {
    const ll = n.mac ? `lladdr ${n.mac} ` : '';
    c.push(`ip -n ${ns} neigh add ${n.ip} ${ll}dev ${n.dev} nud ${n.state ?? 'permanent'}`);
  }
  for (const d of downDevices) c.push(`ip -n ${ns} link set ${d} down`);
  return c;
}

export interface FibCase {
  name: string;
  phase: 1 | 2;
  prog: 'tc' | 'xdp';
  flags: number;
  params: BpfFibLookupInput;
  /** Bytes 52..63 (mark/smac/dmac) preset to this value, to see which the kernel writes. */
  fill?: number;
  /** Length of the test packet (skb->len for tc); default 64. */
  pktLen?: number;
}

const v4 = (dst: string, ifindex = 2, extra: BpfFibLookupInput = {}): BpfFibLookupInput => ({ family: 2, ifindex, dst, src: '192.168.1.100', l4_protocol: 6, sport: 40000, dport: 80, ...extra });
const v6 = (dst: string, ifindex = 2, extra: BpfFibLookupInput = {}): BpfFibLookupInput => ({ family: 10, ifindex, dst, src: 'fd00:1::100', l4_protocol: 6, sport: 40000, dport: 80, ...extra });

export const fibCases: FibCase[] = [
  { name: 'v4 via gateway: success with MACs and gateway as dst (tc)', phase: 1, prog: 'tc', flags: 0, params: v4('10.2.3.4'), fill: 0xaa },
  { name: 'v4 via gateway: success (xdp)', phase: 1, prog: 'xdp', flags: 0, params: v4('10.2.3.4'), fill: 0xaa },
  { name: 'v4 tot_len within mtu', phase: 1, prog: 'tc', flags: 0, params: v4('10.2.3.4', 2, { tot_len: 1000 }) },
  { name: 'v4 gateway without neighbour: NO_NEIGH', phase: 1, prog: 'tc', flags: 0, params: v4('172.16.1.1'), fill: 0xaa },
  { name: 'v4 gateway without neighbour: NO_NEIGH (xdp)', phase: 1, prog: 'xdp', flags: 0, params: v4('172.16.1.1'), fill: 0xaa },
  { name: 'v4 connected with neighbour', phase: 1, prog: 'tc', flags: 0, params: v4('10.99.0.6') },
  { name: 'v4 connected without neighbour', phase: 1, prog: 'tc', flags: 0, params: v4('10.99.0.5'), fill: 0xaa },
  { name: 'v4 neighbour in FAILED state', phase: 1, prog: 'tc', flags: 0, params: v4('10.99.0.7') },
  { name: 'v4 neighbour in STALE state', phase: 1, prog: 'tc', flags: 0, params: v4('10.99.0.8') },
  { name: 'v4 tot_len above mtu: FRAG_NEEDED', phase: 1, prog: 'tc', flags: 0, params: v4('10.99.0.6', 2, { tot_len: 1401 }) },
  { name: 'v4 tot_len equal to mtu', phase: 1, prog: 'tc', flags: 0, params: v4('10.99.0.6', 2, { tot_len: 1400 }) },
  { name: 'v4 tot_len above mtu (xdp)', phase: 1, prog: 'xdp', flags: 0, params: v4('10.99.0.6', 2, { tot_len: 1401 }) },
  { name: 'v4 tc without tot_len: skb fits mtu+eth+vlan', phase: 1, prog: 'tc', flags: 0, params: v4('10.99.0.6'), pktLen: 1418 },
  { name: 'v4 tc without tot_len: skb one byte too long', phase: 1, prog: 'tc', flags: 0, params: v4('10.99.0.6'), pktLen: 1419 },
  { name: 'v4 locked route mtu', phase: 1, prog: 'tc', flags: 0, params: v4('10.80.1.1', 2, { tot_len: 1301 }) },
  { name: 'v4 unlocked route mtu is not used', phase: 1, prog: 'tc', flags: 0, params: v4('10.81.1.1', 2, { tot_len: 1301 }) },
  { name: 'v4 lowest metric wins', phase: 1, prog: 'tc', flags: 0, params: v4('10.60.1.1') },
  { name: 'v4 blackhole', phase: 1, prog: 'tc', flags: 0, params: v4('198.51.100.1') },
  { name: 'v4 unreachable', phase: 1, prog: 'tc', flags: 0, params: v4('198.51.101.1') },
  { name: 'v4 prohibit', phase: 1, prog: 'tc', flags: 0, params: v4('198.51.102.1') },
  { name: 'v4 throw does not fall back to a shorter prefix', phase: 1, prog: 'tc', flags: 0, params: v4('10.50.1.1') },
  { name: 'v4 no route', phase: 1, prog: 'tc', flags: 0, params: v4('203.0.113.1') },
  { name: 'v4 local address', phase: 1, prog: 'tc', flags: 0, params: v4('192.168.1.10') },
  { name: 'v4 subnet broadcast', phase: 1, prog: 'tc', flags: 0, params: v4('192.168.1.255') },
  { name: 'v4 DIRECT to a local address (local and main merged)', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_DIRECT, params: v4('192.168.1.10') },
  { name: 'v4 DIRECT via gateway', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_DIRECT, params: v4('10.2.3.4') },
  { name: 'v4 DIRECT blackhole', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_DIRECT, params: v4('198.51.100.1') },
  { name: 'v4 OUTPUT on a device without a route', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_OUTPUT, params: v4('10.2.3.4', 3) },
  { name: 'v4 OUTPUT on the route device', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_OUTPUT, params: v4('10.2.3.4', 2) },
  { name: 'v4 OUTPUT picks the higher-metric route of that device', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_OUTPUT, params: v4('10.60.1.1', 3) },
  { name: 'v4 OUTPUT from a device with forwarding off', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_OUTPUT, params: v4('172.31.0.5', 4) },
  { name: 'v4 TBID table 100', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID, params: v4('10.2.3.4', 2, { tbid: 100 }) },
  { name: 'v4 TBID table that does not exist', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID, params: v4('10.2.3.4', 2, { tbid: 101 }) },
  { name: 'v4 TBID without DIRECT is ignored', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_TBID, params: v4('10.2.3.4', 2, { tbid: 100 }) },
  { name: 'v4 SKIP_NEIGH without neighbour', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SKIP_NEIGH, params: v4('172.16.1.1'), fill: 0xaa },
  { name: 'v4 SKIP_NEIGH (xdp)', phase: 1, prog: 'xdp', flags: BPF_FIB_LOOKUP_SKIP_NEIGH, params: v4('10.2.3.4'), fill: 0xaa },
  { name: 'v4 SRC from the device', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SRC, params: v4('10.2.3.4') },
  { name: 'v4 SRC from the route', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SRC, params: v4('10.70.1.1') },
  { name: 'v4 SRC connected', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SRC, params: v4('10.99.0.6') },
  { name: 'v4 SRC on NO_NEIGH', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SRC, params: v4('172.16.1.1') },
  { name: 'v4 ingress with forwarding off', phase: 1, prog: 'tc', flags: 0, params: v4('10.2.3.4', 4) },
  { name: 'v4 unknown ifindex', phase: 1, prog: 'tc', flags: 0, params: v4('10.2.3.4', 99) },
  { name: 'v4 unknown flag', phase: 1, prog: 'tc', flags: 1 << 6, params: v4('10.2.3.4') },
  { name: 'unknown family', phase: 1, prog: 'tc', flags: 0, params: { ...v4('10.2.3.4'), family: 3 } },
  { name: 'v4 route of a down device is gone', phase: 1, prog: 'tc', flags: 0, params: v4('10.33.1.1') },
  { name: 'v4 egress device with forwarding off', phase: 1, prog: 'tc', flags: 0, params: v4('172.31.0.5') },
  { name: 'v4 MARK without rules', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_MARK, params: v4('10.2.3.4', 2, { mark: 7 }) },
  { name: 'v6 via gateway', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:9::5'), fill: 0xaa },
  { name: 'v6 via gateway (xdp)', phase: 1, prog: 'xdp', flags: 0, params: v6('fd00:9::5') },
  { name: 'v6 gateway without neighbour', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:8::5'), fill: 0xaa },
  { name: 'v6 connected neighbour', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:2::2') },
  { name: 'v6 blackhole', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:66::1') },
  { name: 'v6 unreachable', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:67::1') },
  { name: 'v6 prohibit', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:68::1') },
  { name: 'v6 no route', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:77::1') },
  { name: 'v6 local address', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:1::10') },
  { name: 'v6 link-local destination', phase: 1, prog: 'tc', flags: 0, params: v6('fe80::1') },
  { name: 'v6 link-local source, before the device check', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:9::5', 99, { src: 'fe80::1' }) },
  { name: 'v6 multicast destination', phase: 1, prog: 'tc', flags: 0, params: v6('ff02::1') },
  { name: 'v6 tot_len above device mtu', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:2::2', 2, { tot_len: 1401 }) },
  { name: 'v6 unlocked route mtu is not used', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:90::1', 2, { tot_len: 1281 }) },
  { name: 'v6 tot_len above locked route mtu', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:91::1', 2, { tot_len: 1301 }) },
  { name: 'v6 TBID table 100', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_TBID, params: v6('fd00:9::5', 2, { tbid: 100 }) },
  { name: 'v6 DIRECT to a local address (main only)', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_DIRECT, params: v6('fd00:1::10') },
  { name: 'v6 SRC on the device', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SRC, params: v6('fd00:9::5') },
  { name: 'v6 SRC connected', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SRC, params: v6('fd00:99::1') },
  { name: 'v6 SKIP_NEIGH', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SKIP_NEIGH, params: v6('fd00:8::5'), fill: 0xaa },
  { name: 'v6 ingress with forwarding off', phase: 1, prog: 'tc', flags: 0, params: v6('fd00:9::5', 4) },
  { name: 'v6 OUTPUT on another device', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_OUTPUT, params: v6('fd00:9::5', 3) },
  { name: 'v4 lwt encap route: UNSUPP_LWT', phase: 1, prog: 'tc', flags: 0, params: v4('10.90.1.1'), fill: 0xaa },
  { name: 'v4 lwt encap headroom comes off the mtu', phase: 1, prog: 'tc', flags: 0, params: v4('10.90.1.1', 2, { tot_len: 1437 }) },
  { name: 'v4 lwt encap within the reduced mtu', phase: 1, prog: 'xdp', flags: BPF_FIB_LOOKUP_SKIP_NEIGH, params: v4('10.90.1.1', 2, { tot_len: 1436 }) },
  { name: 'v6 SRC when the outgoing device has no IPv6 address', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SRC, params: v6('fd00:56::1') },
  { name: 'v4 SRC when the outgoing device has a single address', phase: 1, prog: 'tc', flags: BPF_FIB_LOOKUP_SRC, params: v4('10.4.0.9') },
  { name: 'v4 MARK selects the rule table', phase: 2, prog: 'tc', flags: BPF_FIB_LOOKUP_MARK, params: v4('10.2.3.4', 2, { mark: 7 }) },
  { name: 'v4 mark ignored without MARK', phase: 2, prog: 'tc', flags: 0, params: v4('10.2.3.4', 2, { mark: 7 }) },
  { name: 'v4 MARK not matching the rule', phase: 2, prog: 'tc', flags: BPF_FIB_LOOKUP_MARK, params: v4('10.2.3.4', 2, { mark: 8 }) },
  { name: 'v4 DIRECT to a local address once rules unmerge the tables', phase: 2, prog: 'tc', flags: BPF_FIB_LOOKUP_DIRECT, params: v4('192.168.1.10') },
  { name: 'v4 local address through the rules', phase: 2, prog: 'tc', flags: 0, params: v4('192.168.1.10') },
  { name: 'v6 MARK selects the rule table', phase: 2, prog: 'tc', flags: BPF_FIB_LOOKUP_MARK, params: v6('fd00:9::5', 2, { mark: 7 }) },
];

/** The struct bytes a case passes to bpf_fib_lookup. */
export function caseBytes(c: FibCase): Uint8Array {
  const b = encodeFibLookup(c.params);
  if (c.fill !== undefined) b.fill(c.fill, 52, 64);
  return b;
}

/** The emulated world for a phase. */
export function buildWorld(phase: 1 | 2): Environment {
  const env = Environment.fromSpec({ ...worldSpec, rules: phase === 2 ? phase2Rules : [] });
  for (const d of downDevices) env.setDeviceUp(0, d, false);
  return env;
}

export interface KernelAnswer {
  name: string;
  ret: number;
  /** The 64 struct bytes after the call, hex. */
  params: string;
}
