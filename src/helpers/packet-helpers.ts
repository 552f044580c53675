// The packet helpers of tc, XDP and socket filter programs as host helpers, by kernel helper
// number (include/uapi/linux/bpf.h), with the semantics and return codes of net/core/filter.c.
// Each works on the run in progress (PacketHelperHost.active()): an skb run (src/ctx/skb.ts) or
// an XDP run (src/ctx/xdp.ts). Helpers that change the packet layout go through the run's
// PacketBuffer, which re-establishes data/data_end/data_meta afterwards, as
// bpf_compute_data_pointers() does. A pointer argument the verifier would have refused throws,
// and the Machine turns that into a fault of the run.
//
// Not emulated (the skb here is always linear and never GSO): paged data, GSO segment fix-ups of
// skb_adjust_room / skb_change_proto, and skb->csum for CHECKSUM_COMPLETE beyond what
// src/csum and BPF_F_RECOMPUTE_CSUM do.
import { csumAdd, csumPartial } from '../csum/arith.js';
import { csumDiff, l3CsumReplaceIn, l4CsumReplaceIn } from '../csum/helpers.js';
import { ETH_HLEN, ETH_P_IP, ETH_P_IPV6, BPF_SKB_MAX_LEN, type SkbRun, type TunnelInfo } from '../ctx/skb.js';
import { XDP_ABORTED, XDP_FRAME_STRUCT_SIZE, XDP_REDIRECT, type XdpRun } from '../ctx/xdp.js';
import type { SockAddrRun } from '../ctx/sock-addr.js';
import { TC_ACT } from '../ctx/verdicts.js';
import type { BpfMap } from '../maps/types.js';
import type { FastHostHelper, HelperArgs, Machine } from '../vm/machine.js';
import { VBASE, type HelperCall, type HostHelper } from '../vm/types.js';

/** Error numbers (include/uapi/asm-generic/errno-base.h, errno.h; ENOTSUPP from include/linux/errno.h). */
export const ENOENT = 2;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const ENODEV = 19;
export const EINVAL = 22;
export const EPROTO = 71;
export const EALREADY = 114;
export const ENOTSUPP = 524;

/** include/uapi/linux/bpf.h flags. */
export const BPF_F_RECOMPUTE_CSUM = 1n << 0n;
export const BPF_F_INVALIDATE_HASH = 1n << 1n;
export const BPF_F_INGRESS = 1n << 0n;
export const BPF_F_TUNINFO_IPV6 = 1n << 0n;
export const BPF_F_ZERO_CSUM_TX = 1n << 1n;
export const BPF_F_DONT_FRAGMENT = 1n << 2n;
export const BPF_F_SEQ_NUMBER = 1n << 3n;
export const BPF_F_NO_TUNNEL_KEY = 1n << 4n;
export const BPF_F_TUNINFO_FLAGS = 1n << 4n;
export const BPF_F_BROADCAST = 1n << 3n;
export const BPF_F_EXCLUDE_INGRESS = 1n << 4n;
export const BPF_ADJ_ROOM_NET = 0;
export const BPF_ADJ_ROOM_MAC = 1;
export const BPF_F_ADJ_ROOM_FIXED_GSO = 1n << 0n;
export const BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 = 1n << 1n;
export const BPF_F_ADJ_ROOM_ENCAP_L3_IPV6 = 1n << 2n;
export const BPF_F_ADJ_ROOM_ENCAP_L4_GRE = 1n << 3n;
export const BPF_F_ADJ_ROOM_ENCAP_L4_UDP = 1n << 4n;
export const BPF_F_ADJ_ROOM_NO_CSUM_RESET = 1n << 5n;
export const BPF_F_ADJ_ROOM_ENCAP_L2_ETH = 1n << 6n;
export const BPF_F_ADJ_ROOM_DECAP_L3_IPV4 = 1n << 7n;
export const BPF_F_ADJ_ROOM_DECAP_L3_IPV6 = 1n << 8n;
const BPF_ADJ_ROOM_ENCAP_L2_SHIFT = 56n;
const BPF_F_ADJ_ROOM_ENCAP_L3_MASK = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L3_IPV6;
const BPF_F_ADJ_ROOM_DECAP_L3_MASK = BPF_F_ADJ_ROOM_DECAP_L3_IPV4 | BPF_F_ADJ_ROOM_DECAP_L3_IPV6;
const BPF_F_ADJ_ROOM_MASK =
  BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_ENCAP_L3_MASK | BPF_F_ADJ_ROOM_ENCAP_L4_GRE | BPF_F_ADJ_ROOM_ENCAP_L4_UDP |
  BPF_F_ADJ_ROOM_ENCAP_L2_ETH | (0xffn << BPF_ADJ_ROOM_ENCAP_L2_SHIFT) | BPF_F_ADJ_ROOM_DECAP_L3_MASK;

/** sizeof(struct bpf_tunnel_key) and the older layouts the helpers accept (filter.c). */
export const BPF_TUNNEL_KEY_SIZE = 44;
const TUNNEL_KEY_COMPAT_SIZES = [8 /* remote_ipv6[1] */, 22 /* tunnel_ext */, 24 /* tunnel_label */, 28 /* local_ipv6[0] */];
/** IP_TUNNEL_OPTS_MAX: ip_tunnel_info.options_len is a u8. */
export const IP_TUNNEL_OPTS_MAX = 255;

/** Where a redirect sends the packet, as bpf_redirect_info records it. */
export interface RedirectRecord {
  /** Which helper recorded it. */
  kind: 'redirect' | 'redirect_neigh' | 'redirect_peer' | 'redirect_map';
  /** Target ifindex (redirect*), or the map key (redirect_map). */
  ifindex: number;
  flags: bigint;
  /** BPF_F_INGRESS: to the device's ingress instead of its egress. */
  ingress: boolean;
  /** redirect_map: the map, and the target it resolved to. */
  map?: { name: string; type: number; id: number; key: number };
  target?: unknown;
  /** redirect_neigh: the next hop the program gave (struct bpf_redir_neigh), if any. */
  nexthop?: { family: number; address: Uint8Array };
}

/** A copy sent by bpf_clone_redirect (the original continues). */
export interface CloneRecord {
  ifindex: number;
  ingress: boolean;
  data: Uint8Array;
}

/** What the helpers record during one run. */
export interface PacketRunRecord {
  redirect?: RedirectRecord;
  clones: CloneRecord[];
  /** bpf_set_retval (cgroup hooks). */
  retval: number;
  /** bpf_sk_assign: the environment's socket id the packet was steered to (undefined: none). */
  assignedSocket?: number;
}

export type ActiveRun =
  | { kind: 'tc'; run: SkbRun; record: PacketRunRecord }
  | { kind: 'socket_filter'; run: SkbRun; record: PacketRunRecord }
  | { kind: 'xdp'; run: XdpRun; record: PacketRunRecord }
  | { kind: 'sock_addr'; run: SockAddrRun; record: PacketRunRecord };

