import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { formatEndpoint, SocketHost } from '../../src/sockets/socket-host.js';

const object = new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/obj/examples/sock_lb.o')));

let host: SocketHost;
beforeEach(async () => {
  const runner = await CtxRunner.fromObject(object, {
    name: 'sock_lb.o',
    environment: { devices: [{ name: 'eth0', ifindex: 2, addrs: ['10.0.0.7/24'] }] },
  });
  const services = runner.bed.typedMap('services');
  services.set({ vip: '10.96.0.10', port: 53 }, { backend: '10.0.1.5', backend_port: 53 });
  services.set({ vip: '10.96.0.20', port: 80 }, { backend: '10.0.1.6', backend_port: 8080 });
  host = new SocketHost(runner);
});

describe('socket-level ClusterIP translation on emulated sockets', () => {
  it('a UDP DNS query to the VIP goes to the backend, and the reply comes back from the VIP', () => {
    const s = host.socket('udp');
    const sent = s.sendmsg(new TextEncoder().encode('query'), '10.96.0.10:53');
    expect(sent.errno).toBe(0);
    expect(formatEndpoint(sent.value!.to)).toBe('10.0.1.5:53'); // what went on the wire
    expect(sent.hooks.map((h) => [h.hook, formatEndpoint(h.before), formatEndpoint(h.after)])).toEqual([['sendmsg4', '10.96.0.10:53', '10.0.1.5:53']]);
    // the reverse-NAT entry is keyed by this socket's cookie and the backend
    expect(host.runner.bed.typedMap('rev_nat').entries()).toEqual([
      { key: { cookie: s.cookie, addr: '10.0.1.5', port: 53, pad: 0 }, value: { vip: '10.96.0.10', port: 53, pad: 0 } },
    ]);
    s.deliver('10.0.1.5:53', new TextEncoder().encode('answer'));
    const got = s.recvmsg();
    expect(formatEndpoint(got.value!.from)).toBe('10.96.0.10:53'); // what the application sees
    expect(got.hooks[0]).toMatchObject({ hook: 'recvmsg4', program: 'sock4_recvmsg', allowed: true });
  });

  it('a TCP connect to the VIP connects to the backend, and getpeername shows the VIP', () => {
    const s = host.socket('tcp');
    const c = s.connect('10.96.0.20:80');
    expect(c.errno).toBe(0);
    expect(formatEndpoint(s.peer!)).toBe('10.0.1.6:8080');
    expect(formatEndpoint(s.getpeername().value!)).toBe('10.96.0.20:80');
    expect(formatEndpoint(s.local!)).toMatch(/^10\.0\.0\.7:\d+$/);
  });

  it('leaves addresses that are not services alone, and keeps sockets apart by cookie', () => {
    const a = host.socket('udp');
    const b = host.socket('udp');
    expect(a.cookie).not.toBe(b.cookie);
    a.sendmsg(new Uint8Array(1), '10.96.0.10:53');
    // b never sent to the VIP: a reply from the backend is shown as the backend
    b.sendmsg(new Uint8Array(1), '192.0.2.1:53');
    b.deliver('10.0.1.5:53', new Uint8Array(1));
    expect(formatEndpoint(b.recvmsg().value!.from)).toBe('10.0.1.5:53');
    expect(formatEndpoint(b.sent[0].to)).toBe('192.0.2.1:53');
  });
});
