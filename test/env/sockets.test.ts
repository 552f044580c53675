import { describe, expect, it } from 'vitest';
import { Environment } from '../../src/env/environment.js';
import { skLookup, skLookupRaw } from '../../src/env/sockets.js';

const v4 = (s: string) => Uint8Array.from(s.split('.').map(Number));
const tuple4 = (saddr: string, sport: number, daddr: string, dport: number) => {
  const b = new Uint8Array(12);
  b.set(v4(saddr), 0);
  b.set(v4(daddr), 4);
  b[8] = sport >> 8;
  b[9] = sport & 0xff;
  b[10] = dport >> 8;
  b[11] = dport & 0xff;
  return b;
};

describe('bpf_sk_lookup_tcp / _udp', () => {
  const env = Environment.fromSpec({
    netns: ['pod'],
    devices: [{ name: 'eth0', ifindex: 2, addrs: ['10.0.0.1/24'] }],
    sockets: [
      { protocol: 'tcp', local: '0.0.0.0:80' }, // 1
      { protocol: 'tcp', local: '10.0.0.1:80', remote: '10.0.0.9:40000' }, // 2
      { protocol: 'tcp', local: '10.0.0.1:80' }, // 3: listener on the exact address
      { protocol: 'udp', local: '0.0.0.0:53' }, // 4
      { protocol: 'udp', local: '10.0.0.1:53', remote: '10.0.0.9:5000' }, // 5
      { protocol: 'tcp', local: '[::]:8080' }, // 6: dual stack
      { protocol: 'tcp', local: '0.0.0.0:80', netns: 'pod' }, // 7
    ],
  });
  const caller = { netns: 0, ifindex: 2 };
  const current = BigInt.asUintN(64, -1n); // BPF_F_CURRENT_NETNS

  it('finds the established socket before any listener', () => {
    expect(skLookupRaw(env, 'tcp', tuple4('10.0.0.9', 40000, '10.0.0.1', 80), 12, current, 0n, caller)).toBe(2);
  });

  it('prefers a listener bound to the address over a wildcard one', () => {
    expect(skLookupRaw(env, 'tcp', tuple4('10.0.0.8', 40000, '10.0.0.1', 80), 12, current, 0n, caller)).toBe(3);
    expect(skLookupRaw(env, 'tcp', tuple4('10.0.0.8', 40000, '10.0.0.2', 80), 12, current, 0n, caller)).toBe(1);
  });

  it('lets a dual-stack IPv6 listener take IPv4 connections', () => {
    expect(skLookupRaw(env, 'tcp', tuple4('10.0.0.8', 40000, '10.0.0.1', 8080), 12, current, 0n, caller)).toBe(6);
  });

  it('matches a connected UDP socket only from its peer', () => {
    expect(skLookupRaw(env, 'udp', tuple4('10.0.0.9', 5000, '10.0.0.1', 53), 12, current, 0n, caller)).toBe(5);
    expect(skLookupRaw(env, 'udp', tuple4('10.0.0.7', 5000, '10.0.0.1', 53), 12, current, 0n, caller)).toBe(4);
  });

  it('looks in another namespace by id, and returns NULL for an unknown one', () => {
    expect(skLookupRaw(env, 'tcp', tuple4('10.0.0.9', 1, '10.9.9.9', 80), 12, 1n, 0n, caller)).toBe(7);
    expect(skLookupRaw(env, 'tcp', tuple4('10.0.0.9', 1, '10.9.9.9', 80), 12, 9n, 0n, caller)).toBe(0);
  });

  it('returns NULL for a tuple size that is neither ipv4 nor ipv6, for flags, and for netns ids above S32_MAX', () => {
    const t = tuple4('10.0.0.9', 40000, '10.0.0.1', 80);
    expect(skLookupRaw(env, 'tcp', t, 13, current, 0n, caller)).toBe(0);
    expect(skLookupRaw(env, 'tcp', t, 12, current, 1n, caller)).toBe(0);
    expect(skLookupRaw(env, 'tcp', t, 12, 0x1_0000_0000n, 0n, caller)).toBe(0);
  });

  it('finds nothing on a port without sockets', () => {
    expect(skLookup(env, 'tcp', { family: 4, saddr: v4('1.2.3.4'), daddr: v4('10.0.0.1'), sport: 1, dport: 81 }, 0)).toBeUndefined();
  });
});
