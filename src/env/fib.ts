// bpf_fib_lookup (helper 69) over the emulated routing state, following net/core/filter.c
// (Linux 6.10+: bpf_xdp_fib_lookup / bpf_skb_fib_lookup, bpf_ipv4_fib_lookup,
// bpf_ipv6_fib_lookup) check for check, writing the same fields on the same return codes.
// Checked against Linux 6.18 through BPF_PROG_TEST_RUN (test/env/fib-kernel.test.ts).
import { AF_INET, AF_INET6, type Family, bytesEqual, commonPrefixLen, prefixContains } from './addr.js';
import { type Environment, RT_SCOPE_HOST, RT_SCOPE_UNIVERSE, RT_TABLE_DEFAULT, RT_TABLE_LOCAL, RT_TABLE_MAIN } from './environment.js';
import {
  BPF_FIB_LKUP_RET_BLACKHOLE,
  BPF_FIB_LKUP_RET_FRAG_NEEDED,
  BPF_FIB_LKUP_RET_FWD_DISABLED,
  BPF_FIB_LKUP_RET_NOT_FWDED,
  BPF_FIB_LKUP_RET_NO_NEIGH,
  BPF_FIB_LKUP_RET_NO_SRC_ADDR,
  BPF_FIB_LKUP_RET_PROHIBIT,
  BPF_FIB_LKUP_RET_SUCCESS,
  BPF_FIB_LKUP_RET_UNREACHABLE,
  BPF_FIB_LKUP_RET_UNSUPP_LWT,
  BPF_FIB_LOOKUP_DIRECT,
  BPF_FIB_LOOKUP_MARK,
  BPF_FIB_LOOKUP_OUTPUT,
  BPF_FIB_LOOKUP_SIZE,
  BPF_FIB_LOOKUP_SKIP_NEIGH,
  BPF_FIB_LOOKUP_SRC,
  BPF_FIB_LOOKUP_TBID,
  type BpfFibLookup,
  type BpfFibLookupInput,
  decodeFibLookup,
  encodeFibLookup,
} from './fib-params.js';
import type { DeviceState, NeighbourState, NudState, RouteState } from './types.js';

const EINVAL = 22;
const ENODEV = 19;
const EAFNOSUPPORT = 97;

/** include/net/ip.h IP_MAX_MTU; include/net/ip6_route.h IP6_MAX_MTU. */
const IP_MAX_MTU = 0xfff0;
const IP6_MAX_MTU = 0xffff + 40;
const IPV6_MIN_MTU = 1280;
/** ETH_HLEN (dev->hard_header_len of Ethernet, veth and lo) and VLAN_HLEN, for is_skb_forwardable. */
const ETH_HLEN = 14;
const VLAN_HLEN = 4;

/** include/net/neighbour.h NUD_VALID: the states in which a neighbour's address may be used. */
const NUD_VALID: ReadonlySet<NudState> = new Set(['permanent', 'noarp', 'reachable', 'probe', 'stale', 'delay']);

/** What the helper knows about its caller besides the params. */
export interface FibLookupContext {
  /** `xdp` (bpf_xdp_fib_lookup: always checks the MTU) or `skb` (tc: checks tot_len, else skb->len). */
  kind: 'xdp' | 'skb';
  /** dev_net(skb->dev) / dev_net(rxq->dev): the namespace id of the packet's device. Default: init. */
  netns?: number;
  /** skb->len when the program runs (at tc the Ethernet header included). For `skb` lookups with tot_len 0. */
  skbLen?: number;
  /** skb_is_gso(): a GSO packet passes the MTU check whatever its length. */
  gso?: boolean;
}

/** Result of one table lookup: the kernel's err (0, -EINVAL, -EHOSTUNREACH, -EACCES, -EAGAIN). */
interface TableResult {
  err: number;
  route?: RouteState;
}

const ERR_OF_TYPE: Partial<Record<RouteState['type'], number>> = {
  // net/ipv4/fib_semantics.c fib_props[].error
  blackhole: -EINVAL,
  unreachable: -113, // -EHOSTUNREACH
  prohibit: -13, // -EACCES
  throw: -11, // -EAGAIN
};
const EAGAIN = -11;

