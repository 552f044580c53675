import { pack } from 'msgpackr/pack';
import { unpack } from 'msgpackr/unpack';
import { describe, expect, it } from 'vitest';
import { formatIP } from '../../src/env/addr.js';
import { Environment, EnvironmentError, RT_TABLE_LOCAL, RT_TABLE_MAIN } from '../../src/env/environment.js';
import { fibLookup } from '../../src/env/fib.js';

const routesOf = (env: Environment, ifindex: number) =>
  env.state.routes
    .filter((r) => r.oif === ifindex && r.netns === 0)
    .map((r) => `${r.table === RT_TABLE_LOCAL ? 'local' : r.table === RT_TABLE_MAIN ? 'main' : r.table} ${r.type} ${formatIP(r.dst)}/${r.prefixLen} metric ${r.metric}`)
    .sort();

describe('Environment construction', () => {
  it('creates the routes the kernel adds for device addresses', () => {
    const env = Environment.fromSpec({ devices: [{ name: 'eth0', ifindex: 2, addrs: ['192.168.1.10/24', 'fd00::10/64'] }] });
    expect(routesOf(env, 2)).toEqual([
      'local broadcast 192.168.1.255/32 metric 0',
      'local local 192.168.1.10/32 metric 0',
      'local local fd00::10/128 metric 0',
      'main unicast 192.168.1.0/24 metric 0',
      'main unicast fd00::/64 metric 256',
    ]);
  });

  it('gives every namespace a loopback device with ifindex 1 and numbers devices after it', () => {
    const env = Environment.fromSpec({ netns: ['pod'], devices: [{ name: 'eth0' }, { name: 'eth0', netns: 'pod' }, { name: 'eth1' }] });
    expect(env.state.devices.map((d) => `${env.netnsById(d.netns)!.name}/${d.name}#${d.ifindex}`)).toEqual([
      'init/lo#1',
      'pod/lo#1',
      'init/eth0#2',
      'pod/eth0#2',
      'init/eth1#3',
    ]);
  });

  it('names the entry and field of a bad scenario value', () => {
    expect(() => Environment.fromSpec({ devices: [{ name: 'eth0', addrs: ['10.0.0.300/24'] }] })).toThrow(/devices\[0\] \(eth0\).*10\.0\.0\.300/);
    expect(() => Environment.fromSpec({ devices: [{ name: 'eth0' }], routes: [{ dst: '10.0.0.0/8', via: '192.168.9.9' }] })).toThrow(/routes\[0\].*not on a connected network/);
    expect(() => Environment.fromSpec({ routes: [{ dst: '10.0.0.1/8', dev: 'lo' }] })).toThrow(/host bits/);
    expect(() => Environment.fromSpec({ neighbours: [{ ip: '10.0.0.1', mac: 'zz', dev: 'lo' }] })).toThrow(/neighbours\[0\].*mac/);
    expect(() => Environment.fromSpec({ devices: [{ name: 'eth0', ifindex: 1 }] })).toThrow(/ifindex 1 is taken/);
  });

  it('survives a msgpackr snapshot: the restored world answers lookups and draws numbers as the original', () => {
    const spec = {
      devices: [{ name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01', addrs: ['192.168.1.10/24'] }],
      routes: [{ dst: '10.0.0.0/8', via: '192.168.1.1', dev: 'eth0' }],
      neighbours: [{ ip: '192.168.1.1', mac: '02:00:00:00:00:fe', dev: 'eth0' }],
      sockets: [{ protocol: 'tcp' as const, local: '0.0.0.0:80' }],
      seed: 7,
    };
    const a = Environment.fromSpec(spec);
    a.prandomU32();
    a.advance(5_000_000_000n);
    a.socketCookie(1);
    const b = Environment.restore(unpack(pack(a.snapshot())));
    const q = { ifindex: 2, dst: '10.1.2.3' };
    expect(fibLookup(b, q, 0, { kind: 'xdp' })).toEqual(fibLookup(a, q, 0, { kind: 'xdp' }));
    expect([b.prandomU32(), b.prandomU32()]).toEqual([a.prandomU32(), a.prandomU32()]);
    expect(b.state.clock).toEqual(a.state.clock);
    expect(b.socketCookie(1)).toBe(1n);
  });
});

describe('cookies', () => {
  it('hands out socket cookies lazily from one counter shared by all namespaces, starting at 1', () => {
    const env = Environment.fromSpec({
      netns: ['pod'],
      sockets: [
        { protocol: 'tcp', local: '0.0.0.0:80' },
        { protocol: 'udp', local: '0.0.0.0:53', netns: 'pod' },
        { protocol: 'tcp', local: '0.0.0.0:443' },
      ],
    });
    expect(env.socketCookie(3)).toBe(1n);
    expect(env.socketCookie(2)).toBe(2n);
    expect(env.socketCookie(3)).toBe(1n);
    expect(env.socketCookie(1)).toBe(3n);
  });

  it('numbers namespaces from the init namespace cookie on', () => {
    const env = Environment.fromSpec({ netns: ['a', 'b'], initNetnsCookie: 1 });
    expect([0, 1, 2].map((id) => env.netnsCookie(id))).toEqual([1n, 2n, 3n]);
  });
});
