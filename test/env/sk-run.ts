// Runs an sk-world.ts case through src/env/sockets.ts, in the form the kernel answers are recorded.
import { formatIP, parseIP } from '../../src/env/addr.js';
import { Environment } from '../../src/env/environment.js';
import { skLookupRaw } from '../../src/env/sockets.js';
import { type SkAnswer, type SkCase, describeSocket, sockWorld } from './sk-world.js';

export function tupleBytes(c: SkCase): Uint8Array {
  const s = parseIP(c.saddr).addr;
  const d = parseIP(c.daddr).addr;
  const b = new Uint8Array(36);
  b.set(s, 0);
  b.set(d, s.length);
  const o = 2 * s.length;
  b.set([c.sport >> 8, c.sport & 0xff, c.dport >> 8, c.dport & 0xff], o);
  return b;
}

export function defaultLen(c: SkCase): number {
  return c.len ?? (c.family === 4 ? 12 : 36);
}

export function emulate(c: SkCase): SkAnswer {
  const env = Environment.fromSpec(sockWorld);
  const proto = c.prog === 'sk_udp' ? 'udp' : 'tcp';
  // test_run runs the program on the namespace's lo (ifindex 1).
  const id = skLookupRaw(env, proto, tupleBytes(c), defaultLen(c), c.netns ?? BigInt.asUintN(64, -1n), c.flags ?? 0n, { netns: 0, ifindex: 1 });
  return describeSocket(id ? env.socketById(id) : undefined, c.name, formatIP);
}