/**
 * bpf_fib_lookup on a 64-byte struct in place, as the helper does on the program's memory.
 * Returns the helper's r0 (a BPF_FIB_LKUP_RET_* code, or -EINVAL / -ENODEV / -EAFNOSUPPORT).
 */
export function fibLookupRaw(env: Environment, params: Uint8Array, plen: number, flagsArg: number | bigint, ctx: FibLookupContext): number {
  // bpf_{xdp,skb}_fib_lookup: size and flags first. Both are 32-bit parameters (int plen,
  // u32 flags): the high half of the registers is dropped, not checked.
  if (plen >>> 0 < BPF_FIB_LOOKUP_SIZE || params.length < BPF_FIB_LOOKUP_SIZE) return -EINVAL;
  const flags = typeof flagsArg === 'bigint' ? Number(BigInt.asUintN(32, flagsArg)) : flagsArg >>> 0;
  const allowed = BPF_FIB_LOOKUP_DIRECT | BPF_FIB_LOOKUP_OUTPUT | BPF_FIB_LOOKUP_SKIP_NEIGH | BPF_FIB_LOOKUP_TBID | BPF_FIB_LOOKUP_SRC | BPF_FIB_LOOKUP_MARK;
  if ((flags & ~allowed) !== 0) return -EINVAL;
  const netns = ctx.netns ?? 0;
  const p = new ParamsView(params);
  // XDP always checks the MTU; tc only when tot_len is given, else it checks skb->len below.
  const checkMtu = ctx.kind === 'xdp' || p.totLen !== 0;
  let rc: number;
  if (p.family === AF_INET) rc = ipv4Lookup(env, netns, p, flags, checkMtu);
  else if (p.family === AF_INET6) rc = ipv6Lookup(env, netns, p, flags, checkMtu);
  else return -EAFNOSUPPORT;

  if (ctx.kind === 'skb' && rc === BPF_FIB_LKUP_RET_SUCCESS && !checkMtu) {
    // bpf_skb_fib_lookup: "check skb against MTU of FIB lookup resulting net_device".
    const dev = env.deviceByIndex(netns, p.ifindex)!;
    if (!isSkbForwardable(dev, ctx.skbLen ?? 0, ctx.gso ?? false)) rc = BPF_FIB_LKUP_RET_FRAG_NEEDED;
    p.mtuResult = dev.mtu;
  }
  return rc;
}

/** Object form of fibLookupRaw: params in, params as the kernel left them out. */
export function fibLookup(
  env: Environment,
  input: BpfFibLookupInput | Uint8Array,
  flags: number | bigint,
  ctx: FibLookupContext,
): { ret: number; params: BpfFibLookup; bytes: Uint8Array } {
  const bytes = input instanceof Uint8Array ? input.slice() : encodeFibLookup(input);
  const ret = fibLookupRaw(env, bytes, BPF_FIB_LOOKUP_SIZE, flags, ctx);
  return { ret, params: decodeFibLookup(bytes), bytes };
}

/** net/core/dev.c __is_skb_forwardable with check_mtu. */
function isSkbForwardable(dev: DeviceState, skbLen: number, gso: boolean): boolean {
  if (!dev.up) return false;
  return skbLen <= dev.mtu + ETH_HLEN + VLAN_HLEN || gso;
}

/**
 * Little-endian accessors over the struct bytes (see fib-params.ts for the layout), byte by
 * byte: a DataView per lookup cost more than the lookup (bench/packets/nodeport.ts).
 */
