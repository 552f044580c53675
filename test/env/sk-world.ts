// The sockets hold-sockets.py opens in a namespace, as a bpfbed scenario, and the lookups that
// sk-kernel.test.ts runs against both (answers in sk-kernel-answers.json).
import type { EnvironmentSpec } from '../../src/env/environment.js';
import type { SocketStateData } from '../../src/env/types.js';

export const sockWorld: EnvironmentSpec = {
  devices: [{ name: 'veth0', ifindex: 2, addrs: ['10.0.0.1/32', '10.0.0.9/32', 'fd00::1/128', 'fd00::9/128'] }],
  sockets: [
    { protocol: 'tcp', local: '0.0.0.0:80' },
    { protocol: 'tcp', local: '10.0.0.1:80' },
    { protocol: 'tcp', local: '10.0.0.9:40000', remote: '10.0.0.1:80' },
    { protocol: 'tcp', local: '10.0.0.1:80', remote: '10.0.0.9:40000' },
    { protocol: 'udp', local: '0.0.0.0:53' },
    { protocol: 'udp', local: '10.0.0.1:53', remote: '10.0.0.9:5000' },
    { protocol: 'tcp', local: '[::]:8080' },
    { protocol: 'tcp', local: '[fd00::1]:443', v6only: true },
  ],
};

export interface SkCase {
  name: string;
  prog: 'sk_tcp' | 'sk_udp' | 'skc_tcp';
  /** "saddr:sport>daddr:dport" from the packet's point of view. */
  family: 4 | 6;
  saddr: string;
  sport: number;
  daddr: string;
  dport: number;
  len?: number;
  flags?: bigint;
  netns?: bigint;
}

const t = (name: string, prog: SkCase['prog'], saddr: string, sport: number, daddr: string, dport: number, extra: Partial<SkCase> = {}): SkCase => ({
  name,
  prog,
  family: saddr.includes(':') ? 6 : 4,
  saddr,
  sport,
  daddr,
  dport,
  ...extra,
});

export const skCases: SkCase[] = [
  t('tcp: the established socket of the 4-tuple', 'sk_tcp', '10.0.0.9', 40000, '10.0.0.1', 80),
  t('tcp: the other end of the same connection', 'sk_tcp', '10.0.0.1', 80, '10.0.0.9', 40000),
  t('tcp: a listener bound to the address beats the wildcard one', 'sk_tcp', '10.0.0.8', 40000, '10.0.0.1', 80),
  t('tcp: the wildcard listener for another local address', 'sk_tcp', '10.0.0.8', 1, '10.0.0.9', 80),
  t('tcp: a dual-stack IPv6 listener takes IPv4', 'sk_tcp', '10.0.0.8', 1, '10.0.0.1', 8080),
  t('tcp: IPv6 listener on its address', 'sk_tcp', 'fd00::9', 1, 'fd00::1', 443),
  t('tcp: IPv6 wildcard listener', 'sk_tcp', 'fd00::9', 1, 'fd00::1', 8080),
  t('tcp: a v6only listener does not take IPv4', 'sk_tcp', '10.0.0.8', 1, '10.0.0.1', 443),
  t('tcp: nothing on the port', 'sk_tcp', '10.0.0.8', 1, '10.0.0.1', 81),
  t('udp: the connected socket for its peer', 'sk_udp', '10.0.0.9', 5000, '10.0.0.1', 53),
  t('udp: the wildcard socket for another peer', 'sk_udp', '10.0.0.7', 5000, '10.0.0.1', 53),
  t('udp: tcp sockets are not found', 'sk_udp', '10.0.0.8', 1, '10.0.0.1', 80),
  t('skc: finds the established socket too', 'skc_tcp', '10.0.0.9', 40000, '10.0.0.1', 80),
  t('a tuple size of neither family finds nothing', 'sk_tcp', '10.0.0.9', 40000, '10.0.0.1', 80, { len: 13 }),
  t('nonzero flags find nothing', 'sk_tcp', '10.0.0.9', 40000, '10.0.0.1', 80, { flags: 1n }),
  t('a netns id above S32_MAX finds nothing', 'sk_tcp', '10.0.0.9', 40000, '10.0.0.1', 80, { netns: 0x1_0000_0000n }),
  t('an unknown netns id finds nothing', 'sk_tcp', '10.0.0.9', 40000, '10.0.0.1', 80, { netns: 77n }),
];

/** What the oracle program reports of a socket (struct bpf_sock fields). */
export interface SkAnswer {
  name: string;
  found: boolean;
  family?: number;
  state?: number;
  /** Local address and port, remote port, as text / host numbers. */
  local?: string;
  localPort?: number;
  remotePort?: number;
}

/** include/net/tcp_states.h: TCP_ESTABLISHED 1, TCP_CLOSE 7 (an unconnected UDP socket), TCP_LISTEN 10. */
export function describeSocket(s: SocketStateData | undefined, name: string, fmt: (a: Uint8Array) => string): SkAnswer {
  if (!s) return { name, found: false };
  return {
    name,
    found: true,
    family: s.family === 4 ? 2 : 10,
    state: s.state === 'listen' ? 10 : s.state === 'established' ? 1 : 7,
    local: fmt(s.localAddr),
    localPort: s.localPort,
    remotePort: s.remotePort,
  };
}
