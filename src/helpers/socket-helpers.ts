// Socket lookups from programs (net/core/filter.c): bpf_sk_lookup_tcp (84), bpf_sk_lookup_udp
// (85), bpf_skc_lookup_tcp (99), bpf_sk_release (86) and bpf_sk_assign (124). The lookup itself
// is the environment's (src/env/sockets.ts, checked against the kernel); here a found socket
// becomes a pointer to a read-only struct bpf_sock in VM memory, one per socket, as the kernel
// returns the socket itself.
import { BPF_SOCK_SIZE, writeBpfSock, type BpfSockFields } from '../ctx/bpf-sock.js';
import type { Environment } from '../env/environment.js';
import { skLookupRaw, type SkLookupCaller } from '../env/sockets.js';
import type { SocketStateData } from '../env/types.js';
import type { Machine } from '../vm/machine.js';
import type { HostHelper } from '../vm/types.js';
import { HelperFault, HelperMemory } from './memory.js';

const AF_INET = 2;
const AF_INET6 = 10;
const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const EINVAL = 22;
const ESOCKTNOSUPPORT = 94;
// include/net/tcp_states.h
const TCP_STATE = { established: 1, listen: 10, unconnected: 7 } as Record<string, number>;

export interface SocketHelperDeps {
  machine: Machine;
  env: Environment;
  /** The caller's namespace and device for the lookup (dev_net(skb->dev), skb->dev->ifindex). */
  caller(progId: number): SkLookupCaller;
  /** bpf_sk_assign: records the socket (or none) assigned to the packet being processed. */
  onAssign?(socketId: number | undefined): void;
}

const u64 = (v: number) => BigInt.asUintN(64, BigInt(v));

function bpfSockOf(s: SocketStateData): BpfSockFields {
  return {
    family: s.family === 4 ? AF_INET : AF_INET6,
    type: s.protocol === 'tcp' ? SOCK_STREAM : SOCK_DGRAM,
    protocol: s.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
    srcIp: s.localAddr,
    srcPort: s.localPort,
    dstIp: s.remoteAddr,
    dstPort: s.remotePort,
    state: TCP_STATE[s.state] ?? 7,
    boundDevIf: s.boundIfindex,
  };
}

export function socketHelpers(deps: SocketHelperDeps): Map<number, HostHelper> {
  const { machine, env } = deps;
  const mem = new HelperMemory(machine);
  /** socket id -> wasm offset of its struct bpf_sock */
  const views = new Map<number, number>();
  const byAddress = new Map<bigint, number>();

  const pointerTo = (id: number): bigint => {
    const s = env.socketById(id);
    if (!s) return 0n;
    let off = views.get(id);
    if (off === undefined) {
      off = machine.alloc(BPF_SOCK_SIZE, 8);
      machine.addRegion(off, BPF_SOCK_SIZE, { kind: 'mem', name: `bpf_sock of socket ${id}`, read: true, write: false });
      views.set(id, off);
      byAddress.set(machine.toVirtual(off), id);
    }
    const b = machine.bytes();
    // refreshed at every lookup: the socket's state may have changed since
    writeBpfSock(new DataView(b.buffer, b.byteOffset, b.byteLength), off, bpfSockOf(s));
    return machine.toVirtual(off);
  };

  const lookup = (protocol: 'tcp' | 'udp', name: string): HostHelper => (call) => {
    const [, tupleAddr, size64, netns, flags] = call.args;
    const size = Number(BigInt.asUintN(32, size64));
    const tuple = mem.read(tupleAddr, size, `${name} tuple`);
    const id = skLookupRaw(env, protocol, tuple, size, netns, flags, deps.caller(call.progId));
    return id === 0 ? 0n : pointerTo(id);
  };

  return new Map<number, HostHelper>([
    [84, lookup('tcp', 'bpf_sk_lookup_tcp')],
    [85, lookup('udp', 'bpf_sk_lookup_udp')],
    // bpf_skc_lookup_tcp also returns request and time-wait sockets, which bpfbed does not model
    [99, lookup('tcp', 'bpf_skc_lookup_tcp')],
    // bpf_sk_release: drops the reference the lookup took; always 0
    [86, (call) => {
      if (!byAddress.has(call.args[0])) throw new HelperFault('helper', `bpf_sk_release: r1 is not a socket a lookup returned (the verifier would reject this call)`);
      return 0n;
    }],
    // bpf_sk_assign(skb, sk, flags): tc ingress steering to a local socket. flags must be 0;
    // sk NULL unassigns; a socket that is neither a listener nor UDP gets -ESOCKTNOSUPPORT.
    [124, (call) => {
      const [, sk, flags] = call.args;
      if (flags !== 0n) return u64(-EINVAL);
      if (sk === 0n) {
        deps.onAssign?.(undefined);
        return 0n;
      }
      const id = byAddress.get(sk);
      if (id === undefined) throw new HelperFault('helper', 'bpf_sk_assign: r2 is not a socket a lookup returned (the verifier would reject this call)');
      const s = env.socketById(id)!;
      if (s.protocol === 'tcp' && s.state !== 'listen' && s.state !== 'established') return u64(-ESOCKTNOSUPPORT);
      deps.onAssign?.(id);
      return 0n;
    }],
  ]);
}
