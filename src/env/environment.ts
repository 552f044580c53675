// The emulated kernel around a program: namespaces, devices, routes, neighbours, rules,
// sockets, clock and randomness. All state lives in `env.state` (plain data, see types.ts), so
// `Environment.restore(env.snapshot())` round-trips through msgpackr or structuredClone.
//
// Construction follows what iproute2 and the kernel do with the same input: addresses create
// their `proto kernel` routes (net/ipv4/fib_frontend.c fib_add_ifaddr, net/ipv6/addrconf.c
// addrconf_prefix_route / the local /128), devices get the lowest free ifindex after the
// namespace's last one (net/core/dev.c dev_index_reserve), every namespace has `lo` as ifindex 1.
import {
  type Family,
  maskPrefix,
  parseIP,
  parseMac,
  parsePrefix,
  prefixContains,
  bytesEqual,
} from './addr.js';
import { advanceClock, createClock, jiffies64, ktimeGetBootNs, ktimeGetNs, ktimeGetTaiNs, suspendClock, type ClockOptions } from './clock.js';
import { createPrng, prandomU32 } from './prng.js';
import type {
  DeviceState,
  EnvironmentState,
  NeighbourState,
  NetnsState,
  NudState,
  RouteState,
  RouteType,
  RuleState,
  SocketProtocol,
  SocketState,
  SocketStateData,
} from './types.js';

/** include/uapi/linux/rtnetlink.h table ids. */
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

/** include/uapi/linux/rtnetlink.h enum rt_scope_t. */
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;

/** iproute2's default metric for `ip -6 route add` (IP6_RT_PRIO_USER) and for connected v6 prefixes (IP6_RT_PRIO_ADDRCONF). */
export const IP6_RT_PRIO_USER = 1024;
export const IP6_RT_PRIO_ADDRCONF = 256;

export const INIT_NETNS = 0;

export interface DeviceSpec {
  name: string;
  ifindex?: number;
  mac?: string;
  /** "192.168.1.10/24", "fd00::10/64" (a bare address is a host prefix). */
  addrs?: string[];
  mtu?: number;
  up?: boolean;
  /** Namespace name; the init namespace when absent. */
  netns?: string;
  /** Forwarding for this device, both families (default true: a node that routes, as a Cilium node does). */
  forwarding?: boolean | { v4?: boolean; v6?: boolean };
}

export interface RouteSpec {
  /** "10.0.0.0/8", "fd00::/64", "default" (IPv4 unless `family: 6`). */
  dst: string;
  family?: Family;
  via?: string;
  dev?: string;
  type?: RouteType;
  /** Table id or name (main, local, default). */
  table?: number | 'main' | 'local' | 'default';
  metric?: number;
  src?: string;
  mtu?: number;
  /** `mtu lock N`: the route MTU applies to forwarded IPv4 packets too (ip_mtu_from_fib_result). */
  mtuLock?: boolean;
  /** A lightweight-tunnel encapsulation and the headroom it needs (e.g. seg6 encap with one segment: 64). */
  encap?: { headroom: number };
  netns?: string;
}

export interface NeighbourSpec {
  ip: string;
  /** Link-layer address; may be left out for `incomplete` / `failed` entries. */
  mac?: string;
  dev: string;
  state?: NudState;
  netns?: string;
}

export interface RuleSpec {
  priority: number;
  table: number | 'main' | 'local' | 'default';
  fwmark?: number;
  fwmask?: number;
  family?: Family;
  netns?: string;
}

export interface SocketSpec {
  protocol: SocketProtocol;
  /** "10.0.0.1:80", "[fd00::1]:53", "0.0.0.0:80", "[::]:80". */
  local: string;
  /** Peer for a connected socket. */
  remote?: string;
  /** Default: `listen` for TCP without a peer, `established` with one, `unconnected` for UDP without a peer. */
  state?: SocketState;
  netns?: string;
  v6only?: boolean;
  /** SO_BINDTODEVICE by device name. */
  boundDev?: string;
}

