// The socket-level load balancer (bpf/kpr/sock.c) on emulated sockets: what an application
// sees when it talks to ClusterIP and NodePort services through the cgroup hooks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { formatEndpoint, SocketHost } from '../../src/sockets/socket-host.js';
import { exampleCluster, type LbMaps } from './sock-lb-fixture.js';

const object = new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/obj/kpr/sock.o')));
const EHOSTUNREACH = 113;
const text = (s: string) => new TextEncoder().encode(s);

// The example cluster of sock-lb-fixture.ts on a node with eth0 10.0.0.7/24, fd00::7/64.
async function cluster(seed = 1): Promise<{ host: SocketHost; lb: LbMaps }> {
  const runner = await CtxRunner.fromObject(object, {
    name: 'sock.o',
    environment: { seed, devices: [{ name: 'eth0', ifindex: 2, addrs: ['10.0.0.7/24', 'fd00::7/64'] }] },
  });
  const lb = exampleCluster(runner.bed);
  return { host: new SocketHost(runner), lb };
}

const ep = (e: { addr: string; port: number } | undefined) => (e ? formatEndpoint(e) : undefined);

describe('socket-level ClusterIP (bpf/kpr/sock.c)', () => {
  it('a TCP connect to a ClusterIP connects to the backend, and getpeername shows the ClusterIP', async () => {
    const { host } = await cluster();
    const s = host.socket('tcp');
    const c = s.connect('10.96.0.20:80');
    expect(c.errno).toBe(0);
    expect(ep(s.peer)).toBe('10.244.1.6:8080'); // where the kernel connects
    expect(ep(s.getpeername().value)).toBe('10.96.0.20:80'); // what the application is told
    // the reverse entry is this socket's: cookie + backend -> service and its rev-NAT index
    expect(host.runner.bed.typedMap('lb4_reverse_sk').get({ cookie: s.cookie, address: '10.244.1.6', port: 8080 })).toEqual({ address: '10.96.0.20', port: 80, rev_nat_index: 1 });
  });

  it('a UDP DNS query through sendmsg4 reaches the backend, and recvmsg4 shows the reply from the ClusterIP', async () => {
    const { host } = await cluster();
    const s = host.socket('udp');
    const sent = s.sendmsg(text('query'), '10.96.0.10:53');
    expect(sent.errno).toBe(0);
    expect(ep(sent.value!.to)).toBe('10.244.1.5:5353');
    s.deliver('10.244.1.5:5353', text('answer'));
    const got = s.recvmsg();
    expect(ep(got.value!.from)).toBe('10.96.0.10:53');
    expect(got.hooks.map((h) => h.program)).toEqual(['sock4_recvmsg']);
    // a datagram from somewhere this socket never sent to through a service stays as it is
    s.deliver('10.244.9.9:5353', text('stray'));
    expect(ep(s.recvmsg().value!.from)).toBe('10.244.9.9:5353');
  });

  it('looks services up by the socket protocol: a UDP-only VIP translates a UDP connect but not a TCP one', async () => {
    const { host } = await cluster();
    const u = host.socket('udp');
    expect(u.connect('10.96.0.10:53').errno).toBe(0);
    expect(ep(u.peer)).toBe('10.244.1.5:5353');
    expect(ep(u.getpeername().value)).toBe('10.96.0.10:53');
    const t = host.socket('tcp');
    t.connect('10.96.0.10:53');
    expect(ep(t.peer)).toBe('10.96.0.10:53');
  });

  it('translates IPv6 ClusterIPs the same way: TCP connect + getpeername6, UDP sendmsg6 + recvmsg6', async () => {
    const { host } = await cluster();
    const t = host.socket('tcp', 6);
    expect(t.connect('[fd00:96::20]:80').errno).toBe(0);
    expect(ep(t.peer)).toBe('[fd00:244::6]:8080');
    expect(ep(t.getpeername().value)).toBe('[fd00:96::20]:80');
    const u = host.socket('udp', 6);
    expect(ep(u.sendmsg(text('q'), '[fd00:96::10]:53').value!.to)).toBe('[fd00:244::5]:5353');
    u.deliver('[fd00:244::5]:5353', text('a'));
    expect(ep(u.recvmsg().value!.from)).toBe('[fd00:96::10]:53');
  });

  it('translates an IPv4-mapped address on an IPv6 socket through the IPv4 services', async () => {
    const { host } = await cluster();
    const t = host.socket('tcp', 6);
    expect(t.connect('[::ffff:10.96.0.20]:80').errno).toBe(0);
    expect(ep(t.peer)).toBe('[::ffff:10.244.1.6]:8080');
    expect(ep(t.getpeername().value)).toBe('[::ffff:10.96.0.20]:80');
    expect(host.runner.bed.typedMap('lb4_reverse_sk').get({ cookie: t.cookie, address: '10.244.1.6', port: 8080 })).toMatchObject({ address: '10.96.0.20' });
    const u = host.socket('udp', 6);
    expect(ep(u.sendmsg(text('q'), '[::ffff:10.96.0.10]:53').value!.to)).toBe('[::ffff:10.244.1.5]:5353');
    u.deliver('[::ffff:10.244.1.5]:5353', text('a'));
    expect(ep(u.recvmsg().value!.from)).toBe('[::ffff:10.96.0.10]:53');
  });

  it('reaches a NodePort on loopback and on the node addresses, and only there and only in the NodePort range', async () => {
    const { host } = await cluster();
    for (const [to, backend] of [
      ['127.0.0.1:30080', '10.244.1.7:80'],
      ['10.0.0.7:30080', '10.244.1.7:80'],
      ['[::1]:30080', '[fd00:244::7]:80'],
      ['[fd00::7]:30080', '[fd00:244::7]:80'],
    ]) {
      const s = host.socket('tcp', to.startsWith('[') ? 6 : 4);
      expect(s.connect(to).errno).toBe(0);
      expect(ep(s.peer), to).toBe(backend);
      expect(ep(s.getpeername().value), to).toBe(to); // the address the application dialled
    }
    // not a local address: a NodePort of another host is the tc datapath's business, not ours
    const remote = host.socket('tcp');
    remote.connect('10.0.0.99:30080');
    expect(ep(remote.peer)).toBe('10.0.0.99:30080');
    // a NodePort service only exists on its port
    const other = host.socket('tcp');
    other.connect('127.0.0.1:8080');
    expect(ep(other.peer)).toBe('127.0.0.1:8080');
  });

  it('fails connect and sendmsg to a service without backends with EHOSTUNREACH', async () => {
    const { host, lb } = await cluster();
    const s = host.socket('tcp');
    const c = s.connect('10.96.0.30:80');
    expect(c.errno).toBe(-EHOSTUNREACH);
    expect(c.hooks[0]).toMatchObject({ program: 'sock4_connect', allowed: false, retval: -EHOSTUNREACH });
    expect(s.peer).toBeUndefined();
    const u = host.socket('udp', 6);
    expect(u.sendmsg(text('q'), '[fd00:96::30]:53').errno).toBe(-EHOSTUNREACH);
    expect(u.sent).toEqual([]);
    expect(host.runner.bed.typedMap('lb4_reverse_sk').entries()).toEqual([]);
  });

  it('falls back to a protocol-agnostic service entry (proto 0) for either protocol', async () => {
    const { host, lb } = await cluster();
    lb.addService({ addr: '10.96.0.60', port: 443, proto: 'any', revNatIndex: 11, backends: [{ addr: '10.244.3.1', port: 8443 }] });
    const t = host.socket('tcp');
    t.connect('10.96.0.60:443');
    const u = host.socket('udp');
    u.sendmsg(text('q'), '10.96.0.60:443');
    expect([ep(t.peer), ep(u.sent[0].to)]).toEqual(['10.244.3.1:8443', '10.244.3.1:8443']);
    // the reverse side finds the service the same way
    expect(ep(t.getpeername().value)).toBe('10.96.0.60:443');
  });

  it('spreads sockets over every backend at random, and the same seed makes the same choices', async () => {
    const choices = async (seed: number) => {
      const { host } = await cluster(seed);
      return Array.from({ length: 400 }, () => {
        const s = host.socket('tcp');
        s.connect('10.96.0.40:80');
        return s.peer!.addr;
      });
    };
    const a = await choices(7);
    const counts = new Map<string, number>();
    for (const addr of a) counts.set(addr, (counts.get(addr) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual(['10.244.2.1', '10.244.2.2', '10.244.2.3', '10.244.2.4']);
    // uniform: each backend near 100 of 400 (a binomial spread of about 9)
    for (const n of counts.values()) expect(n).toBeGreaterThan(60), expect(n).toBeLessThan(140);
    expect(await choices(7)).toEqual(a);
    expect(await choices(8)).not.toEqual(a);
  });

  it('with session affinity sends every socket of one network namespace to the same backend', async () => {
    const { host } = await cluster();
    const picked = new Set(
      Array.from({ length: 50 }, () => {
        const s = host.socket('tcp');
        s.connect('10.96.0.50:80');
        return s.peer!.addr;
      }),
    );
    expect(picked.size).toBe(1);
    expect([...picked][0]).toMatch(/^10\.244\.2\.[1-4]$/);
  });

  it('shows the backend again, and drops the reverse entry, once the service is gone', async () => {
    const { host } = await cluster();
    const s = host.socket('udp');
    s.sendmsg(text('q'), '10.96.0.10:53');
    const rev = host.runner.bed.typedMap('lb4_reverse_sk');
    expect(rev.entries()).toHaveLength(1);
    host.runner.bed.typedMap('lb4_services').delete({ address: '10.96.0.10', dport: 53, backend_slot: 0, proto: 17, scope: 0 });
    s.deliver('10.244.1.5:5353', text('late'));
    expect(ep(s.recvmsg().value!.from)).toBe('10.244.1.5:5353');
    expect(rev.entries()).toEqual([]);
  });
});