class ParamsView {
  constructor(readonly b: Uint8Array) {}
  private u16(o: number): number {
    return this.b[o] | (this.b[o + 1] << 8);
  }
  private u32(o: number): number {
    const b = this.b;
    return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
  }
  private set16(o: number, x: number): void {
    this.b[o] = x & 0xff;
    this.b[o + 1] = (x >>> 8) & 0xff;
  }
  private set32(o: number, x: number): void {
    const b = this.b;
    b[o] = x & 0xff;
    b[o + 1] = (x >>> 8) & 0xff;
    b[o + 2] = (x >>> 16) & 0xff;
    b[o + 3] = (x >>> 24) & 0xff;
  }
  get family() { return this.b[0]; }
  set family(x: number) { this.b[0] = x; }
  get totLen() { return this.u16(6); }
  set mtuResult(x: number) { this.set16(6, x & 0xffff); }
  get ifindex() { return this.u32(8); }
  set ifindex(x: number) { this.set32(8, x); }
  get tos() { return this.b[12]; }
  set rtMetric(x: number) { this.set32(12, x >>> 0); }
  get tbid() { return this.u32(48); }
  set tbid(x: number) { this.set32(48, x); }
  get mark() { return this.u32(52); }
  set vlan(x: number) { this.set32(48, x); }
  // Byte loops rather than slice() and set(): for 4 to 16 bytes the builtins' call costs more.
  private copyOut(at: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.b[at + i];
    return out;
  }
  private copyIn(a: Uint8Array, at: number): void {
    for (let i = 0; i < a.length; i++) this.b[at + i] = a[i];
  }
  src(len: number) { return this.copyOut(16, len); }
  dst(len: number) { return this.copyOut(32, len); }
  setSrc(a: Uint8Array) { this.copyIn(a, 16); }
  setDst(a: Uint8Array) { this.copyIn(a, 32); }
  setMacs(smac: Uint8Array, dmac: Uint8Array) {
    this.copyIn(smac, 52);
    this.copyIn(dmac, 58);
  }
}

/** include/net/lwtunnel.h lwtunnel_headroom: the encap's headroom if it is below the MTU. */
function lwtHeadroom(route: RouteState, mtu: number): number {
  const h = route.encapHeadroom;
  return h !== undefined && h < mtu ? h : 0;
}

/** bpf_fib_set_fwd_params (Linux 6.10+): the MACs are written by the caller, before it. */
function setFwdParams(p: ParamsView, mtu: number): number {
  p.vlan = 0; // h_vlan_TCI = h_vlan_proto = 0
  if (mtu) p.mtuResult = mtu;
  return BPF_FIB_LKUP_RET_SUCCESS;
}

// ---- table lookups ----------------------------------------------------------------------

function devUp(env: Environment, netns: number, ifindex: number): boolean {
  return env.deviceByIndex(netns, ifindex)?.up ?? false;
}

/**
 * Per (netns, family): the routes longest prefix first, then by metric (the fib_alias order),
 * with IPv4 prefixes also as 32-bit network/mask pairs so a lookup is one pass of integer
 * compares. Rebuilt when the route list or env.routesVersion changes.
 */
interface SortedRoutes {
  routes: RouteState[];
  net32: Uint32Array;
  mask32: Uint32Array;
}
interface RouteIndex {
  routes: RouteState[];
  length: number;
  version: number;
  byKey: Map<number, SortedRoutes>;
}
const routeIndexes = new WeakMap<Environment, RouteIndex>();

const be32 = (a: Uint8Array) => ((a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3]) >>> 0;
const mask32 = (len: number) => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

function sortedRoutes(env: Environment, netns: number, family: Family): SortedRoutes {
  let idx = routeIndexes.get(env);
  const routes = env.state.routes;
  if (!idx || idx.routes !== routes || idx.length !== routes.length || idx.version !== env.routesVersion) {
    idx = { routes, length: routes.length, version: env.routesVersion, byKey: new Map() };
    routeIndexes.set(env, idx);
  }
  const key = netns * 8 + family;
  let sorted = idx.byKey.get(key);
  if (!sorted) {
    // Array.prototype.sort is stable: equal routes keep insertion order, as fib_alias lists do.
    const list = routes.filter((r) => r.netns === netns && r.family === family).sort((a, b) => b.prefixLen - a.prefixLen || a.metric - b.metric);
    sorted = {
      routes: list,
      net32: Uint32Array.from(list, (r) => (family === 4 ? be32(r.dst) & mask32(r.prefixLen) : 0)),
      mask32: Uint32Array.from(list, (r) => (family === 4 ? mask32(r.prefixLen) : 0)),
    };
    idx.byKey.set(key, sorted);
  }
  return sorted;
}