/** What the packet helpers need from their environment. */
export interface PacketHelperHost {
  readonly machine: Machine;
  /** The run in progress, or undefined between runs. */
  active(): ActiveRun | undefined;
  /** Maps by handle (bpf_redirect_map). */
  mapByHandle(handle: bigint): BpfMap | undefined;
  /**
   * The target of a DEVMAP / DEVMAP_HASH / CPUMAP / XSKMAP entry (what __dev_map_lookup_elem,
   * __cpu_map_lookup_elem, __xsk_map_lookup_elem return), undefined for an empty slot. Default:
   * the map's value for the key, if any.
   */
  redirectTarget?(map: BpfMap, key: number): unknown;
  /** Does a device with this ifindex exist (bpf_clone_redirect's dev_get_by_index)? Default: yes. */
  deviceExists?(ifindex: number): boolean;
  /** sock_gen_cookie for a socket without a cookie yet. */
  newSocketCookie(): bigint;
  /** Seed of the emulated flow hash (the kernel's hashrnd is random per boot). */
  hashSeed?: number;
}

const u64 = (r: number): bigint => (r < 0 ? BigInt.asUintN(64, BigInt(r)) : BigInt(r));
const u32 = (v: bigint): number => Number(BigInt.asUintN(32, v));
const s32 = (v: bigint): number => Number(BigInt.asIntN(32, v));
const hex = (v: bigint): string => `0x${v.toString(16)}`;

/** [addr, addr + len) must lie in one region the program could pass (the verifier checks this). */
function memArg(m: Machine, helper: string, arg: string, addr: bigint, len: number, write: boolean): number {
  const off = m.toOffset(addr);
  if (len === 0) return off ?? 0;
  if (off !== undefined && m.regionFor(off, len, write ? 'write' : 'read')) return off;
  throw new Error(`bpf_${helper}: ${arg} = ${hex(addr)} does not point to ${len} ${write ? 'writable' : 'readable'} bytes (the verifier would reject this call)`);
}

