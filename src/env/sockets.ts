// Socket lookups for bpf_sk_lookup_tcp (84), bpf_sk_lookup_udp (85) and bpf_skc_lookup_tcp
// (99): net/core/filter.c __bpf_skc_lookup / __bpf_sk_lookup, then the stack's own lookups
// (net/ipv4/inet_hashtables.c __inet_lookup: established, then listeners scored by
// compute_score; net/ipv4/udp.c __udp4_lib_lookup: best compute_score). bpfbed has no request
// or time-wait sockets, so sk_lookup and skc_lookup find the same sockets.
import { type Family, bytesEqual } from './addr.js';
import type { Environment } from './environment.js';
import type { SocketProtocol, SocketStateData } from './types.js';

/** sizeof(struct bpf_sock_tuple.ipv4) and .ipv6 (include/uapi/linux/bpf.h). */
export const BPF_SOCK_TUPLE_IPV4_SIZE = 12;
export const BPF_SOCK_TUPLE_IPV6_SIZE = 36;

/** A lookup key from the packet's point of view: saddr/sport is the peer, daddr/dport is us. */
export interface SockTuple {
  family: Family;
  saddr: Uint8Array;
  daddr: Uint8Array;
  /** Host-order port numbers. */
  sport: number;
  dport: number;
}

export interface SkLookupCaller {
  /** The caller's namespace (dev_net(skb->dev), or the socket's for cgroup hooks). */
  netns: number;
  /** skb->dev->ifindex (0 for sock_addr programs): the `dif` that SO_BINDTODEVICE sockets must match. */
  ifindex: number;
}

/**
 * Decodes struct bpf_sock_tuple: the size selects the family (12 -> IPv4, 36 -> IPv6); any
 * other size makes the helpers return NULL.
 */
export function decodeSockTuple(bytes: Uint8Array, len: number): SockTuple | undefined {
  const be16 = (o: number) => (bytes[o] << 8) | bytes[o + 1];
  if (len === BPF_SOCK_TUPLE_IPV4_SIZE && bytes.length >= len) {
    return { family: 4, saddr: bytes.slice(0, 4), daddr: bytes.slice(4, 8), sport: be16(8), dport: be16(10) };
  }
  if (len === BPF_SOCK_TUPLE_IPV6_SIZE && bytes.length >= len) {
    return { family: 6, saddr: bytes.slice(0, 16), daddr: bytes.slice(16, 32), sport: be16(32), dport: be16(34) };
  }
  return undefined;
}

/**
 * The helpers' lookup on raw arguments: tuple bytes and `len`, `netnsId` (u64: negative as s32
 * = BPF_F_CURRENT_NETNS, the caller's namespace; else a namespace id, bpfbed's netns id standing
 * for the nsid), `flags` (must be 0). Returns the socket id, or 0 for NULL.
 */
export function skLookupRaw(
  env: Environment,
  protocol: SocketProtocol,
  tuple: Uint8Array,
  len: number,
  netnsId: bigint,
  flags: bigint,
  caller: SkLookupCaller,
): number {
  const t = decodeSockTuple(tuple, len);
  if (!t) return 0;
  const id = BigInt.asUintN(64, netnsId);
  const asS32 = Number(BigInt.asIntN(32, id));
  // `flags || !((s32)netns_id < 0 || netns_id <= S32_MAX)` -> NULL
  if (flags !== 0n || !(asS32 < 0 || id <= 0x7fffffffn)) return 0;
  let netns = caller.netns;
  if (asS32 >= 0) {
    if (!env.netnsById(Number(id))) return 0; // get_net_ns_by_id failed
    netns = Number(id);
  }
  return skLookup(env, protocol, t, netns, caller.ifindex)?.id ?? 0;
}

function isAny(a: Uint8Array): boolean {
  return a.every((x) => x === 0);
}

/** ::ffff:a.b.c.d, how a dual-stack IPv6 socket sees an IPv4 address. */
function v4Mapped(a: Uint8Array): Uint8Array {
  const m = new Uint8Array(16);
  m[10] = 0xff;
  m[11] = 0xff;
  m.set(a, 12);
  return m;
}

/** The socket's local address as seen by a lookup of family `family`, or undefined if it cannot match. */
function localAs(s: SocketStateData, family: Family): Uint8Array | undefined {
  if (s.family === family) return s.localAddr;
  if (family === 4 && s.family === 6 && !s.v6only) {
    if (isAny(s.localAddr)) return new Uint8Array(4);
    const a = s.localAddr;
    if (a.subarray(0, 10).every((x) => x === 0) && a[10] === 0xff && a[11] === 0xff) return a.slice(12);
  }
  return undefined;
}

/**
 * Finds the socket a packet with this tuple would be delivered to in namespace `netns`:
 * TCP: an established socket with the exact 4-tuple, else the best listener; UDP: the best
 * scoring socket (exact connected peer beats wildcard). Returns undefined for none.
 */
export function skLookup(env: Environment, protocol: SocketProtocol, t: SockTuple, netns: number, dif = 0): SocketStateData | undefined {
  const socks = env.state.sockets.filter((s) => s.netns === netns && s.protocol === protocol && s.localPort === t.dport);
  const devOk = (s: SocketStateData) => !s.boundIfindex || s.boundIfindex === dif;
  if (protocol === 'tcp') {
    const est = socks.find((s) => {
      if (s.state !== 'established' || !devOk(s)) return false;
      const local = localAs(s, t.family);
      const remote = s.family === t.family ? s.remoteAddr : t.family === 4 && s.family === 6 ? s.remoteAddr : undefined;
      if (!local || !remote) return false;
      const peer = s.family === t.family ? t.saddr : v4Mapped(t.saddr);
      return bytesEqual(local, t.daddr) && s.remotePort === t.sport && bytesEqual(remote, peer);
    });
    if (est) return est;
    return bestScore(socks.filter((s) => s.state === 'listen'), t, devOk, false);
  }
  return bestScore(socks, t, devOk, true);
}

/**
 * compute_score (inet_hashtables.c / udp.c): a family match, an exact local address, a
 * connected peer (UDP) and a bound device each add to the score; a mismatch excludes.
 */
function bestScore(socks: SocketStateData[], t: SockTuple, devOk: (s: SocketStateData) => boolean, udp: boolean): SocketStateData | undefined {
  let best: SocketStateData | undefined;
  let bestScore = -1;
  for (const s of socks) {
    if (!devOk(s)) continue;
    const local = localAs(s, t.family);
    if (!local) continue;
    let score = s.family === t.family ? 2 : 1;
    if (!isAny(local)) {
      if (!bytesEqual(local, t.daddr)) continue;
      score += 4;
    }
    if (udp && s.state === 'established') {
      const peer = s.family === t.family ? t.saddr : v4Mapped(t.saddr);
      if (!bytesEqual(s.remoteAddr, peer) || s.remotePort !== t.sport) continue;
      score += 8;
    }
    if (s.boundIfindex) score += 4;
    if (score > bestScore) {
      best = s;
      bestScore = score;
    }
  }
  return best;
}