/** The merged local + main trie (see ipv4Tables); only ever read. */
const MAIN_AND_LOCAL: readonly number[] = [RT_TABLE_MAIN, RT_TABLE_LOCAL];

/**
 * net/ipv4/fib_trie.c fib_table_lookup: the first alias on the longest matching prefix whose
 * type is an error (returned at once) or whose nexthop is alive and, for an output lookup, is
 * the requested device (fib_lookup_good_nhc); backtracks to shorter prefixes otherwise.
 */
function ipv4TableLookup(env: Environment, netns: number, tables: readonly number[], dst: Uint8Array, oif: number): TableResult {
  const { routes, net32, mask32: masks } = sortedRoutes(env, netns, 4);
  const a = be32(dst);
  for (let i = 0; i < routes.length; i++) {
    if (((a & masks[i]) >>> 0) !== net32[i]) continue;
    const r = routes[i];
    if (!tables.includes(r.table)) continue;
    const err = ERR_OF_TYPE[r.type];
    if (err !== undefined) return { err, route: r };
    if (!devUp(env, netns, r.oif)) continue; // dead nexthop: routes of a down device are flushed
    if (oif && oif !== r.oif) continue;
    return { err: 0, route: r };
  }
  return { err: EAGAIN };
}

function hasCustomRules(env: Environment, netns: number, family: Family): boolean {
  for (const r of env.state.rules) if (r.netns === netns && r.family === family) return true;
  return false;
}

/**
 * The tables one fib_get_table(tbid) reaches: while a namespace has no custom IPv4 rules the
 * kernel keeps local and main in one trie (fib_trie.c, fib_new_table aliasing RT_TABLE_LOCAL to
 * main; undone by fib_unmerge when a rule is added), so a lookup in either sees both.
 */
function ipv4Tables(env: Environment, netns: number, tbid: number): readonly number[] {
  if ((tbid === RT_TABLE_MAIN || tbid === RT_TABLE_LOCAL) && !hasCustomRules(env, netns, 4)) return MAIN_AND_LOCAL;
  return [tbid];
}

/** The default rules (priority 0 local, 32766 main, 32767 default) and the namespace's own. */
function ruleChain(env: Environment, netns: number, family: Family, mark: number): number[] {
  const rules = env.state.rules
    .filter((r) => r.netns === netns && r.family === family)
    .map((r) => ({ priority: r.priority, table: r.table, matches: r.fwmark === undefined || ((mark ^ r.fwmark) & r.fwmask) === 0 }));
  rules.push({ priority: 0, table: RT_TABLE_LOCAL, matches: true }, { priority: 32766, table: RT_TABLE_MAIN, matches: true });
  if (family === 4) rules.push({ priority: 32767, table: RT_TABLE_DEFAULT, matches: true });
  return rules
    .filter((r) => r.matches)
    .sort((a, b) => a.priority - b.priority)
    .map((r) => r.table);
}

/** include/net/ip_fib.h fib_lookup: the fast path without custom rules, else fib_rules_lookup. */
function ipv4FibLookup(env: Environment, netns: number, dst: Uint8Array, oif: number, mark: number): TableResult {
  if (!hasCustomRules(env, netns, 4)) {
    let res = ipv4TableLookup(env, netns, MAIN_AND_LOCAL, dst, oif);
    if (res.err && env.tableExists(netns, 4, RT_TABLE_DEFAULT)) res = ipv4TableLookup(env, netns, [RT_TABLE_DEFAULT], dst, oif);
    return res.err === EAGAIN ? { err: -101 } : res; // -ENETUNREACH
  }
  for (const table of ruleChain(env, netns, 4, mark)) {
    if (!env.tableExists(netns, 4, table)) continue; // fib4_rule_action: no table -> -EAGAIN
    const res = ipv4TableLookup(env, netns, [table], dst, oif);
    if (res.err !== EAGAIN) return res;
  }
  return { err: -101 };
}

