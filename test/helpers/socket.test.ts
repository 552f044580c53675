import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { skbFromFrame } from '../../src/ctx/skb.js';

const object = new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/obj/helpers/socket.o')));

/** Ethernet + IPv4 + TCP SYN 10.0.0.1:40000 -> dst:port (checksums are not looked at). */
function syn(dst: number[], port: number): Uint8Array {
  const f = new Uint8Array(54);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, ...dst], 14);
  f.set([0x9c, 0x40, port >> 8, port & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff], 34);
  return f;
}

describe('socket lookups from tc', () => {
  it('finds the listening socket, shows it through struct bpf_sock, and assigns the packet to it', async () => {
    const runner = await CtxRunner.fromObject(object, {
      name: 'socket.o',
      environment: {
        devices: [{ name: 'eth0', ifindex: 2, addrs: ['10.0.1.5/24'] }],
        sockets: [{ protocol: 'tcp', local: '10.0.1.5:80' }],
      },
    });
    const res = runner.runSkb('steer_to_socket', skbFromFrame(syn([10, 0, 1, 5], 80), { ifindex: 2 }));
    expect(res.fault).toBeUndefined();
    expect(res.verdict.name).toBe('TC_ACT_OK');
    expect(res.assignedSocket).toBe(runner.bed.env.state.sockets[0].id);
    const bss = runner.bed.typedMap('socket.bss').get(0) as Record<string, number | bigint>;
    expect(bss).toMatchObject({ found_port: 80, found_state: 10 /* TCP_LISTEN */, assign_rc: 0n });
  });

  it('returns NULL when no socket matches, and the program drops', async () => {
    const runner = await CtxRunner.fromObject(object, { name: 'socket.o', environment: { devices: [{ name: 'eth0', ifindex: 2 }], sockets: [{ protocol: 'tcp', local: '10.0.1.5:80' }] } });
    expect(runner.runSkb('steer_to_socket', skbFromFrame(syn([10, 0, 1, 5], 81), { ifindex: 2 })).verdict.name).toBe('TC_ACT_SHOT');
  });
});
