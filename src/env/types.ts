// The emulated kernel's state as plain data: no closures, no class instances, only numbers,
// strings, booleans, arrays and Uint8Arrays, so that msgpackr (and structuredClone) can
// snapshot and restore it byte for byte. Addresses are bytes in network order.
import type { Family } from './addr.js';

/** A network namespace. `id` is bpfbed's handle; `cookie` is what bpf_get_netns_cookie returns. */
export interface NetnsState {
  id: number;
  name: string;
  cookie: number;
}

export interface DeviceAddrState {
  family: Family;
  addr: Uint8Array;
  prefixLen: number;
  /**
   * IPv4 only: IFA_F_SECONDARY, set when an earlier address on the device already covers this
   * one's subnet (net/ipv4/devinet.c __inet_insert_ifa); secondaries are never a source choice.
   */
  secondary: boolean;
}

export interface DeviceState {
  ifindex: number;
  name: string;
  netns: number;
  mac: Uint8Array;
  mtu: number;
  up: boolean;
  addrs: DeviceAddrState[];
  /** net.ipv4.conf.<dev>.forwarding / net.ipv6.conf.<dev>.forwarding. */
  forwardingV4: boolean;
  forwardingV6: boolean;
}

/** rtm_type values a route can have (include/uapi/linux/rtnetlink.h RTN_*). */
export type RouteType = 'unicast' | 'local' | 'broadcast' | 'blackhole' | 'unreachable' | 'prohibit' | 'throw';

export interface RouteState {
  netns: number;
  family: Family;
  table: number;
  type: RouteType;
  dst: Uint8Array;
  prefixLen: number;
  /** Nexthop gateway (same family as the route), absent for directly connected routes. */
  gateway?: Uint8Array;
  /** Nexthop device; 0 for blackhole/unreachable/prohibit/throw (the kernel uses lo for IPv6). */
  oif: number;
  /** RTA_PRIORITY: `metric` in `ip route`; shown to programs as bpf_fib_lookup.rt_metric. */
  metric: number;
  /** RTA_PREFSRC: `src` in `ip route`. */
  prefsrc?: Uint8Array;
  /** RTAX_MTU: `mtu [lock] N` in `ip route`. */
  mtu?: number;
  mtuLock: boolean;
  /**
   * Lightweight-tunnel encapsulation (`encap ...` in `ip route`): the bytes it adds. bpf_fib_lookup
   * cannot forward such routes (BPF_FIB_LKUP_RET_UNSUPP_LWT) but takes them off the MTU first.
   */
  encapHeadroom?: number;
  /** `scope link` for connected routes, `host` for local ones, `universe` otherwise. */
  scope: number;
  /** Created by the kernel for a device address (proto kernel), not by the scenario. */
  kernel: boolean;
}

/** Neighbour states (include/uapi/linux/neighbour.h NUD_*). */
export type NudState = 'permanent' | 'noarp' | 'reachable' | 'stale' | 'delay' | 'probe' | 'incomplete' | 'failed' | 'none';

export interface NeighbourState {
  netns: number;
  family: Family;
  ip: Uint8Array;
  mac: Uint8Array;
  ifindex: number;
  state: NudState;
}

/** A policy routing rule (`ip rule`): only the selectors bpf_fib_lookup can use. */
export interface RuleState {
  netns: number;
  family: Family;
  priority: number;
  table: number;
  fwmark?: number;
  fwmask: number;
}

export type SocketProtocol = 'tcp' | 'udp';
export type SocketState = 'listen' | 'established' | 'unconnected';

export interface SocketStateData {
  /** bpfbed's handle, what skLookup returns and the helper layer turns into a pointer. */
  id: number;
  /** sock_gen_cookie() value, from the one global counter. */
  cookie: number;
  netns: number;
  family: Family;
  protocol: SocketProtocol;
  state: SocketState;
  localAddr: Uint8Array;
  localPort: number;
  remoteAddr: Uint8Array;
  remotePort: number;
  /** SO_BINDTODEVICE ifindex, 0 when unbound. */
  boundIfindex: number;
  /** An IPv6 socket without IPV6_V6ONLY also takes IPv4 traffic (v4-mapped). */
  v6only: boolean;
}

export interface ClockState {
  /** CLOCK_MONOTONIC in nanoseconds. Clock values are bigint: wall-clock ns exceed 2^53. */
  monotonicNs: bigint;
  /** Time spent suspended: CLOCK_BOOTTIME = monotonic + this. */
  suspendedNs: bigint;
  /** CLOCK_REALTIME - CLOCK_MONOTONIC (the kernel's offs_real). */
  realtimeOffsetNs: bigint;
  /** TAI - UTC in seconds (the kernel's tai_offset, 0 until adjtimex(ADJ_TAI) sets it). */
  taiOffsetSec: number;
  /** CONFIG_HZ. */
  hz: number;
}

/** xoshiro128** state: four unsigned 32-bit words. */
export interface PrngState {
  seed: number;
  s: [number, number, number, number];
}

export interface EnvironmentState {
  netns: NetnsState[];
  devices: DeviceState[];
  routes: RouteState[];
  /** Routing tables that exist per netns and family ("netns:family:table"), even if empty. */
  tables: string[];
  neighbours: NeighbourState[];
  rules: RuleState[];
  sockets: SocketStateData[];
  /** Last value handed out by the socket cookie counter (global across namespaces). */
  lastSocketCookie: number;
  /** Last value handed out by the netns cookie counter. */
  lastNetnsCookie: number;
  nextSocketId: number;
  clock: ClockState;
  prng: PrngState;
}