/** What a plain route lookup found: the route, or why there is none (fib_props error names). */
export type RouteLookupResult =
  | { kind: 'route'; route: RouteState }
  | { kind: 'blackhole' | 'unreachable' | 'prohibit' | 'none' };

/**
 * The routing decision for a packet to `dst` in namespace `netns` through the namespace's rules
 * (or one table), as the FIB lookup above makes it, without the bpf_fib_lookup checks and
 * outputs. For helpers that route by themselves (bpf_redirect_neigh without a next hop uses
 * ip_route_output_flow / ipv6_stub->ipv6_dst_lookup_flow with the target device as oif).
 */
export function lookupRoute(
  env: Environment,
  netns: number,
  dst: Uint8Array,
  opts: { oif?: number; mark?: number; table?: number } = {},
): RouteLookupResult {
  const family: Family = dst.length === 4 ? 4 : 6;
  const oif = opts.oif ?? 0;
  let route: RouteState | undefined;
  if (family === 4) {
    const res =
      opts.table !== undefined
        ? ipv4TableLookup(env, netns, ipv4Tables(env, netns, opts.table), dst, oif)
        : ipv4FibLookup(env, netns, dst, oif, opts.mark ?? 0);
    if (res.err === -EINVAL) return { kind: 'blackhole' };
    if (res.err === -113) return { kind: 'unreachable' };
    if (res.err === -13) return { kind: 'prohibit' };
    route = res.err ? undefined : res.route;
  } else {
    route = opts.table !== undefined ? ipv6TableLookup(env, netns, opts.table, dst, oif) : ipv6FibLookup(env, netns, dst, oif, opts.mark ?? 0);
    if (route && (route.type === 'blackhole' || route.type === 'unreachable' || route.type === 'prohibit')) return { kind: route.type };
  }
  return route && route.type !== 'throw' ? { kind: 'route', route } : { kind: 'none' };
}

// ---- IPv4 -------------------------------------------------------------------------------

function ipv4Lookup(env: Environment, netns: number, p: ParamsView, flags: number, checkMtu: boolean): number {
  const inDev = env.deviceByIndex(netns, p.ifindex);
  if (!inDev) return -ENODEV;
  if (!inDev.forwardingV4) return BPF_FIB_LKUP_RET_FWD_DISABLED;
  const oif = flags & BPF_FIB_LOOKUP_OUTPUT ? p.ifindex : 0;
  const dst = p.dst(4);

  let res: TableResult;
  if (flags & BPF_FIB_LOOKUP_DIRECT) {
    let tbid = RT_TABLE_MAIN;
    if (flags & BPF_FIB_LOOKUP_TBID) {
      tbid = p.tbid;
      p.tbid = 0; // "zero out for vlan output"
    }
    if (!env.tableExists(netns, 4, tbid)) return BPF_FIB_LKUP_RET_NOT_FWDED;
    res = ipv4TableLookup(env, netns, ipv4Tables(env, netns, tbid), dst, oif);
  } else {
    res = ipv4FibLookup(env, netns, dst, oif, flags & BPF_FIB_LOOKUP_MARK ? p.mark : 0);
  }
  if (res.err) {
    if (res.err === -EINVAL) return BPF_FIB_LKUP_RET_BLACKHOLE;
    if (res.err === -113) return BPF_FIB_LKUP_RET_UNREACHABLE;
    if (res.err === -13) return BPF_FIB_LKUP_RET_PROHIBIT;
    return BPF_FIB_LKUP_RET_NOT_FWDED;
  }
  const route = res.route!;
  if (route.type !== 'unicast') return BPF_FIB_LKUP_RET_NOT_FWDED;
  const outDev = env.deviceByIndex(netns, route.oif)!;

  let mtu = 0;
  if (checkMtu) {
    // ip_mtu_from_fib_result: the route's MTU only when locked (fwd_use_pmtu is off by default).
    mtu = route.mtu !== undefined && route.mtuLock ? route.mtu : Math.min(outDev.mtu, IP_MAX_MTU);
    mtu -= lwtHeadroom(route, mtu);
    if (p.totLen > mtu) {
      p.mtuResult = mtu;
      return BPF_FIB_LKUP_RET_FRAG_NEEDED;
    }
  }
  // "do not handle lwt encaps right now"
  if (route.encapHeadroom !== undefined) return BPF_FIB_LKUP_RET_UNSUPP_LWT;
  p.rtMetric = route.metric;
  p.ifindex = outDev.ifindex;
  if (flags & BPF_FIB_LOOKUP_SRC) p.setSrc(ipv4PrefSrc(env, netns, route, outDev));
  if (route.gateway) p.setDst(route.gateway);
  if (flags & BPF_FIB_LOOKUP_SKIP_NEIGH) return setFwdParams(p, mtu);
  const neigh = findNeighbour(env, netns, outDev.ifindex, p.dst(4));
  if (!neigh) return BPF_FIB_LKUP_RET_NO_NEIGH;
  p.setMacs(outDev.mac, neigh.mac);
  return setFwdParams(p, mtu);
}

