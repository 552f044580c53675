import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/env/environment.js';
import { fibLookup, fibLookupRaw } from '../../src/env/fib.js';
import {
  BPF_FIB_LKUP_RET_FRAG_NEEDED,
  BPF_FIB_LKUP_RET_NO_NEIGH,
  BPF_FIB_LKUP_RET_NOT_FWDED,
  BPF_FIB_LKUP_RET_SUCCESS,
  BPF_FIB_LOOKUP_SKIP_NEIGH,
  decodeFibLookup,
  encodeFibLookup,
} from '../../src/env/fib-params.js';
import answers from './fib-kernel-answers.json' with { type: 'json' };
import { buildWorld, caseBytes, fibCases, type KernelAnswer } from './fib-world.js';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('bpf_fib_lookup reproduces Linux 6.18 (answers recorded by fib-kernel.test.ts)', () => {
  const byName = new Map((answers as KernelAnswer[]).map((a) => [a.name, a]));
  it('has a recorded kernel answer for every case', () => {
    expect(fibCases.filter((c) => !byName.has(c.name)).map((c) => c.name)).toEqual([]);
  });
  for (const c of fibCases) {
    it(c.name, () => {
      const env = buildWorld(c.phase);
      const bytes = caseBytes(c);
      const ret = fibLookupRaw(env, bytes, 64, c.flags, { kind: c.prog === 'tc' ? 'skb' : 'xdp', skbLen: c.pktLen ?? 64 });
      const k = byName.get(c.name)!;
      expect({ ret, params: hex(bytes) }).toEqual({ ret: k.ret, params: k.params });
    });
  }
});

describe('struct bpf_fib_lookup', () => {
  it('encodes and decodes the uapi layout: ports big-endian, ifindex and tot_len host order', () => {
    const b = encodeFibLookup({ family: 2, l4_protocol: 17, sport: 53, dport: 40000, tot_len: 1500, ifindex: 7, dst: '10.0.0.1', src: '10.0.0.2', tbid: 100, mark: 9 });
    expect(b.length).toBe(64);
    expect(hex(b.subarray(0, 12))).toBe('0211' + '0035' + '9c40' + 'dc05' + '07000000');
    expect(hex(b.subarray(16, 20))).toBe('0a000002');
    expect(hex(b.subarray(32, 36))).toBe('0a000001');
    const d = decodeFibLookup(b);
    expect(d).toMatchObject({ family: 2, l4_protocol: 17, sport: 53, dport: 40000, tot_len: 1500, ifindex: 7, ipv4_dst: '10.0.0.1', ipv4_src: '10.0.0.2', tbid: 100, mark: 9 });
  });

  it('refuses a params length below sizeof(struct bpf_fib_lookup) with -EINVAL', () => {
    const env = buildWorld(1);
    expect(fibLookupRaw(env, encodeFibLookup({ ifindex: 2, dst: '10.2.3.4' }), 63, 0, { kind: 'xdp' })).toBe(-22);
  });
});