// The hot helpers take registers as 32-bit halves (HelperArgs.lo / hi) so a call makes no
// BigInt it does not need. A virtual address is VBASE + a wasm offset below 2^32: with VBASE's
// low half zero, that is the high half VBASE's and the offset in the low half.
const VBASE_HI = Number(VBASE >> 32n);
const VBASE_LO = Number(VBASE & 0xffffffffn);
/** The 64-bit register value hi:lo (for messages and the rare paths). */
const joinReg = (lo: number, hi: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
const hi32 = (v: bigint): number => Number(BigInt.asUintN(64, v) >> 32n);

/** Machine.toOffset of the address hi:lo. */
function toOffset32(m: Machine, lo: number, hi: number): number | undefined {
  if (VBASE_LO !== 0) return m.toOffset(joinReg(lo, hi));
  return hi === VBASE_HI && lo < m.bytes().length ? lo : undefined;
}

/** memArg for an address given as halves. */
function memArg32(m: Machine, helper: string, arg: string, lo: number, hi: number, len: number, write: boolean): number {
  const off = toOffset32(m, lo, hi);
  if (len === 0) return off ?? 0;
  if (off !== undefined && m.regionFor(off, len, write ? 'write' : 'read')) return off;
  return memArg(m, helper, arg, joinReg(lo, hi), len, write);
}

/** need() with r1 given as halves. */
function needCtx32<K extends 'tc' | 'socket_filter' | 'xdp'>(host: PacketHelperHost, helper: string, kinds: readonly K[], lo: number, hi: number): Extract<ActiveRun, { kind: K }> {
  const a = need(host, helper, kinds);
  const run = (a as ActiveRun).run as SkbRun | XdpRun;
  if (VBASE_LO !== 0 || hi !== VBASE_HI || lo !== run.ctxOffset) need(host, helper, kinds, joinReg(lo, hi));
  return a;
}

function need<K extends ActiveRun['kind']>(host: PacketHelperHost, helper: string, kinds: readonly K[], ctx?: bigint): Extract<ActiveRun, { kind: K }> {
  const a = host.active();
  if (!a) throw new Error(`bpf_${helper}: called outside a packet run`);
  if (!(kinds as readonly string[]).includes(a.kind)) {
    throw new Error(`bpf_${helper} is not available to ${a.kind} programs (the verifier would reject the call)`);
  }
  if (ctx !== undefined && ctx !== a.run.ctxAddress) {
    throw new Error(`bpf_${helper}: r1 = ${hex(ctx)} is not the program's context (${hex(a.run.ctxAddress)})`);
  }
  return a as Extract<ActiveRun, { kind: K }>;
}

const TC = ['tc'] as const;
const SKB_ANY = ['tc', 'socket_filter'] as const;

// ---- reading and writing packet bytes ----

/**
 * bpf_skb_load_bytes(skb, offset, to, len) (26): skb_header_pointer; -EFAULT (and `to` zeroed)
 * when [offset, offset + len) is not inside the packet.
 */
function skbLoadBytes(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_load_bytes', SKB_ANY, c.args[0]);
  const offset = u32(c.args[1]);
  const len = u32(c.args[3]);
  const to = memArg(host.machine, 'skb_load_bytes', 'to (r3)', c.args[2], len, true);
  const pkt = run.buffer.view();
  if (offset > 0x7fffffff || offset + len > pkt.length) {
    host.machine.bytes().fill(0, to, to + len);
    return u64(-EFAULT);
  }
  host.machine.bytes().copyWithin(to, run.buffer.offsetOf(offset), run.buffer.offsetOf(offset + len));
  return 0n;
}

/** include/uapi/linux/bpf.h enum bpf_hdr_start_off. */
export const BPF_HDR_START_MAC = 0;
export const BPF_HDR_START_NET = 1;

/**
 * bpf_skb_load_bytes_relative(skb, offset, to, len, start_header) (68): from the MAC header
 * (BPF_HDR_START_MAC: skb->data for tc, the pulled Ethernet header for socket filters) or the
 * network header (BPF_HDR_START_NET) up to the packet's tail; offset > 0xffff, an unknown start
 * or a range past the tail give -EFAULT with `to` zeroed.
 */
function skbLoadBytesRelative(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_load_bytes_relative', SKB_ANY, c.args[0]);
  const offset = u32(c.args[1]);
  const len = u32(c.args[3]);
  const startHeader = u32(c.args[4]);
  const to = memArg(host.machine, 'skb_load_bytes_relative', 'to (r3)', c.args[2], len, true);
  const mem = host.machine.bytes();
  const fail = () => {
    mem.fill(0, to, to + len);
    return u64(-EFAULT);
  };
  if (offset > 0xffff) return fail();
  let start: number; // relative to skb->data
  if (startHeader === BPF_HDR_START_MAC) start = -(run.state.pulledMac?.length ?? 0);
  else if (startHeader === BPF_HDR_START_NET) start = run.state.networkOffset;
  else return fail();
  if (start + offset + len > run.buffer.length) return fail();
  const at = run.buffer.offsetOf(start + offset);
  mem.copyWithin(to, at, at + len);
  return 0n;
}

/**
 * bpf_skb_store_bytes(skb, offset, from, len, flags) (9): flags only BPF_F_RECOMPUTE_CSUM and
 * BPF_F_INVALIDATE_HASH (-EINVAL), offset > INT_MAX or past the packet -EFAULT
 * (bpf_try_make_writable). RECOMPUTE_CSUM keeps skb->csum of a CHECKSUM_COMPLETE skb right
 * (__skb_postpull_rcsum / __skb_postpush_rcsum); INVALIDATE_HASH clears skb->hash.
 */
function skbStoreBytesCall(host: PacketHelperHost, c: HelperCall): bigint {
  const [ctx, offset, from, len, flags] = c.args;
  return u64(storeBytes(host, u32(ctx), hi32(ctx), u32(offset), u32(from), hi32(from), u32(len), u32(flags), hi32(flags)));
}

/** bpf_skb_store_bytes with r2, r4 and the halves of r5 as numbers; returns r0 (0 or -errno). */
function storeBytes(
  host: PacketHelperHost,
  ctxLo: number,
  ctxHi: number,
  offset: number,
  fromLo: number,
  fromHi: number,
  len: number,
  flagsLo: number,
  flagsHi: number,
): number {
  const { run } = needCtx32(host, 'skb_store_bytes', TC, ctxLo, ctxHi);
  if (flagsHi !== 0 || (flagsLo & ~Number(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH)) !== 0) return -EINVAL;
  const from = memArg32(host.machine, 'skb_store_bytes', 'from (r3)', fromLo, fromHi, len, false);
  if (offset > 0x7fffffff || offset + len > run.buffer.length) return -EFAULT;
  const s = run.state;
  const mem = host.machine.bytes();
  const at = run.buffer.offsetOf(offset);
  const recompute = (flagsLo & Number(BPF_F_RECOMPUTE_CSUM)) !== 0 && s.csum.ipSummed === 'complete';
  if (recompute) s.csum.csum = csumBlockAdd(s.csum.csum, ~csumPartial(mem, at, len, 0) >>> 0, offset);
  copyWithinSmall(mem, at, from, len);
  if (recompute) s.csum.csum = csumBlockAdd(s.csum.csum, csumPartial(mem, at, len, 0), offset);
  if (flagsLo & Number(BPF_F_INVALIDATE_HASH)) clearHash(run);
  return 0;
}

/**
 * mem.copyWithin(to, from, from + len) (memmove), by a loop for the few bytes a program usually
 * stores (an address, a port): the builtin's call costs more than copying them.
 */
function copyWithinSmall(mem: Uint8Array, to: number, from: number, len: number): void {
  if (len > 16) mem.copyWithin(to, from, from + len);
  else if (to > from) for (let i = len - 1; i >= 0; i--) mem[to + i] = mem[from + i];
  else for (let i = 0; i < len; i++) mem[to + i] = mem[from + i];
}

/** csum_block_add (include/net/checksum.h): a block at an odd offset is byte-swapped first. */
function csumBlockAdd(csum: number, csum2: number, offset: number): number {
  let sum = csum2 >>> 0;
  if (offset & 1) sum = ((sum >>> 8) | (sum << 24)) >>> 0;
  return csumAdd(csum >>> 0, sum);
}

/** skb_clear_hash (include/linux/skbuff.h). */
function clearHash(run: SkbRun): void {
  run.state.hash = 0;
  run.state.l4Hash = false;
  run.state.swHash = false;
  run.refresh();
}

// ---- checksums (src/csum holds the arithmetic) ----

/** bpf_l3_csum_replace(skb, offset, from, to, flags) (10): net/core/filter.c. */
function l3CsumCall(host: PacketHelperHost, c: HelperCall): bigint {
  return u64(l3CsumOn(host, u32(c.args[0]), hi32(c.args[0]), u32(c.args[1]), c.args[2], c.args[3], c.args[4]));
}

/** The packet is updated where it lies in VM memory (no view, no copy per call). */
function l3CsumOn(host: PacketHelperHost, ctxLo: number, ctxHi: number, offset: number, from: number | bigint, to: number | bigint, flags: number | bigint): number {
  const { run } = needCtx32(host, 'l3_csum_replace', TC, ctxLo, ctxHi);
  const buf = run.buffer;
  return l3CsumReplaceIn(host.machine.bytes(), buf.offsetOf(0), buf.length, offset, from, to, flags);
}

/** bpf_l4_csum_replace(skb, offset, from, to, flags) (11), updating skb->csum as the kernel does. */
function l4CsumCall(host: PacketHelperHost, c: HelperCall): bigint {
  return u64(l4CsumOn(host, u32(c.args[0]), hi32(c.args[0]), u32(c.args[1]), c.args[2], c.args[3], c.args[4]));
}

function l4CsumOn(host: PacketHelperHost, ctxLo: number, ctxHi: number, offset: number, from: number | bigint, to: number | bigint, flags: number | bigint): number {
  const { run } = needCtx32(host, 'l4_csum_replace', TC, ctxLo, ctxHi);
  const buf = run.buffer;
  return l4CsumReplaceIn(host.machine.bytes(), buf.offsetOf(0), buf.length, offset, from, to, flags, run.state.csum);
}

/** bpf_csum_diff(from, from_size, to, to_size, seed) (28): sizes must be multiples of 4 (-EINVAL). */
function csumDiffHelper(host: PacketHelperHost, c: HelperCall): bigint {
  need(host, 'csum_diff', ['tc', 'xdp'] as const);
  const fromSize = u32(c.args[1]);
  const toSize = u32(c.args[3]);
  // bpf_csum_diff: `diff_size > sizeof(sp->diff) || ((from_size | to_size) & (sizeof(__be32) - 1))`
  // was relaxed in Linux 6.13 to any size (src/csum/helpers.ts measured it on 6.18); only the
  // scratch buffer bound (2 x 128 words) remains.
  if (fromSize + toSize > 512 * 4) return u64(-EINVAL);
  const m = host.machine;
  const from = fromSize ? memArg(m, 'csum_diff', 'from (r1)', c.args[0], fromSize, false) : 0;
  const to = toSize ? memArg(m, 'csum_diff', 'to (r3)', c.args[2], toSize, false) : 0;
  const mem = m.bytes();
  return BigInt(csumDiff(mem.slice(from, from + fromSize), mem.slice(to, to + toSize), u32(c.args[4])));
}

// ---- skb metadata ----

/** bpf_skb_change_type(skb, type) (32): only PACKET_HOST..PACKET_OTHERHOST, from and to (-EINVAL). */
function skbChangeType(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_change_type', TC, c.args[0]);
  const type = u32(c.args[1]);
  if (run.state.pktType > 3 || type > 3) return u64(-EINVAL);
  run.state.pktType = type;
  run.refresh();
  return 0n;
}

/** bpf_get_cgroup_classid(skb) (17): the net_cls classid of the skb's full socket, 0 without one. */
function getCgroupClassid(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'get_cgroup_classid', TC, c.args[0]);
  return BigInt((run.state.sk?.classid ?? 0) >>> 0);
}

/**
 * bpf_get_socket_cookie (46): skb -> the cookie of skb->sk, 0 without a socket
 * (bpf_get_socket_cookie); sock_addr -> the cookie of ctx->sk (bpf_get_socket_cookie_sock_addr).
 * A socket gets its cookie on first use (sock_gen_cookie), from the host's counter.
 */
function getSocketCookie(host: PacketHelperHost, c: HelperCall): bigint {
  const a = need(host, 'get_socket_cookie', ['tc', 'socket_filter', 'sock_addr'] as const, c.args[0]);
  const sk = a.kind === 'sock_addr' ? a.run.state.sk : a.run.state.sk;
  if (!sk) return 0n;
  if (!sk.cookie) sk.cookie = host.newSocketCookie();
  return sk.cookie;
}