/**
 * net/ipv4/fib_semantics.c fib_result_prefsrc: the route's `src`, else inet_select_addr(dev,
 * gateway, route scope): a primary address of the device (one on the gateway's subnet first),
 * else the first suitable address of any device in the namespace, else 0.0.0.0.
 */
function ipv4PrefSrc(env: Environment, netns: number, route: RouteState, dev: DeviceState): Uint8Array {
  if (route.prefsrc) return route.prefsrc;
  const scope = route.scope;
  // Addresses are scope global except 127/8 (scope host, as `ip addr` gives lo's).
  const addrScope = (a: Uint8Array) => (a[0] === 127 ? RT_SCOPE_HOST : RT_SCOPE_UNIVERSE);
  let pick: Uint8Array | undefined;
  for (const a of dev.addrs) {
    if (a.family !== 4 || a.secondary || addrScope(a.addr) > scope) continue;
    if (!route.gateway || prefixContains(a.addr, a.prefixLen, route.gateway)) return a.addr;
    pick ??= a.addr;
  }
  if (pick) return pick;
  for (const d of env.state.devices) {
    if (d.netns !== netns) continue;
    for (const a of d.addrs) {
      // in_dev_select_addr: a primary address, not link scope, within the route's scope.
      if (a.family === 4 && !a.secondary && addrScope(a.addr) <= scope) return a.addr;
    }
  }
  return new Uint8Array(4);
}

/**
 * The neighbour entry for `ip` on device `ifindex` if its state lets it be used (NUD_VALID), as
 * __ipv4_neigh_lookup_noref / __ipv6_neigh_lookup_noref_stub plus the state check do. Exported for
 * bpf_redirect_neigh, which resolves the next hop the same way.
 */
export function findNeighbour(env: Environment, netns: number, ifindex: number, ip: Uint8Array): NeighbourState | undefined {
  for (const n of env.state.neighbours) {
    if (n.netns === netns && n.ifindex === ifindex && bytesEqual(n.ip, ip)) return NUD_VALID.has(n.state) ? n : undefined;
  }
  return undefined;
}

// ---- IPv6 -------------------------------------------------------------------------------

/** net/ipv6/route.c rt6_need_strict: multicast, link-local unicast and loopback addresses. */
function ipv6NeedStrict(a: Uint8Array): boolean {
  if (a[0] === 0xff) return true;
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0x80) return true;
  return a.subarray(0, 15).every((x) => x === 0) && a[15] === 1;
}

/**
 * net/ipv6/route.c fib6_table_lookup: longest matching prefix whose routes include a usable
 * one (device up); among those the lowest metric, preferring the route through `oif`
 * (rt6_score_route), backtracking to shorter prefixes when none is usable. Unlike IPv4,
 * blackhole/unreachable/prohibit routes are ordinary results here (their device is lo).
 */