export interface EnvironmentSpec {
  /** Namespaces besides the init namespace, in creation order. */
  netns?: string[];
  devices?: DeviceSpec[];
  routes?: RouteSpec[];
  neighbours?: NeighbourSpec[];
  rules?: RuleSpec[];
  sockets?: SocketSpec[];
  clock?: ClockOptions;
  /** Seed of bpf_get_prandom_u32's generator (default 1). */
  seed?: number;
  /** bpf_get_netns_cookie of the init namespace (default 1: init_net is the first namespace the counter numbers). */
  initNetnsCookie?: number;
}

export class EnvironmentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EnvironmentError';
  }
}

const TABLE_NAMES: Record<string, number> = { main: RT_TABLE_MAIN, local: RT_TABLE_LOCAL, default: RT_TABLE_DEFAULT };

function tableId(t: number | string | undefined, where: string): number {
  if (t === undefined) return RT_TABLE_MAIN;
  const id = typeof t === 'number' ? t : TABLE_NAMES[t];
  if (id === undefined || !Number.isInteger(id) || id < 1 || id > 0xffffffff) throw new EnvironmentError(`${where}: unknown table ${String(t)}`);
  return id;
}

export function tableKey(netns: number, family: Family, table: number): string {
  return `${netns}:${family}:${table}`;
}

export class Environment {
  state: EnvironmentState;
  /**
   * Bumped whenever routes change through these methods, so lookups can keep a sorted index.
   * Code that edits `state.routes` entries in place must call `routesChanged()`.
   */
  routesVersion = 0;

  constructor(state?: EnvironmentState) {
    this.state = state ?? Environment.emptyState(1, 1);
    if (!state) this.addNetns('init', this.state.lastNetnsCookie, true);
  }

  private static emptyState(seed: number, initCookie: number): EnvironmentState {
    return {
      netns: [],
      devices: [],
      routes: [],
      tables: [],
      neighbours: [],
      rules: [],
      sockets: [],
      lastSocketCookie: 0,
      lastNetnsCookie: initCookie,
      nextSocketId: 1,
      clock: createClock(),
      prng: createPrng(seed),
    };
  }

  /** Builds the world a scenario describes. Errors name the entry and field that is wrong. */
  static fromSpec(spec: EnvironmentSpec): Environment {
    const initCookie = spec.initNetnsCookie ?? 1;
    const env = new Environment(Environment.emptyState(spec.seed ?? 1, initCookie));
    env.addNetns('init', initCookie, true);
    if (spec.clock) env.state.clock = createClock(spec.clock);
    for (const name of spec.netns ?? []) env.addNetns(name);
    (spec.devices ?? []).forEach((d, i) => env.addDevice(d, `devices[${i}] (${d.name})`));
    (spec.routes ?? []).forEach((r, i) => env.addRoute(r, `routes[${i}] (${r.dst})`));
    (spec.neighbours ?? []).forEach((n, i) => env.addNeighbour(n, `neighbours[${i}] (${n.ip})`));
    (spec.rules ?? []).forEach((r, i) => env.addRule(r, `rules[${i}]`));
    (spec.sockets ?? []).forEach((s, i) => env.addSocket(s, `sockets[${i}] (${s.local})`));
    return env;
  }

  /** The state to hand to msgpackr / structuredClone. */
  snapshot(): EnvironmentState {
    return this.state;
  }

  static restore(state: EnvironmentState): Environment {
    return new Environment(state);
  }

  // ---- namespaces -------------------------------------------------------------------------

  /** Creates a namespace with its `lo` (ifindex 1, 127.0.0.1/8, ::1/128, up). */
  addNetns(name: string, cookie?: number, isInit = false): NetnsState {
    if (this.state.netns.some((n) => n.name === name)) throw new EnvironmentError(`netns "${name}" already exists`);
    const ns: NetnsState = {
      id: isInit ? INIT_NETNS : this.state.netns.length,
      name,
      cookie: cookie ?? ++this.state.lastNetnsCookie,
    };
    this.state.netns.push(ns);
    for (const family of [4, 6] as const) {
      this.ensureTable(ns.id, family, RT_TABLE_MAIN);
      this.ensureTable(ns.id, family, RT_TABLE_LOCAL);
    }
    this.addDevice({ name: 'lo', ifindex: 1, mac: '00:00:00:00:00:00', addrs: ['127.0.0.1/8', '::1/128'], mtu: 65536, netns: name }, `netns ${name}: lo`);
    return ns;
  }