/**
 * bpf_get_hash_recalc(skb) (34): skb_get_hash(), computing the flow hash when the skb has none.
 * The kernel hashes the dissected flow keys with a per-boot random seed (net/core/flow_dissector.c
 * __flow_hash_from_keys), so values cannot match a real kernel; bpfbed hashes the same keys
 * (addresses, ports, protocol) with a fixed seed, and like the kernel never returns 0.
 */
function getHashRecalc(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'get_hash_recalc', TC, c.args[0]);
  const s = run.state;
  // skb_get_hash: recomputed unless the hash covers L4 or was set by software.
  if (!s.l4Hash && !s.swHash) {
    const flow = flowHash(run.buffer.view(), s.networkOffset, s.protocol, host.hashSeed ?? 0);
    s.hash = flow.hash;
    s.l4Hash = flow.l4;
    run.refresh();
  }
  return BigInt(s.hash >>> 0);
}

function flowHash(pkt: Uint8Array, nh: number, protocol: number, seed: number): { hash: number; l4: boolean } {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  const mix = (b: number) => {
    h = Math.imul(h ^ b, 0x01000193) >>> 0;
  };
  let l4 = false;
  let proto = -1;
  let l4off = -1;
  if (protocol === ETH_P_IP && pkt.length >= nh + 20) {
    for (let i = 12; i < 20; i++) mix(pkt[nh + i]);
    proto = pkt[nh + 9];
    const fragmented = ((pkt[nh + 6] & 0x3f) | pkt[nh + 7]) !== 0;
    if (!fragmented) l4off = nh + (pkt[nh] & 0xf) * 4;
  } else if (protocol === ETH_P_IPV6 && pkt.length >= nh + 40) {
    for (let i = 8; i < 40; i++) mix(pkt[nh + i]);
    proto = pkt[nh + 6];
    l4off = nh + 40;
  } else {
    for (let i = 0; i < Math.min(pkt.length, 64); i++) mix(pkt[i]);
  }
  mix(proto & 0xff);
  if (l4off >= 0 && (proto === 6 || proto === 17 || proto === 132) && pkt.length >= l4off + 4) {
    for (let i = 0; i < 4; i++) mix(pkt[l4off + i]);
    l4 = true;
  }
  return { hash: h || 1, l4 };
}

// ---- layout changes of an skb ----

/** bpf_skb_net_base_len: the base L3 header length for skb->protocol. */
function netBaseLen(protocol: number): number {
  return protocol === ETH_P_IP ? 20 : protocol === ETH_P_IPV6 ? 40 : 0;
}

/**
 * bpf_skb_change_proto(skb, proto, flags) (31): IPv4 <-> IPv6 only (-ENOTSUPP otherwise), flags
 * must be 0 (-EINVAL). Inserts (4 -> 6) or removes (6 -> 4) 20 bytes right after the MAC header
 * (bpf_skb_net_hdr_push / _pop at skb_mac_header_len) and sets skb->protocol; the program
 * writes the new header and fixes the Ethernet type itself. Clears the hash.
 */
function skbChangeProto(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_change_proto', TC, c.args[0]);
  const raw = u32(c.args[1]) & 0xffff;
  const proto = ((raw & 0xff) << 8) | (raw >> 8); // the argument is __be16
  if (c.args[2] !== 0n) return u64(-EINVAL);
  const s = run.state;
  const off = s.networkOffset;
  if (s.protocol === ETH_P_IP && proto === ETH_P_IPV6) {
    run.buffer.insert(off, 20);
  } else if (s.protocol === ETH_P_IPV6 && proto === ETH_P_IP) {
    if (run.buffer.length < off + 20) return u64(-ENOMEM);
    run.buffer.remove(off, 20);
  } else {
    return u64(-ENOTSUPP);
  }
  s.protocol = proto;
  clearHash(run);
  return 0n;
}

/**
 * __bpf_skb_min_len: a trim may not cut into the headers the stack has set (network header;
 * the transport header and CHECKSUM_PARTIAL are not modelled).
 */
function skbMinLen(run: SkbRun): number {
  return Math.max(0, run.state.networkOffset);
}

/**
 * bpf_skb_change_tail(skb, new_len, flags) (38): flags must be 0, new_len between
 * __bpf_skb_min_len and BPF_SKB_MAX_LEN (-EINVAL), -ENOTSUPP for an encapsulated skb. Growing
 * appends zero bytes.
 */
function skbChangeTail(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_change_tail', TC, c.args[0]);
  const newLen = u32(c.args[1]);
  if (c.args[2] !== 0n || newLen > BPF_SKB_MAX_LEN || newLen < skbMinLen(run)) return u64(-EINVAL);
  if (run.state.encapsulation) return u64(-ENOTSUPP);
  run.buffer.moveEnd(newLen - run.buffer.length);
  return 0n;
}

/**
 * bpf_skb_pull_data(skb, len) (39): makes `len` bytes (0: the linear part) direct-accessible and
 * writable; -ENOMEM when the packet is shorter (pskb_may_pull). bpfbed's skb is always linear.
 */
function skbPullData(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_pull_data', TC, c.args[0]);
  const len = u32(c.args[1]);
  const r = len > run.buffer.length ? -ENOMEM : 0;
  run.refresh();
  return u64(r);
}

/**
 * bpf_skb_change_head(skb, head_room, flags) (43): flags must be 0 and the new length at most
 * BPF_SKB_MAX_LEN (-EINVAL); pushes `head_room` zero bytes in front and resets the MAC header
 * there, leaving the network header where it was (so its offset grows by head_room).
 */
function skbChangeHead(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_change_head', TC, c.args[0]);
  const headRoom = u32(c.args[1]);
  const newLen = run.buffer.length + headRoom;
  if (c.args[2] !== 0n || newLen > BPF_SKB_MAX_LEN || newLen > 0xffffffff) return u64(-EINVAL);
  run.buffer.insert(0, headRoom);
  run.state.networkOffset += headRoom;
  return 0n;
}

/**
 * bpf_skb_adjust_room(skb, len_diff, mode, flags) (50): grows or shrinks room at the MAC header
 * end (BPF_ADJ_ROOM_MAC) or after the base L3 header (BPF_ADJ_ROOM_NET) of an IPv4 or IPv6 skb.
 * Checks in kernel order: unknown flags -EINVAL, |len_diff| > 0xfff -EFAULT, other protocols
 * -ENOTSUPP, unknown mode -ENOTSUPP, decap flags when growing -EINVAL, shrinking below the
 * minimum L3 length or growing past BPF_SKB_MAX_LEN -ENOTSUPP; then the encap checks of
 * bpf_skb_net_grow. New bytes are zero. Encap flags set skb->encapsulation and, with an L3 flag
 * of the other family, skb->protocol; decap flags switch skb->protocol back.
 */