function ipv6TableLookup(env: Environment, netns: number, table: number, dst: Uint8Array, oif: number): RouteState | undefined {
  const all = sortedRoutes(env, netns, 6).routes.filter((r) => r.table === table && prefixContains(r.dst, r.prefixLen, dst));
  for (let i = 0; i < all.length; ) {
    const len = all[i].prefixLen;
    const node = [];
    for (; i < all.length && all[i].prefixLen === len; i++) node.push(all[i]);
    const usable = node.filter((r) => !r.oif || devUp(env, netns, r.oif));
    if (!usable.length) continue;
    const best = usable[0].metric;
    const sameMetric = usable.filter((r) => r.metric === best);
    return sameMetric.find((r) => !oif || r.oif === oif) ?? sameMetric[0];
  }
  return undefined;
}

function ipv6FibLookup(env: Environment, netns: number, dst: Uint8Array, oif: number, mark: number): RouteState | undefined {
  // net/ipv6/fib6_rules.c fib6_lookup: local then main without custom rules; else the rules.
  for (const table of ruleChain(env, netns, 6, mark)) {
    if (!env.tableExists(netns, 6, table)) continue;
    const r = ipv6TableLookup(env, netns, table, dst, oif);
    if (r && r.type !== 'throw') return r;
  }
  return undefined;
}

function ipv6Lookup(env: Environment, netns: number, p: ParamsView, flags: number, checkMtu: boolean): number {
  const dst = p.dst(16);
  const src = p.src(16);
  // "link local addresses are never forwarded" - checked before the device.
  if (ipv6NeedStrict(dst) || ipv6NeedStrict(src)) return BPF_FIB_LKUP_RET_NOT_FWDED;
  const inDev = env.deviceByIndex(netns, p.ifindex);
  if (!inDev) return -ENODEV;
  if (!inDev.forwardingV6) return BPF_FIB_LKUP_RET_FWD_DISABLED;
  // Input lookups pass the ingress ifindex as oif too (it only ranks equal routes).
  const oif = p.ifindex;

  let route: RouteState | undefined;
  if (flags & BPF_FIB_LOOKUP_DIRECT) {
    let tbid = RT_TABLE_MAIN;
    if (flags & BPF_FIB_LOOKUP_TBID) {
      tbid = p.tbid;
      p.tbid = 0;
    }
    if (!env.tableExists(netns, 6, tbid)) return BPF_FIB_LKUP_RET_NOT_FWDED;
    route = ipv6TableLookup(env, netns, tbid, dst, oif);
  } else {
    route = ipv6FibLookup(env, netns, dst, oif, flags & BPF_FIB_LOOKUP_MARK ? p.mark : 0);
  }
  if (!route) return BPF_FIB_LKUP_RET_NOT_FWDED; // fib6_null_entry
  switch (route.type) {
    case 'unicast':
      break;
    case 'blackhole':
      return BPF_FIB_LKUP_RET_BLACKHOLE;
    case 'unreachable':
      return BPF_FIB_LKUP_RET_UNREACHABLE;
    case 'prohibit':
      return BPF_FIB_LKUP_RET_PROHIBIT;
    default:
      return BPF_FIB_LKUP_RET_NOT_FWDED;
  }
  const outDev = env.deviceByIndex(netns, route.oif)!;
  let mtu = 0;
  if (checkMtu) {
    // ip6_mtu_from_fib6: a locked route MTU, else the device's mtu6 (at least IPV6_MIN_MTU).
    // An unlocked route MTU is not used (measured on Linux 6.18).
    mtu = route.mtu !== undefined && route.mtuLock ? route.mtu : Math.max(IPV6_MIN_MTU, outDev.mtu);
    mtu = Math.min(mtu, IP6_MAX_MTU);
    mtu -= lwtHeadroom(route, mtu);
    if (p.totLen > mtu) {
      p.mtuResult = mtu;
      return BPF_FIB_LKUP_RET_FRAG_NEEDED;
    }
  }
  if (route.encapHeadroom !== undefined) return BPF_FIB_LKUP_RET_UNSUPP_LWT;
  if (route.gateway) p.setDst(route.gateway);
  p.rtMetric = route.metric;
  p.ifindex = outDev.ifindex;
  if (flags & BPF_FIB_LOOKUP_SRC) {
    const chosen = route.prefsrc ?? ipv6SelectSource(env, netns, outDev, dst);
    if (!chosen) return BPF_FIB_LKUP_RET_NO_SRC_ADDR;
    p.setSrc(chosen);
  }
  if (flags & BPF_FIB_LOOKUP_SKIP_NEIGH) return setFwdParams(p, mtu);
  const neigh = findNeighbour(env, netns, outDev.ifindex, p.dst(16));
  if (!neigh) return BPF_FIB_LKUP_RET_NO_NEIGH;
  p.setMacs(outDev.mac, neigh.mac);
  return setFwdParams(p, mtu);
}