  netnsByName(name: string | undefined, where: string): NetnsState {
    const ns = name === undefined ? this.state.netns[INIT_NETNS] : this.state.netns.find((n) => n.name === name);
    if (!ns) throw new EnvironmentError(`${where}: no netns "${name}"`);
    return ns;
  }

  netnsById(id: number): NetnsState | undefined {
    return this.state.netns.find((n) => n.id === id);
  }

  // ---- devices ----------------------------------------------------------------------------

  deviceByIndex(netns: number, ifindex: number): DeviceState | undefined {
    // A loop, not find(): bpf_fib_lookup asks several times per call.
    for (const d of this.state.devices) if (d.netns === netns && d.ifindex === ifindex) return d;
    return undefined;
  }

  deviceByName(netns: number, name: string): DeviceState | undefined {
    return this.state.devices.find((d) => d.netns === netns && d.name === name);
  }

  private deviceNamed(netns: number, name: string, where: string): DeviceState {
    const d = this.deviceByName(netns, name);
    if (!d) throw new EnvironmentError(`${where}: no device "${name}" in netns ${this.netnsById(netns)?.name}`);
    return d;
  }

  addDevice(spec: DeviceSpec, where = `device ${spec.name}`): DeviceState {
    const ns = this.netnsByName(spec.netns, where);
    if (!spec.name || spec.name.length > 15) throw new EnvironmentError(`${where}: name must be 1..15 characters (IFNAMSIZ)`);
    if (this.deviceByName(ns.id, spec.name)) throw new EnvironmentError(`${where}: netns ${ns.name} already has a device "${spec.name}"`);
    const used = this.state.devices.filter((d) => d.netns === ns.id).map((d) => d.ifindex);
    const ifindex = spec.ifindex ?? Math.max(1, ...used) + 1;
    if (!Number.isInteger(ifindex) || ifindex < 1 || ifindex > 0x7fffffff) throw new EnvironmentError(`${where}: ifindex ${ifindex} is not a positive 31-bit integer`);
    if (used.includes(ifindex)) throw new EnvironmentError(`${where}: ifindex ${ifindex} is taken in netns ${ns.name}`);
    const mtu = spec.mtu ?? 1500;
    if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65536) throw new EnvironmentError(`${where}: mtu ${mtu} is outside 68..65536`);
    const fwd = spec.forwarding ?? true;
    const dev: DeviceState = {
      ifindex,
      name: spec.name,
      netns: ns.id,
      mac: spec.mac ? parseMac(spec.mac, `${where}: mac`) : Uint8Array.from([0x02, 0, 0, ns.id & 0xff, (ifindex >> 8) & 0xff, ifindex & 0xff]),
      mtu,
      up: spec.up ?? true,
      addrs: [],
      forwardingV4: typeof fwd === 'boolean' ? fwd : (fwd.v4 ?? true),
      forwardingV6: typeof fwd === 'boolean' ? fwd : (fwd.v6 ?? true),
    };
    this.state.devices.push(dev);
    for (const a of spec.addrs ?? []) this.addAddress(dev, a, `${where}: address ${a}`);
    return dev;
  }

  /** `ip addr add`: the address plus the routes the kernel creates for it. */
  addAddress(dev: DeviceState, text: string, where = `address ${text}`): void {
    const p = parsePrefix(text, where);
    const isLo = dev.name === 'lo';
    const secondary =
      p.family === 4 && dev.addrs.some((a) => a.family === 4 && !a.secondary && a.prefixLen === p.prefixLen && prefixContains(a.addr, a.prefixLen, p.addr));
    dev.addrs.push({ family: p.family, addr: p.addr, prefixLen: p.prefixLen, secondary });
    const base = { netns: dev.netns, family: p.family, oif: dev.ifindex, mtuLock: false, kernel: true };
    const max = p.family === 4 ? 32 : 128;
    // The address itself: `local ADDR dev DEV table local scope host`.
    this.pushRoute({ ...base, table: RT_TABLE_LOCAL, type: 'local', dst: p.addr, prefixLen: max, metric: 0, scope: RT_SCOPE_HOST, prefsrc: p.family === 4 ? p.addr : undefined });
    if (p.family === 4) {
      // fib_add_ifaddr: the prefix route (local on loopback) and the subnet broadcast below /31.
      const net = maskPrefix(p.addr, p.prefixLen);
      if (secondary || (p.prefixLen === 32 && bytesEqual(net, p.addr))) return;
      const isZeronet = net[0] === 0;
      if (!isZeronet) {
        this.pushRoute({
          ...base,
          table: isLo ? RT_TABLE_LOCAL : RT_TABLE_MAIN,
          type: isLo ? 'local' : 'unicast',
          dst: net,
          prefixLen: p.prefixLen,
          metric: 0,
          scope: isLo ? RT_SCOPE_HOST : RT_SCOPE_LINK,
          prefsrc: p.addr,
        });
        if (p.prefixLen < 31) {
          const brd = Uint8Array.from(net, (b, i) => b | (~maskPrefix(new Uint8Array(4).fill(0xff), p.prefixLen)[i] & 0xff));
          this.pushRoute({ ...base, table: RT_TABLE_LOCAL, type: 'broadcast', dst: brd, prefixLen: 32, metric: 0, scope: RT_SCOPE_LINK, prefsrc: p.addr });
        }
      }
    } else if (p.prefixLen < 128) {
      // addrconf_prefix_route: `PREFIX/LEN dev DEV proto kernel metric 256`.
      this.pushRoute({ ...base, table: RT_TABLE_MAIN, type: 'unicast', dst: maskPrefix(p.addr, p.prefixLen), prefixLen: p.prefixLen, metric: IP6_RT_PRIO_ADDRCONF, scope: RT_SCOPE_UNIVERSE });
    }
  }

  setDeviceUp(netns: number, name: string, up: boolean): void {
    this.deviceNamed(netns, name, `set ${name} ${up ? 'up' : 'down'}`).up = up;
  }

  // ---- routes, rules, neighbours ----------------------------------------------------------

  private ensureTable(netns: number, family: Family, table: number): void {
    const k = tableKey(netns, family, table);
    if (!this.state.tables.includes(k)) this.state.tables.push(k);
  }

  tableExists(netns: number, family: Family, table: number): boolean {
    return this.state.tables.includes(tableKey(netns, family, table));
  }

  private pushRoute(r: RouteState): void {
    this.ensureTable(r.netns, r.family, r.table);
    this.state.routes.push(r);
    this.routesChanged();
  }

  /** Tells route lookups that `state.routes` changed (adding through addRoute does this). */
  routesChanged(): void {
    this.routesVersion++;
  }

  /** `ip route add`. */
  addRoute(spec: RouteSpec, where = `route ${spec.dst}`): RouteState {
    const ns = this.netnsByName(spec.netns, where);
    const p = parsePrefix(spec.dst, `${where}: dst`, spec.family ?? (spec.via?.includes(':') ? 6 : 4));
    if (!bytesEqual(maskPrefix(p.addr, p.prefixLen), p.addr)) throw new EnvironmentError(`${where}: dst has host bits set beyond /${p.prefixLen} (ip route says "Invalid prefix")`);
    const type = spec.type ?? 'unicast';
    const table = tableId(spec.table, where);
    const rejecting = type === 'blackhole' || type === 'unreachable' || type === 'prohibit' || type === 'throw';
    let gateway: Uint8Array | undefined;
    let oif = 0;
    if (spec.via !== undefined) {
      const gw = parseIP(spec.via, `${where}: via`);
      if (gw.family !== p.family) throw new EnvironmentError(`${where}: gateway ${spec.via} is not of the route's family`);
      gateway = gw.addr;
    }
    if (spec.dev !== undefined) oif = this.deviceNamed(ns.id, spec.dev, where).ifindex;
    if (!rejecting) {
      if (oif && gateway && !(p.family === 6 && gateway[0] === 0xfe && (gateway[1] & 0xc0) === 0x80)) {
        // fib_check_nh_v4_gw / ip6_validate_gw: the gateway must be on a network of that device.
        const onDev = this.state.routes.some(
          (r) => r.netns === ns.id && r.family === p.family && r.type === 'unicast' && !r.gateway && r.oif === oif && prefixContains(r.dst, r.prefixLen, gateway!),
        );
        if (!onDev) throw new EnvironmentError(`${where}: gateway ${spec.via} is not on a network of ${spec.dev} (Nexthop has invalid gateway)`);
      }
      if (!oif && gateway) {
        // fib_check_nh: a gateway without a device must be reachable through a connected route.
        const via = this.state.routes.find(
          (r) => r.netns === ns.id && r.family === p.family && r.type === 'unicast' && !r.gateway && r.oif && prefixContains(r.dst, r.prefixLen, gateway!),
        );
        if (!via) throw new EnvironmentError(`${where}: gateway ${spec.via} is not on a connected network (Nexthop has invalid gateway)`);
        oif = via.oif;
      }
      if (!oif) throw new EnvironmentError(`${where}: needs "dev" or "via"`);
    }
    const route: RouteState = {
      netns: ns.id,
      family: p.family,
      table,
      type,
      dst: p.addr,
      prefixLen: p.prefixLen,
      gateway,
      oif,
      metric: spec.metric ?? (p.family === 6 ? IP6_RT_PRIO_USER : 0),
      prefsrc: spec.src !== undefined ? parseIP(spec.src, `${where}: src`).addr : undefined,
      mtu: spec.mtu,
      mtuLock: spec.mtuLock ?? false,
      encapHeadroom: spec.encap?.headroom,
      scope: type === 'local' ? RT_SCOPE_HOST : !gateway && !rejecting && p.family === 4 ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE,
      kernel: false,
    };
    const dup = this.state.routes.find(
      (r) => r.netns === ns.id && r.family === p.family && r.table === table && r.prefixLen === p.prefixLen && bytesEqual(r.dst, p.addr) && r.metric === route.metric,
    );
    if (dup) throw new EnvironmentError(`${where}: table ${table} already has this prefix with metric ${route.metric} (RTNETLINK answers: File exists)`);
    this.pushRoute(route);
    return route;
  }

  /** `ip neigh add`. */
  addNeighbour(spec: NeighbourSpec, where = `neighbour ${spec.ip}`): NeighbourState {
    const ns = this.netnsByName(spec.netns, where);
    const ip = parseIP(spec.ip, `${where}: ip`);
    const dev = this.deviceNamed(ns.id, spec.dev, where);
    const state = spec.state ?? 'permanent';
    if (spec.mac === undefined && state !== 'incomplete' && state !== 'failed' && state !== 'none') {
      throw new EnvironmentError(`${where}: a ${state} neighbour needs "mac"`);
    }
    const mac = spec.mac === undefined ? new Uint8Array(6) : parseMac(spec.mac, `${where}: mac`);
    const n: NeighbourState = { netns: ns.id, family: ip.family, ip: ip.addr, mac, ifindex: dev.ifindex, state };
    this.state.neighbours = this.state.neighbours.filter((o) => !(o.netns === ns.id && o.ifindex === dev.ifindex && bytesEqual(o.ip, n.ip)));
    this.state.neighbours.push(n);
    return n;
  }

  /** `ip rule add`: the namespace then has custom rules (fib_has_custom_rules). */
  addRule(spec: RuleSpec, where = 'rule'): RuleState {
    const ns = this.netnsByName(spec.netns, where);
    if (!Number.isInteger(spec.priority) || spec.priority < 1 || spec.priority > 32765) throw new EnvironmentError(`${where}: priority ${spec.priority} must be 1..32765 (0, 32766, 32767 are the default rules)`);
    const table = tableId(spec.table, where);
    const families: Family[] = spec.family ? [spec.family] : [4, 6];
    let last: RuleState | undefined;
    for (const family of families) {
      last = { netns: ns.id, family, priority: spec.priority, table, fwmark: spec.fwmark, fwmask: spec.fwmask ?? 0xffffffff };
      this.state.rules.push(last);
    }
    return last!;
  }

  // ---- sockets ----------------------------------------------------------------------------

  addSocket(spec: SocketSpec, where = `socket ${spec.local}`): SocketStateData {
    const ns = this.netnsByName(spec.netns, where);
    const local = parseEndpoint(spec.local, `${where}: local`);
    const remote = spec.remote !== undefined ? parseEndpoint(spec.remote, `${where}: remote`) : undefined;
    if (remote && remote.family !== local.family) throw new EnvironmentError(`${where}: local and remote are of different families`);
    const state: SocketState = spec.state ?? (remote ? 'established' : spec.protocol === 'tcp' ? 'listen' : 'unconnected');
    if (state === 'established' && !remote) throw new EnvironmentError(`${where}: an established socket needs "remote"`);
    const s: SocketStateData = {
      id: this.state.nextSocketId++,
      cookie: 0,
      netns: ns.id,
      family: local.family,
      protocol: spec.protocol,
      state,
      localAddr: local.addr,
      localPort: local.port,
      remoteAddr: remote?.addr ?? new Uint8Array(local.family === 4 ? 4 : 16),
      remotePort: remote?.port ?? 0,
      boundIfindex: spec.boundDev ? this.deviceNamed(ns.id, spec.boundDev, where).ifindex : 0,
      v6only: spec.v6only ?? false,
    };
    this.state.sockets.push(s);
    return s;
  }

  socketById(id: number): SocketStateData | undefined {
    return this.state.sockets.find((s) => s.id === id);
  }

  removeSocket(id: number): void {
    this.state.sockets = this.state.sockets.filter((s) => s.id !== id);
  }

  /**
   * sock_gen_cookie() (net/core/sock_diag.c): a socket gets its cookie the first time one is
   * asked for, from one counter shared by all namespaces (gen_cookie_next, include/linux/cookie.h:
   * on one CPU the values run 1, 2, 3, ...). Returns it as bpf_get_socket_cookie would.
   */
  socketCookie(id: number): bigint {
    const s = this.socketById(id);
    if (!s) throw new EnvironmentError(`socket cookie: no socket with id ${id}`);
    if (!s.cookie) s.cookie = ++this.state.lastSocketCookie;
    return BigInt(s.cookie);
  }

  /** bpf_get_netns_cookie(): the cookie of namespace `netns`. */
  netnsCookie(netns: number): bigint {
    const ns = this.netnsById(netns);
    if (!ns) throw new EnvironmentError(`netns cookie: no netns with id ${netns}`);
    return BigInt(ns.cookie);
  }

  // ---- time and randomness ----------------------------------------------------------------

  /** Time passes: all clocks move by `ns` nanoseconds. */
  advance(ns: bigint | number): void {
    advanceClock(this.state.clock, ns);
  }

  /** The machine sleeps: boot time and wall clock move, monotonic time and jiffies do not. */
  suspend(ns: bigint | number): void {
    suspendClock(this.state.clock, ns);
  }

  /** bpf_get_prandom_u32 (helper 7). */
  prandomU32(): number {
    return prandomU32(this.state.prng);
  }

  /** bpf_ktime_get_ns (helper 5). */
  ktimeGetNs(): bigint {
    return ktimeGetNs(this.state.clock);
  }

  /** bpf_ktime_get_boot_ns (helper 125). */
  ktimeGetBootNs(): bigint {
    return ktimeGetBootNs(this.state.clock);
  }

  /** bpf_ktime_get_tai_ns (helper 208). */
  ktimeGetTaiNs(): bigint {
    return ktimeGetTaiNs(this.state.clock);
  }

  /** bpf_jiffies64 (helper 118). */
  jiffies64(): bigint {
    return jiffies64(this.state.clock);
  }
}

/** "10.0.0.1:80" or "[fd00::1]:53" (`*` for the any address, as ss prints it). */
export function parseEndpoint(text: string, what: string): { family: Family; addr: Uint8Array; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new EnvironmentError(`${what}: "${text}" is not ADDR:PORT or [ADDR6]:PORT`);
  const port = Number(m[2]);
  if (port > 65535) throw new EnvironmentError(`${what}: port ${port} is above 65535`);
  const bracketed = text.startsWith('[');
  if (m[1] === '*') return { family: bracketed ? 6 : 4, addr: new Uint8Array(bracketed ? 16 : 4), port };
  const ip = parseIP(m[1], what);
  return { family: ip.family, addr: ip.addr, port };
}