function skbAdjustRoom(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_adjust_room', TC, c.args[0]);
  const lenDiff = s32(c.args[1]);
  const mode = u32(c.args[2]);
  const flags = c.args[3];
  const s = run.state;
  const abs = Math.abs(lenDiff);
  const shrink = lenDiff < 0;
  let lenMin = netBaseLen(s.protocol);
  if (flags & ~(BPF_F_ADJ_ROOM_MASK | BPF_F_ADJ_ROOM_NO_CSUM_RESET)) return u64(-EINVAL);
  if (abs > 0xfff) return u64(-EFAULT);
  if (s.protocol !== ETH_P_IP && s.protocol !== ETH_P_IPV6) return u64(-ENOTSUPP);
  let off = s.networkOffset; // skb_mac_header_len: the MAC header starts at data for tc
  if (mode === BPF_ADJ_ROOM_NET) off += netBaseLen(s.protocol);
  else if (mode !== BPF_ADJ_ROOM_MAC) return u64(-ENOTSUPP);
  const decap = flags & BPF_F_ADJ_ROOM_DECAP_L3_MASK;
  if (decap) {
    if (!shrink) return u64(-EINVAL);
    if (decap === BPF_F_ADJ_ROOM_DECAP_L3_IPV4) lenMin = 20;
    else if (decap === BPF_F_ADJ_ROOM_DECAP_L3_IPV6) lenMin = 40;
    else return u64(-EINVAL);
  }
  const lenCur = run.buffer.length - s.networkOffset;
  if ((shrink && (abs >= lenCur || lenCur - abs < lenMin)) || (!shrink && run.buffer.length + abs > BPF_SKB_MAX_LEN)) {
    return u64(-ENOTSUPP);
  }
  if (shrink) {
    // bpf_skb_net_shrink
    if (flags & ~(BPF_F_ADJ_ROOM_FIXED_GSO | BPF_F_ADJ_ROOM_DECAP_L3_MASK | BPF_F_ADJ_ROOM_NO_CSUM_RESET)) return u64(-EINVAL);
    if (off + abs > run.buffer.length) return u64(-EFAULT);
    run.buffer.remove(off, abs);
    if (s.protocol === ETH_P_IP && decap === BPF_F_ADJ_ROOM_DECAP_L3_IPV6) s.protocol = ETH_P_IPV6;
    else if (s.protocol === ETH_P_IPV6 && decap === BPF_F_ADJ_ROOM_DECAP_L3_IPV4) s.protocol = ETH_P_IP;
  } else {
    // bpf_skb_net_grow
    const encap = (flags & BPF_F_ADJ_ROOM_ENCAP_L3_MASK) !== 0n;
    const innerMacLen = Number((flags >> BPF_ADJ_ROOM_ENCAP_L2_SHIFT) & 0xffn);
    if (encap) {
      if (flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 && flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV6) return u64(-EINVAL);
      if (flags & BPF_F_ADJ_ROOM_ENCAP_L4_GRE && flags & BPF_F_ADJ_ROOM_ENCAP_L4_UDP) return u64(-EINVAL);
      if (flags & BPF_F_ADJ_ROOM_ENCAP_L2_ETH && innerMacLen < ETH_HLEN) return u64(-EINVAL);
      if (s.encapsulation) return u64(-EALREADY);
      if (innerMacLen > abs) return u64(-EINVAL);
    }
    run.buffer.insert(off, abs);
    if (encap) {
      s.encapsulation = true;
      if (s.protocol === ETH_P_IP && flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV6) s.protocol = ETH_P_IPV6;
      else if (s.protocol === ETH_P_IPV6 && flags & BPF_F_ADJ_ROOM_ENCAP_L3_IPV4) s.protocol = ETH_P_IP;
    }
  }
  // __skb_reset_checksum_unnecessary unless BPF_F_ADJ_ROOM_NO_CSUM_RESET: CHECKSUM_UNNECESSARY
  // becomes CHECKSUM_NONE; bpfbed's received skbs are CHECKSUM_NONE already.
  run.refresh();
  return 0n;
}

// ---- redirects ----

/**
 * bpf_redirect(ifindex, flags) (23). tc: flags other than BPF_F_INGRESS give TC_ACT_SHOT, else
 * the target is recorded and TC_ACT_REDIRECT returned. XDP (bpf_xdp_redirect): any flag gives
 * XDP_ABORTED, else XDP_REDIRECT.
 */
function redirectCall(host: PacketHelperHost, c: HelperCall): bigint {
  return redirectTo(host, u32(c.args[0]), c.args[1]);
}

const TC_XDP = ['tc', 'xdp'] as const;

function redirectTo(host: PacketHelperHost, ifindex: number, flags: bigint): bigint {
  const a = need(host, 'redirect', TC_XDP);
  if (a.kind === 'xdp') {
    if (flags !== 0n) return BigInt(XDP_ABORTED);
    a.record.redirect = { kind: 'redirect', ifindex, flags, ingress: false };
    return BigInt(XDP_REDIRECT);
  }
  if (flags & ~BPF_F_INGRESS) return BigInt(TC_ACT.TC_ACT_SHOT);
  a.record.redirect = { kind: 'redirect', ifindex, flags, ingress: (flags & BPF_F_INGRESS) !== 0n };
  return BigInt(TC_ACT.TC_ACT_REDIRECT);
}

/**
 * bpf_redirect_neigh(ifindex, params, plen, flags) (152): flags must be 0 and plen 0 or at least
 * sizeof(struct bpf_redir_neigh) (20), else TC_ACT_SHOT; egress of `ifindex` with a neighbour
 * lookup (of params' next hop when given).
 */
function redirectNeigh(host: PacketHelperHost, c: HelperCall): bigint {
  const a = need(host, 'redirect_neigh', TC);
  const ifindex = u32(c.args[0]);
  const plen = s32(c.args[2]);
  if ((plen !== 0 && plen < 20) || c.args[3] !== 0n) return BigInt(TC_ACT.TC_ACT_SHOT);
  const rec: RedirectRecord = { kind: 'redirect_neigh', ifindex, flags: 0n, ingress: false };
  if (plen !== 0 && c.args[1] !== 0n) {
    const p = memArg(host.machine, 'redirect_neigh', 'params (r2)', c.args[1], 20, false);
    // struct bpf_redir_neigh (include/uapi/linux/bpf.h): __u32 nh_family, then the union of
    // __be32 ipv4_nh / __u32 ipv6_nh[4] at offset 4.
    const b = host.machine.bytes();
    const family = b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
    rec.nexthop = { family, address: family === 10 ? b.slice(p + 4, p + 20) : b.slice(p + 4, p + 8) };
  }
  a.record.redirect = rec;
  return BigInt(TC_ACT.TC_ACT_REDIRECT);
}

/** bpf_redirect_peer(ifindex, flags) (155): flags must be 0 (else TC_ACT_SHOT); ingress of the peer device. */
function redirectPeer(host: PacketHelperHost, c: HelperCall): bigint {
  const a = need(host, 'redirect_peer', TC);
  if (c.args[1] !== 0n) return BigInt(TC_ACT.TC_ACT_SHOT);
  a.record.redirect = { kind: 'redirect_peer', ifindex: u32(c.args[0]), flags: 0n, ingress: true };
  return BigInt(TC_ACT.TC_ACT_REDIRECT);
}

/**
 * bpf_clone_redirect(skb, ifindex, flags) (13): flags other than BPF_F_INGRESS or an unknown
 * device give -EINVAL; a copy of the packet as it is now goes to the device, the program goes on.
 */