/** net/ipv6/addrlabel.c ip6addrlbl_init_table: the default RFC 6724 policy labels. */
const ADDR_LABELS: ReadonlyArray<[Uint8Array, number, number]> = [
  [bytes16([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 128, 0],
  [bytes16([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]), 96, 4],
  [bytes16([]), 96, 3],
  [bytes16([0x20, 0x01, 0x00, 0x10]), 28, 7],
  [bytes16([0x20, 0x01, 0x00, 0x20]), 28, 7],
  [bytes16([0x20, 0x01]), 32, 6],
  [bytes16([0x20, 0x02]), 16, 2],
  [bytes16([0x3f, 0xfe]), 16, 12],
  [bytes16([0xfe, 0xc0]), 10, 11],
  [bytes16([0xfc]), 7, 5],
  [bytes16([]), 0, 1],
];

function bytes16(prefix: number[]): Uint8Array {
  const b = new Uint8Array(16);
  b.set(prefix);
  return b;
}

function addrLabel(a: Uint8Array): number {
  return ADDR_LABELS.find(([p, len]) => prefixContains(p, len, a))![2];
}

/** __ipv6_addr_src_scope: loopback and fe80::/10 are link scope (2), fec0::/10 site (5), the rest global (14). */
function srcScope(a: Uint8Array): number {
  if (a[0] === 0xff) return a[1] & 0x0f;
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0x80) return 2;
  if (a[0] === 0xfe && (a[1] & 0xc0) === 0xc0) return 5;
  if (a.subarray(0, 15).every((x) => x === 0) && a[15] === 1) return 2;
  return 14;
}

/**
 * ipv6_dev_get_saddr (net/ipv6/addrconf.c): every unicast address of every device in the
 * namespace is a candidate (addresses of a down device are gone: keep_addr_on_down is off),
 * ranked by the kernel's RFC 6724 rules in order: 1 the destination itself, 2 scope (the
 * smallest scope not below the destination's), 5 the outgoing device, 6 the same policy label,
 * 8 the longest common prefix (capped at the address's prefix length); the first of equals wins.
 * Deprecated, home, temporary, ORCHID and optimistic addresses do not exist here. Lo's ::1 is a
 * candidate too, so a lookup finds a source whenever lo has IPv6 (measured on Linux 6.18).
 */
function ipv6SelectSource(env: Environment, netns: number, outDev: DeviceState, dst: Uint8Array): Uint8Array | undefined {
  const dstScope = srcScope(dst);
  const dstLabel = addrLabel(dst);
  let best: { addr: Uint8Array; score: number[] } | undefined;
  for (const d of env.state.devices) {
    if (d.netns !== netns || !d.up) continue;
    for (const a of d.addrs) {
      if (a.family !== 6 || a.addr[0] === 0xff || a.addr.every((x) => x === 0)) continue;
      const scope = srcScope(a.addr);
      const score = [
        bytesEqual(a.addr, dst) ? 1 : 0,
        scope >= dstScope ? -scope : scope - 128,
        d.ifindex === outDev.ifindex ? 1 : 0,
        addrLabel(a.addr) === dstLabel ? 1 : 0,
        Math.min(commonPrefixLen(a.addr, dst), a.prefixLen),
      ];
      if (!best || compareScores(score, best.score) > 0) best = { addr: a.addr, score };
    }
  }
  return best?.addr;
}

function compareScores(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