describe('fibLookup on a scenario world', () => {
  const env = Environment.fromSpec({
    devices: [
      { name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01', addrs: ['192.168.1.10/24', 'fd00::10/64'], mtu: 1500 },
      { name: 'eth1', ifindex: 3, mac: '02:00:00:00:00:02', addrs: ['10.0.1.1/24'], mtu: 9000 },
    ],
    routes: [{ dst: '10.0.0.0/8', via: '192.168.1.1', dev: 'eth0' }, { dst: 'default', family: 6, via: 'fd00::1' }],
    neighbours: [{ ip: '192.168.1.1', mac: '02:00:00:00:00:fe', dev: 'eth0' }],
  });

  it('forwards to the gateway with the egress MACs (NodePort to a remote backend)', () => {
    const r = fibLookup(env, { ifindex: 3, dst: '10.2.0.5', src: '10.0.1.7' }, 0, { kind: 'skb', skbLen: 74 });
    expect(r.ret).toBe(BPF_FIB_LKUP_RET_SUCCESS);
    expect(r.params).toMatchObject({ ifindex: 2, ipv4_dst: '192.168.1.1', smac: '02:00:00:00:00:01', dmac: '02:00:00:00:00:fe', mtu_result: 1500 });
  });

  it('prefers the connected /24 over the /8 and reports NO_NEIGH with the egress ifindex filled', () => {
    const r = fibLookup(env, { ifindex: 2, dst: '10.0.1.5' }, 0, { kind: 'skb', skbLen: 74 });
    expect(r.ret).toBe(BPF_FIB_LKUP_RET_NO_NEIGH);
    expect(r.params).toMatchObject({ ifindex: 3, ipv4_dst: '10.0.1.5', smac: '00:00:00:00:00:00' });
  });

  it('resolves a gateway given without a device through the connected route', () => {
    const r = fibLookup(env, { family: 10, ifindex: 2, dst: 'fd01::1' }, BPF_FIB_LOOKUP_SKIP_NEIGH, { kind: 'xdp' });
    expect(r.ret).toBe(BPF_FIB_LKUP_RET_SUCCESS);
    expect(r.params).toMatchObject({ ifindex: 2, ipv6_dst: 'fd00::1', rt_metric: 1024, mtu_result: 1500 });
  });

  it('reports FRAG_NEEDED with the egress MTU when tot_len exceeds it', () => {
    const r = fibLookup(env, { ifindex: 3, dst: '10.2.0.5', tot_len: 1501 }, 0, { kind: 'skb' });
    expect(r.ret).toBe(BPF_FIB_LKUP_RET_FRAG_NEEDED);
    expect(r.params.mtu_result).toBe(1500);
  });

  it('does not forward to an address of this host', () => {
    expect(fibLookup(env, { ifindex: 2, dst: '10.0.1.1' }, 0, { kind: 'xdp' }).ret).toBe(BPF_FIB_LKUP_RET_NOT_FWDED);
  });

  it('looks up in the namespace of the packet device, where an unknown ifindex is -ENODEV', () => {
    const two = Environment.fromSpec({ netns: ['pod'], devices: [{ name: 'eth0', ifindex: 2, addrs: ['10.9.0.2/24'], netns: 'pod' }] });
    expect(fibLookup(two, { ifindex: 2, dst: '10.9.0.7' }, 0, { kind: 'xdp', netns: 0 }).ret).toBe(-19);
    expect(fibLookup(two, { ifindex: 2, dst: '10.9.0.7' }, 0, { kind: 'xdp', netns: 1 }).ret).toBe(BPF_FIB_LKUP_RET_NO_NEIGH);
  });
});

describe('route lookups for helpers that route by themselves', () => {
  it('returns the route, a rejecting route type, or none', async () => {
    const { lookupRoute } = await import('../../src/env/fib.js');
    const env = buildWorld(1);
    const v4 = (s: string) => Uint8Array.from(s.split('.').map(Number));
    const r = lookupRoute(env, 0, v4('10.2.3.4'));
    expect(r.kind === 'route' && r.route.oif).toBe(2);
    expect(lookupRoute(env, 0, v4('198.51.101.9')).kind).toBe('unreachable');
    expect(lookupRoute(env, 0, v4('203.0.113.1')).kind).toBe('none');
    const viaEth1 = lookupRoute(env, 0, v4('10.60.0.1'), { oif: 3 });
    expect(viaEth1.kind === 'route' && viaEth1.route.metric).toBe(100);
  });

  it('refuses a route whose gateway is not on a network of its device', () => {
    expect(() => Environment.fromSpec({ devices: [{ name: 'eth0', addrs: ['10.0.0.1/24'] }], routes: [{ dst: '10.9.0.0/16', via: '10.1.0.1', dev: 'eth0' }] })).toThrow(/not on a network of eth0/);
  });
});

describe('route changes', () => {
  it('sees a route added after earlier lookups', () => {
    const env = Environment.fromSpec({ devices: [{ name: 'eth0', ifindex: 2, addrs: ['192.168.1.10/24'] }] });
    const q = { ifindex: 2, dst: '10.1.1.1' };
    expect(fibLookup(env, q, BPF_FIB_LOOKUP_SKIP_NEIGH, { kind: 'xdp' }).ret).toBe(BPF_FIB_LKUP_RET_NOT_FWDED);
    env.addRoute({ dst: '10.0.0.0/8', via: '192.168.1.1', dev: 'eth0' });
    expect(fibLookup(env, q, BPF_FIB_LOOKUP_SKIP_NEIGH, { kind: 'xdp' }).ret).toBe(BPF_FIB_LKUP_RET_SUCCESS);
  });

  it('skips routes through a device that went down and uses them again once it is up', () => {
    const env = Environment.fromSpec({
      devices: [{ name: 'eth0', ifindex: 2, addrs: ['192.168.1.10/24'] }, { name: 'eth1', ifindex: 3, addrs: ['10.1.0.1/24'] }],
      routes: [{ dst: '10.0.0.0/8', via: '192.168.1.1', dev: 'eth0' }, { dst: '10.5.0.0/16', via: '10.1.0.2', dev: 'eth1' }],
    });
    const q = { ifindex: 2, dst: '10.5.1.1' };
    env.setDeviceUp(0, 'eth1', false);
    expect(fibLookup(env, q, BPF_FIB_LOOKUP_SKIP_NEIGH, { kind: 'xdp' }).params.ifindex).toBe(2);
    env.setDeviceUp(0, 'eth1', true);
    expect(fibLookup(env, q, BPF_FIB_LOOKUP_SKIP_NEIGH, { kind: 'xdp' }).params.ifindex).toBe(3);
  });
});