function cloneRedirect(host: PacketHelperHost, c: HelperCall): bigint {
  const a = need(host, 'clone_redirect', TC, c.args[0]);
  const ifindex = u32(c.args[1]);
  const flags = c.args[2];
  if (flags & ~BPF_F_INGRESS) return u64(-EINVAL);
  if (host.deviceExists && !host.deviceExists(ifindex)) return u64(-EINVAL);
  a.record.clones.push({ ifindex, ingress: (flags & BPF_F_INGRESS) !== 0n, data: a.run.buffer.bytes() });
  a.run.refresh();
  return 0n;
}

/**
 * bpf_redirect_map(map, key, flags) (51), XDP (__bpf_xdp_redirect_map in net/core/filter.c):
 * flags beyond the low two bits (the action on a failed lookup) and the map's own
 * (BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS for DEVMAP / DEVMAP_HASH, none for CPUMAP and XSKMAP)
 * give XDP_ABORTED; a key with no entry gives `flags & 3` and clears what an earlier call
 * recorded, unless BPF_F_BROADCAST; else XDP_REDIRECT with the target recorded (ri->tgt_value).
 * With BPF_F_BROADCAST the map itself is recorded: the copies go to the entries it holds when the
 * frame is sent (dev_map_enqueue_multi), which the pipeline reads then.
 */
function redirectMap(host: PacketHelperHost, c: HelperCall): bigint {
  const a = need(host, 'redirect_map', ['xdp'] as const);
  const map = host.mapByHandle(c.args[0]);
  if (!map) throw new Error(`bpf_redirect_map: r1 = ${hex(c.args[0])} is not a map`);
  const DEVMAP = 14;
  const DEVMAP_HASH = 25;
  const CPUMAP = 16;
  const XSKMAP = 17;
  if (![DEVMAP, DEVMAP_HASH, CPUMAP, XSKMAP].includes(map.type)) {
    throw new Error(`bpf_redirect_map: map ${map.name} (type ${map.type}) is not a DEVMAP, DEVMAP_HASH, CPUMAP or XSKMAP (the verifier would reject the call)`);
  }
  const flags = c.args[2];
  const actionMask = 3n;
  const flagMask = map.type === DEVMAP || map.type === DEVMAP_HASH ? BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS : 0n;
  if (flags & ~(actionMask | flagMask)) return BigInt(XDP_ABORTED);
  // the helper's key is a u64, the maps' lookups take a u32 (dev_map_redirect etc.)
  const key = u32(c.args[1]);
  const target = lookupTarget(host, map, key);
  if (target === undefined && !(flags & BPF_F_BROADCAST)) {
    a.record.redirect = undefined;
    return flags & actionMask;
  }
  a.record.redirect = {
    kind: 'redirect_map',
    ifindex: key,
    flags: flags & BPF_F_BROADCAST ? flags : 0n,
    ingress: false,
    map: { name: map.name, type: map.type, id: map.id, key },
    target,
  };
  return BigInt(XDP_REDIRECT);
}

/** A map that resolves its own redirect targets (src/maps/devmap.ts, cpumap.ts, xskmap.ts). */
interface RedirectMap extends BpfMap {
  target(key: number): unknown;
}

function lookupTarget(host: PacketHelperHost, map: BpfMap, key: number): unknown {
  // The emulated map types answer as the kernel's lookup does; a host's own resolver is for
  // stand-in maps that have none.
  if (typeof (map as Partial<RedirectMap>).target === 'function') return (map as RedirectMap).target(key);
  if (host.redirectTarget) return host.redirectTarget(map, key);
  const k = new Uint8Array(map.keySize);
  new DataView(k.buffer).setUint32(0, key, true);
  const v = map.read(k);
  if (!v) return undefined;
  // A DEVMAP / CPUMAP value starts with the ifindex / queue size; an all-zero slot is empty.
  return v.some((b) => b !== 0) ? v : undefined;
}

// ---- XDP layout ----

/**
 * bpf_xdp_adjust_head(xdp, offset) (44): data may move between the end of the xdp_frame area
 * (plus the metadata) at the start of the headroom and data_end - ETH_HLEN (-EINVAL); the
 * metadata moves along.
 */
function xdpAdjustHead(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'xdp_adjust_head', ['xdp'] as const, c.args[0]);
  const offset = s32(c.args[1]);
  const b = run.buffer;
  const dataRel = dataFromHardStart(b) + offset; // new data offset from data_hard_start
  if (dataRel < XDP_FRAME_STRUCT_SIZE + b.metaLength || offset > b.length - ETH_HLEN) return u64(-EINVAL);
  b.moveData(offset, true);
  return 0n;
}

/** Offset of data from data_hard_start (the buffer's headroom ends at data_meta). */
function dataFromHardStart(b: XdpRun['buffer']): number {
  return b.headroom + b.metaLength;
}

/**
 * bpf_xdp_adjust_meta(xdp, offset) (54): data_meta moves by offset, staying between the end of
 * the xdp_frame area and data (-EINVAL); the metadata length must be a multiple of 4 and at
 * most 255 bytes (xdp_metalen_invalid: -EACCES).
 */
function xdpAdjustMeta(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'xdp_adjust_meta', ['xdp'] as const, c.args[0]);
  const offset = s32(c.args[1]);
  const b = run.buffer;
  const metaRel = b.headroom + offset; // new data_meta from data_hard_start
  const metaLen = b.metaLength - offset;
  if (metaRel < XDP_FRAME_STRUCT_SIZE || metaLen < 0) return u64(-EINVAL);
  if (metaLen % 4 !== 0 || metaLen > 255) return u64(-EACCES);
  b.setMetaLength(metaLen);
  return 0n;
}

/**
 * bpf_xdp_adjust_tail(xdp, offset) (65): data_end may move up to the frame's end minus the
 * skb_shared_info tailroom, and not below data + ETH_HLEN (-EINVAL); grown bytes are zeroed.
 */
function xdpAdjustTail(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'xdp_adjust_tail', ['xdp'] as const, c.args[0]);
  const offset = s32(c.args[1]);
  const b = run.buffer;
  const endRel = dataFromHardStart(b) + b.length + offset;
  if (endRel > run.hardEndOffset) return u64(-EINVAL);
  if (b.length + offset < ETH_HLEN) return u64(-EINVAL);
  b.moveEnd(offset);
  return 0n;
}

// ---- tunnel metadata ----

/**
 * bpf_skb_get_tunnel_key(skb, to, size, flags) (20): the skb's tunnel info (remote = the outer
 * source, local = the outer destination, host-order IPv4 and id). -EINVAL without tunnel info
 * or with unknown flags, -EPROTO for the wrong family, -EINVAL for an unknown size; `to` is
 * zeroed on error.
 */
function skbGetTunnelKey(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_get_tunnel_key', TC, c.args[0]);
  const size = u32(c.args[2]);
  const flags = c.args[3];
  const m = host.machine;
  const to = memArg(m, 'skb_get_tunnel_key', 'to (r2)', c.args[1], size, true);
  const info = run.state.tunnel;
  const fail = (err: number) => {
    m.bytes().fill(0, to, to + size);
    return u64(-err);
  };
  if (!info || flags & ~(BPF_F_TUNINFO_IPV6 | BPF_F_TUNINFO_FLAGS)) return fail(EINVAL);
  const wantV6 = (flags & BPF_F_TUNINFO_IPV6) !== 0n;
  if (info.ipv6 !== wantV6) return fail(EPROTO);
  if (size !== BPF_TUNNEL_KEY_SIZE) {
    if (size === 8) {
      if (info.ipv6) return fail(EINVAL);
    } else if (![22, 24, 28].includes(size)) return fail(EINVAL);
  }
  const key = new Uint8Array(BPF_TUNNEL_KEY_SIZE);
  const dv = new DataView(key.buffer);
  dv.setUint32(0, Number(BigInt.asUintN(32, info.id)), true);
  dv.setUint8(20, info.tos);
  dv.setUint8(21, info.ttl);
  if (flags & BPF_F_TUNINFO_FLAGS) dv.setUint16(22, tunnelFlagsBe16(info), true);
  if (info.ipv6) {
    key.set(info.src.subarray(0, 16), 4);
    key.set(info.dst.subarray(0, 16), 28);
    dv.setUint32(24, info.label >>> 0, true);
  } else {
    dv.setUint32(4, new DataView(info.src.buffer, info.src.byteOffset).getUint32(0, false), true);
    dv.setUint32(28, new DataView(info.dst.buffer, info.dst.byteOffset).getUint32(0, false), true);
  }
  m.bytes().set(key.subarray(0, size), to);
  return 0n;
}

/** ip_tunnel_flags_to_be16 (include/net/ip_tunnels.h): TUNNEL_CSUM 0x01, KEY 0x04, SEQ 0x08, DONT_FRAGMENT 0x0100, NOCACHE 0x2000. */
function tunnelFlagsBe16(info: TunnelInfo): number {
  let f = 0;
  if (info.flags.csum) f |= 0x01;
  if (info.flags.key) f |= 0x04;
  if (info.flags.seq) f |= 0x08;
  if (info.flags.dontFragment) f |= 0x0100;
  if (info.flags.noCache) f |= 0x2000;
  return ((f & 0xff) << 8) | (f >> 8);
}

/**
 * bpf_skb_set_tunnel_key(skb, from, size, flags) (21): attaches TX tunnel info for a collect_md
 * device (remote = the outer destination, local = the outer source). Unknown flags or size,
 * an IPv4 key with a label, or a non-zero tunnel_ext give -EINVAL.
 */
function skbSetTunnelKey(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_set_tunnel_key', TC, c.args[0]);
  const size = u32(c.args[2]);
  const flags = c.args[3];
  if (flags & ~(BPF_F_TUNINFO_IPV6 | BPF_F_ZERO_CSUM_TX | BPF_F_DONT_FRAGMENT | BPF_F_SEQ_NUMBER | BPF_F_NO_TUNNEL_KEY)) return u64(-EINVAL);
  if (size !== BPF_TUNNEL_KEY_SIZE && !TUNNEL_KEY_COMPAT_SIZES.includes(size)) return u64(-EINVAL);
  const from = memArg(host.machine, 'skb_set_tunnel_key', 'from (r2)', c.args[1], size, false);
  const key = new Uint8Array(BPF_TUNNEL_KEY_SIZE);
  key.set(host.machine.bytes().subarray(from, from + size));
  const dv = new DataView(key.buffer);
  const v6 = (flags & BPF_F_TUNINFO_IPV6) !== 0n;
  const label = dv.getUint32(24, true);
  if ((!v6 && label) || dv.getUint16(22, true)) return u64(-EINVAL);
  const v4 = (at: number) => {
    const out = new Uint8Array(4);
    new DataView(out.buffer).setUint32(0, dv.getUint32(at, true), false);
    return out;
  };
  run.state.tunnel = {
    mode: 'tx',
    ipv6: v6,
    id: BigInt(dv.getUint32(0, true)),
    dst: v6 ? key.slice(4, 20) : v4(4),
    src: v6 ? key.slice(28, 44) : v4(28),
    tos: key[20],
    ttl: key[21],
    label: v6 ? label & 0xfffff : 0,
    flags: {
      noCache: true,
      dontFragment: (flags & BPF_F_DONT_FRAGMENT) !== 0n,
      csum: !(flags & BPF_F_ZERO_CSUM_TX),
      seq: (flags & BPF_F_SEQ_NUMBER) !== 0n,
      key: !(flags & BPF_F_NO_TUNNEL_KEY),
    },
    options: new Uint8Array(0),
  };
  return 0n;
}

/**
 * bpf_skb_get_tunnel_opt(skb, opt, size) (29): copies the options; returns their length,
 * -ENOENT without tunnel info, -ENOMEM (and zeroes `opt`) when size is smaller than the options.
 */
function skbGetTunnelOpt(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_get_tunnel_opt', TC, c.args[0]);
  const size = u32(c.args[2]);
  const m = host.machine;
  const to = memArg(m, 'skb_get_tunnel_opt', 'opt (r2)', c.args[1], size, true);
  const info = run.state.tunnel;
  if (!info) return u64(-ENOENT);
  if (size < info.options.length) {
    m.bytes().fill(0, to, to + size);
    return u64(-ENOMEM);
  }
  m.bytes().fill(0, to, to + size);
  m.bytes().set(info.options, to);
  return BigInt(info.options.length);
}

/**
 * bpf_skb_set_tunnel_opt(skb, opt, size) (30): only after bpf_skb_set_tunnel_key in the same
 * run and with a size that is a multiple of 4 (-EINVAL); at most IP_TUNNEL_OPTS_MAX (-ENOMEM).
 */
function skbSetTunnelOpt(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_set_tunnel_opt', TC, c.args[0]);
  const size = u32(c.args[2]);
  const info = run.state.tunnel;
  if (!info || info.mode !== 'tx' || size % 4 !== 0) return u64(-EINVAL);
  if (size > IP_TUNNEL_OPTS_MAX) return u64(-ENOMEM);
  const from = memArg(host.machine, 'skb_set_tunnel_opt', 'opt (r2)', c.args[1], size, false);
  info.options = host.machine.bytes().slice(from, from + size);
  return 0n;
}

// ---- more skb metadata ----

/** bpf_set_hash(skb, hash) (48): __skb_set_sw_hash(skb, hash, false); returns 0. */
function setHash(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'set_hash', TC, c.args[0]);
  run.state.hash = u32(c.args[1]);
  run.state.swHash = true;
  run.state.l4Hash = false;
  run.refresh();
  return 0n;
}

/** bpf_set_hash_invalid(skb) (41): skb_clear_hash; returns 0. */
function setHashInvalid(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'set_hash_invalid', TC, c.args[0]);
  clearHash(run);
  return 0n;
}

const ETH_P_8021AD = 0x88a8;
const isVlanType = (p: number): boolean => p === 0x8100 || p === ETH_P_8021AD;

/**
 * bpf_skb_vlan_push(skb, vlan_proto, vlan_tci) (18): a proto other than 802.1Q / 802.1ad is
 * taken as 802.1Q; a tag already held out of band (hwaccel) is first written into the packet
 * after the MAC addresses (__vlan_insert_tag, skb->protocol becomes its proto), then the new
 * tag becomes the out-of-band one (skb_vlan_push). Returns 0.
 */
function skbVlanPush(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_vlan_push', TC, c.args[0]);
  const raw = u32(c.args[1]) & 0xffff;
  let proto = ((raw & 0xff) << 8) | (raw >> 8);
  if (!isVlanType(proto)) proto = 0x8100;
  const tci = u32(c.args[2]) & 0xffff;
  const s = run.state;
  if (s.vlan) {
    if (run.buffer.length < 12) return u64(-EINVAL);
    run.buffer.insert(12, 4);
    const v = run.buffer.view();
    v[12] = s.vlan.proto >> 8;
    v[13] = s.vlan.proto & 0xff;
    v[14] = s.vlan.tci >> 8;
    v[15] = s.vlan.tci & 0xff;
    s.protocol = s.vlan.proto;
    s.networkOffset += 4;
  }
  s.vlan = { proto, tci };
  run.refresh();
  return 0n;
}

/**
 * bpf_skb_vlan_pop(skb) (19): drops the out-of-band tag, or else the first tag in the packet
 * (when skb->protocol is 802.1Q / 802.1ad); a further tag in the packet then moves out of band
 * (skb_vlan_pop, __skb_vlan_pop). -EFAULT-free: a frame too short for a VLAN header gives
 * -ENOMEM (skb_ensure_writable).
 */
function skbVlanPop(host: PacketHelperHost, c: HelperCall): bigint {
  const { run } = need(host, 'skb_vlan_pop', TC, c.args[0]);
  const s = run.state;
  const popInline = (): number => {
    if (run.buffer.length < 18) return -ENOMEM;
    const v = run.buffer.view();
    const tci = (v[14] << 8) | v[15];
    const inner = (v[16] << 8) | v[17];
    run.buffer.remove(12, 4);
    // vlan_set_encap_proto: an ethertype, or 802.3 / 802.2 below ETH_P_802_3_MIN.
    s.protocol = inner >= 0x600 ? inner : 0x0004;
    s.networkOffset = Math.max(s.networkOffset - 4, ETH_HLEN);
    return tci;
  };
  if (s.vlan) {
    s.vlan = undefined;
  } else {
    if (!isVlanType(s.protocol)) {
      run.refresh();
      return 0n;
    }
    const r = popInline();
    if (r < 0) return u64(r);
  }
  if (isVlanType(s.protocol)) {
    const proto = s.protocol;
    const tci = popInline();
    if (tci < 0) return u64(tci);
    s.vlan = { proto, tci };
  }
  run.refresh();
  return 0n;
}

/**
 * bpf_xdp_load_bytes(xdp, offset, buf, len) (189) / bpf_xdp_store_bytes (190): offset or len
 * above 0xffff -EFAULT, past the end of the (linear) frame -EINVAL.
 */
function xdpBytes(store: boolean) {
  const name = store ? 'xdp_store_bytes' : 'xdp_load_bytes';
  return (host: PacketHelperHost, c: HelperCall): bigint => {
    const { run } = need(host, name, ['xdp'] as const, c.args[0]);
    const offset = u32(c.args[1]);
    const len = u32(c.args[3]);
    const buf = memArg(host.machine, name, 'buf (r3)', c.args[2], len, !store);
    if (offset > 0xffff || len > 0xffff) return u64(-EFAULT);
    if (offset + len > run.buffer.length) return u64(-EINVAL);
    const at = run.buffer.offsetOf(offset);
    const mem = host.machine.bytes();
    if (store) mem.copyWithin(at, buf, buf + len);
    else mem.copyWithin(buf, at, at + len);
    return 0n;
  };
}

/** The helpers of this module by kernel helper number. */
export const PACKET_HELPERS: ReadonlyMap<number, (host: PacketHelperHost, c: HelperCall) => bigint> = new Map([
  [9, skbStoreBytesCall],
  [10, l3CsumCall],
  [11, l4CsumCall],
  [13, cloneRedirect],
  [17, getCgroupClassid],
  [18, skbVlanPush],
  [19, skbVlanPop],
  [20, skbGetTunnelKey],
  [21, skbSetTunnelKey],
  [23, redirectCall],
  [26, skbLoadBytes],
  [28, csumDiffHelper],
  [29, skbGetTunnelOpt],
  [30, skbSetTunnelOpt],
  [31, skbChangeProto],
  [32, skbChangeType],
  [34, getHashRecalc],
  [38, skbChangeTail],
  [39, skbPullData],
  [41, setHashInvalid],
  [43, skbChangeHead],
  [44, xdpAdjustHead],
  [46, getSocketCookie],
  [48, setHash],
  [50, skbAdjustRoom],
  [51, redirectMap],
  [54, xdpAdjustMeta],
  [65, xdpAdjustTail],
  [68, skbLoadBytesRelative],
  [152, redirectNeigh],
  [155, redirectPeer],
  [189, xdpBytes(false)],
  [190, xdpBytes(true)],
]);

/** The packet helpers as Machine host helpers bound to `host`. */
export function packetHelpers(host: PacketHelperHost): Map<number, HostHelper> {
  const out = new Map<number, HostHelper>();
  for (const [id, fn] of PACKET_HELPERS) out.set(id, (c) => fn(host, c));
  return out;
}

/** r0 = a signed 32-bit result (0 or -errno) sign-extended to 64 bits, as u64() does. */
function setR0Int(args: HelperArgs, r: number): void {
  args.setR0(r >>> 0, r < 0 ? 0xffffffff : 0);
}

/** A register as a number when it fits 32 bits (what the checksum code takes), else as bigint. */
function reg32OrBig(args: HelperArgs, i: number): number | bigint {
  return args.hi(i) === 0 ? args.lo(i) : args.big(i);
}

/**
 * The per-packet hot helpers on the Machine's fast path (Machine.setFastHelper): the same
 * semantics as packetHelpers' versions, reading r1..r5 as 32-bit halves, so a call builds no
 * HelperCall and converts no register through BigInt it does not need as one. Every register
 * is read before the helper runs (HelperArgs must not be kept across anything that allocates).
 */
export function fastPacketHelpers(host: PacketHelperHost): Map<number, FastHostHelper> {
  // Named after the helpers: the profiler split of bench/packets reports a helper's time under
  // the function the Machine called.
  function skbStoreBytes(a: HelperArgs): void {
    setR0Int(a, storeBytes(host, a.lo(1), a.hi(1), a.lo(2), a.lo(3), a.hi(3), a.lo(4), a.lo(5), a.hi(5)));
  }
  function l3Csum(a: HelperArgs): void {
    setR0Int(a, l3CsumOn(host, a.lo(1), a.hi(1), a.lo(2), reg32OrBig(a, 3), reg32OrBig(a, 4), reg32OrBig(a, 5)));
  }
  function l4Csum(a: HelperArgs): void {
    setR0Int(a, l4CsumOn(host, a.lo(1), a.hi(1), a.lo(2), reg32OrBig(a, 3), reg32OrBig(a, 4), reg32OrBig(a, 5)));
  }
  function redirect(a: HelperArgs): void {
    a.setR0Big(redirectTo(host, a.lo(1), a.hi(2) === 0 && a.lo(2) === 0 ? 0n : a.big(2)));
  }
  return new Map<number, FastHostHelper>([
    [9, skbStoreBytes],
    [10, l3Csum],
    [11, l4Csum],
    [23, redirect],
  ]);
}
