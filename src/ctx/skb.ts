// struct __sk_buff (include/uapi/linux/bpf.h) for tc programs (BPF_PROG_TYPE_SCHED_CLS and
// SCHED_ACT, tcx) and socket filters: the layout, which fields each program type may read and
// write at which sizes (net/core/filter.c bpf_skb_is_valid_access, tc_cls_act_is_valid_access,
// sk_filter_is_valid_access), and the packet model behind it (SkbState, plain data).
//
// The context is plain VM memory filled from the state before a run (and the read-only fields
// again after every helper that changes them); after the run the fields the program may write
// are read back. Pointer fields (data, data_end, data_meta, sk) are the Machine's shadow values.
import type { SkbCsumState } from '../csum/helpers.js';
import type { Machine } from '../vm/machine.js';
import type { CtxAccessTable } from '../vm/types.js';
import { CtxTableBuilder, NARROW4, SZ1, SZ2, SZ4, SZ8 } from './access.js';
import { BPF_SOCK_SIZE, writeBpfSock, type BpfSockFields } from './bpf-sock.js';
import { PacketBuffer } from './packet-buffer.js';
import { copyPacket } from './packet-copy.js';

/** sizeof(struct __sk_buff). */
export const SK_BUFF_SIZE = 192;

/** Field offsets of struct __sk_buff (checked against the uapi header with offsetof). */
export const SKB = {
  len: 0,
  pkt_type: 4,
  mark: 8,
  queue_mapping: 12,
  protocol: 16,
  vlan_present: 20,
  vlan_tci: 24,
  vlan_proto: 28,
  priority: 32,
  ingress_ifindex: 36,
  ifindex: 40,
  tc_index: 44,
  cb: 48, // __u32 cb[5]
  hash: 68,
  tc_classid: 72,
  data: 76,
  data_end: 80,
  napi_id: 84,
  family: 88,
  remote_ip4: 92,
  local_ip4: 96,
  remote_ip6: 100, // __u32[4]
  local_ip6: 116, // __u32[4]
  remote_port: 132,
  local_port: 136,
  data_meta: 140,
  flow_keys: 144, // __bpf_md_ptr
  tstamp: 152, // __u64
  wire_len: 160,
  gso_segs: 164,
  sk: 168, // __bpf_md_ptr
  gso_size: 176,
  tstamp_type: 180, // __u8, then 3 bytes of padding
  hwtstamp: 184, // __u64
} as const;

/** include/uapi/linux/if_packet.h */
export const PACKET_HOST = 0;
export const PACKET_BROADCAST = 1;
export const PACKET_MULTICAST = 2;
export const PACKET_OTHERHOST = 3;
export const PACKET_OUTGOING = 4;

/** include/uapi/linux/if_ether.h */
export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_802_3 = 0x0001;
export const ETH_P_802_2 = 0x0004;

/**
 * include/linux/skbuff.h: NET_SKB_PAD (max(32, L1_CACHE_BYTES) = 64 on x86-64) + NET_IP_ALIGN (0
 * on x86): the headroom BPF_PROG_TEST_RUN reserves (net/bpf/test_run.c bpf_prog_test_run_skb).
 */
export const SKB_TEST_RUN_HEADROOM = 64;
/** SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) on x86-64: 320 bytes. */
export const SKB_SHARED_INFO_SIZE = 320;
/** BPF_SKB_MAX_LEN = SKB_MAX_ALLOC = (PAGE_SIZE << 2) - SKB_DATA_ALIGN(skb_shared_info) (filter.c). */
export const BPF_SKB_MAX_LEN = 16384 - SKB_SHARED_INFO_SIZE;
/** include/linux/netdevice.h: skb->queue_mapping writes of this or more are ignored. */
export const NO_QUEUE_MAPPING = 0xffff;

/** Tunnel metadata attached to an skb (struct ip_tunnel_info, include/net/ip_tunnels.h). */
export interface TunnelInfo {
  /** IP_TUNNEL_INFO_TX: set by bpf_skb_set_tunnel_key for a collect_md device to encapsulate. */
  mode: 'rx' | 'tx';
  ipv6: boolean;
  /** key.tun_id as a host number. */
  id: bigint;
  /** Outer source and destination (4 or 16 bytes, network order). */
  src: Uint8Array;
  dst: Uint8Array;
  tos: number;
  ttl: number;
  /** IPv6 flow label (host order, 20 bits). */
  label: number;
  /** IP_TUNNEL_*_BIT flags as bpf_skb_set_tunnel_key sets them. */
  flags: { noCache: boolean; dontFragment: boolean; csum: boolean; seq: boolean; key: boolean };
  /** Tunnel options (Geneve/VXLAN-GBP/ERSPAN), bpf_skb_set_tunnel_opt. */
  options: Uint8Array;
}

/** The socket an skb belongs to (skb->sk), as far as tc programs can see it. */
export interface SkbSocket extends BpfSockFields {
  /** sock_gen_cookie(): what bpf_get_socket_cookie returns. */
  cookie: bigint;
  /** The net_cls classid of the socket's cgroup (bpf_get_cgroup_classid). */
  classid?: number;
}

/**
 * A packet as the kernel's sk_buff holds it, as plain data. Numbers are host order unless a
 * comment says otherwise.
 */
export interface SkbState {
  /** The bytes from skb->data: the Ethernet header for tc; the network header for socket filters. */
  data: Uint8Array;
  /** XDP metadata in front of the data (skb_metadata_len). */
  meta: Uint8Array;
  /** skb_network_offset(): the network header's offset in `data` (14 for Ethernet, 0 for raw IP). */
  networkOffset: number;
  /**
   * Link-layer header bytes just before skb->data (the MAC header a socket filter's skb has
   * already pulled; empty when data starts at the MAC header, as for tc). bpf_skb_load_bytes_relative
   * with BPF_HDR_START_MAC reads from here.
   */
  pulledMac?: Uint8Array;
  /** skb->protocol as an ethertype in host order (0x0800); the context field shows it big-endian. */
  protocol: number;
  pktType: number;
  mark: number;
  priority: number;
  /** skb->dev->ifindex. */
  ifindex: number;
  /** skb->skb_iif. */
  ingressIfindex: number;
  queueMapping: number;
  vlan?: { tci: number; proto: number };
  /** skb->hash; l4Hash marks a hash over the 4-tuple (skb->l4_hash), swHash one set by software (bpf_set_hash). */
  hash: number;
  l4Hash: boolean;
  swHash: boolean;
  cb: number[];
  tcIndex: number;
  tcClassid: number;
  tstamp: bigint;
  tstampType: number;
  hwtstamp: bigint;
  napiId: number;
  /** qdisc_skb_cb(skb)->pkt_len. */
  wireLen: number;
  gsoSegs: number;
  gsoSize: number;
  /** Which hook sees the packet (tc ingress or egress); helpers such as skb_change_head differ. */
  direction: 'ingress' | 'egress';
  /** skb->ip_summed and skb->csum, as the checksum helpers keep them. */
  csum: SkbCsumState;
  /** skb->encapsulation (set by bpf_skb_adjust_room with encap flags). */
  encapsulation: boolean;
  tunnel?: TunnelInfo;
  sk?: SkbSocket;
}

const be16 = (b: Uint8Array, o: number): number => (b[o] << 8) | b[o + 1];

/**
 * eth_type_trans() (net/ethernet/eth.c) against a device with MAC `deviceMac` and broadcast
 * address `deviceBroadcast`: the packet type and skb->protocol of an Ethernet frame.
 * BPF_PROG_TEST_RUN uses the loopback device, whose address and broadcast address are all
 * zeros, so a frame to 00:00:00:00:00:00 is PACKET_HOST, any other unicast frame
 * PACKET_OTHERHOST, and ff:ff:ff:ff:ff:ff PACKET_MULTICAST (measured on Linux 6.18).
 */
export function ethTypeTrans(
  frame: Uint8Array,
  deviceMac: Uint8Array = ZERO_MAC,
  deviceBroadcast: Uint8Array = ZERO_MAC,
): { pktType: number; protocol: number } {
  if (frame.length < ETH_HLEN) throw new RangeError(`ethTypeTrans: a frame of ${frame.length} bytes has no Ethernet header`);
  return { pktType: ethPktType(frame, deviceMac, deviceBroadcast), protocol: ethProtocol(frame) };
}

/** The loopback device's MAC and broadcast address (only ever read). */
const ZERO_MAC = new Uint8Array(6);
const BROADCAST_MAC = new Uint8Array(6).fill(0xff);

/** eth_type_trans's skb->pkt_type (the caller checks the frame holds an Ethernet header). */
function ethPktType(frame: Uint8Array, deviceMac: Uint8Array, deviceBroadcast: Uint8Array): number {
  let same = true;
  for (let i = 0; i < 6; i++) if (frame[i] !== deviceMac[i]) same = false;
  if (same) return PACKET_HOST;
  if (!(frame[0] & 1)) return PACKET_OTHERHOST;
  for (let i = 0; i < 6; i++) if (frame[i] !== deviceBroadcast[i]) return PACKET_MULTICAST;
  return PACKET_BROADCAST;
}

/** eth_type_trans's skb->protocol. */
function ethProtocol(frame: Uint8Array): number {
  const proto = be16(frame, 12);
  // eth_proto_is_802_3: >= ETH_P_802_3_MIN (0x600) is an ethertype; else 802.3 raw or 802.2.
  if (proto >= 0x600) return proto;
  return frame.length >= 16 && be16(frame, 14) === 0xffff ? ETH_P_802_3 : ETH_P_802_2;
}

export interface SkbStateInit extends Partial<Omit<SkbState, 'data'>> {
  /** The device's MAC for eth_type_trans (default: the loopback's, all zeros). */
  deviceMac?: Uint8Array;
  /** The device's broadcast address (default: ff:ff:ff:ff:ff:ff with a deviceMac, else the loopback's zeros). */
  deviceBroadcast?: Uint8Array;
}

/**
 * An skb for an Ethernet frame with the defaults of BPF_PROG_TEST_RUN for tc
 * (net/bpf/test_run.c bpf_prog_test_run_skb): the loopback device (ifindex 1), skb_iif 0,
 * protocol and pkt_type from eth_type_trans, wire_len = len, everything else zero.
 */
export function skbFromFrame(frame: Uint8Array, init: SkbStateInit = NO_INIT): SkbState {
  return buildSkb(frame, init, true);
}

/**
 * skbFromFrame without the copy: the state's `data` is `frame` itself. For callers that hand
 * the frame over and leave it alone while the state is in use, such as the scenario pipeline
 * (CtxRunner.runSkb copies the bytes into VM memory and never writes its input). A packet copy
 * costs as much as a few helper calls (bench/packets/nodeport.ts).
 */
export function skbSharingFrame(frame: Uint8Array, init: SkbStateInit = NO_INIT): SkbState {
  return buildSkb(frame, init, false);
}

function buildSkb(frame: Uint8Array, init: SkbStateInit, copy: boolean): SkbState {
  if (frame.length < ETH_HLEN) throw new RangeError(`ethTypeTrans: a frame of ${frame.length} bytes has no Ethernet header`);
  const deviceMac = init.deviceMac ?? ZERO_MAC;
  const broadcast = init.deviceBroadcast ?? (init.deviceMac ? BROADCAST_MAC : ZERO_MAC);
  // A literal rather than a spread of `init` over the defaults: this runs for every packet.
  const state: SkbState = {
    data: copy ? copyPacket(frame) : frame,
    meta: new Uint8Array(0),
    networkOffset: ETH_HLEN,
    protocol: ethProtocol(frame),
    pktType: ethPktType(frame, deviceMac, broadcast),
    mark: 0,
    priority: 0,
    ifindex: 1,
    ingressIfindex: 0,
    queueMapping: 0,
    hash: 0,
    l4Hash: false,
    swHash: false,
    cb: [0, 0, 0, 0, 0],
    tcIndex: 0,
    tcClassid: 0,
    tstamp: 0n,
    tstampType: 0,
    hwtstamp: 0n,
    napiId: 0,
    wireLen: frame.length,
    gsoSegs: 0,
    gsoSize: 0,
    direction: 'ingress',
    csum: { ipSummed: 'none', csum: 0 },
    encapsulation: false,
  };
  // What the spread `{ ...defaults, ...rest }` did: every own key of init but the device's
  // addresses overrides the default (an explicit undefined included). The usual keys are stored
  // by name: a computed-key store per key made this function cost more than the packet's run
  // (bench/packets/nodeport.ts measured it).
  const keys = Object.keys(init);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (k !== 'deviceMac' && k !== 'deviceBroadcast' && !setKnownField(state, init, k)) (state as unknown as Record<string, unknown>)[k] = (init as Record<string, unknown>)[k];
  }
  return state;
}

/** state[k] = init[k] for the fields callers usually give; false for any other key. */
function setKnownField(state: SkbState, init: SkbStateInit, k: string): boolean {
  switch (k) {
    case 'mark':
      state.mark = init.mark!;
      return true;
    case 'priority':
      state.priority = init.priority!;
      return true;
    case 'ifindex':
      state.ifindex = init.ifindex!;
      return true;
    case 'ingressIfindex':
      state.ingressIfindex = init.ingressIfindex!;
      return true;
    case 'direction':
      state.direction = init.direction!;
      return true;
    case 'cb':
      state.cb = init.cb!;
      return true;
    case 'tcIndex':
      state.tcIndex = init.tcIndex!;
      return true;
    case 'queueMapping':
      state.queueMapping = init.queueMapping!;
      return true;
    case 'hash':
      state.hash = init.hash!;
      return true;
    case 'tstamp':
      state.tstamp = init.tstamp!;
      return true;
    default:
      return false;
  }
}
const NO_INIT: SkbStateInit = Object.freeze({});

/**
 * An skb for a packet without link-layer header (raw IPv4/IPv6, e.g. from a tun device or a
 * LINKTYPE_RAW capture): skb->protocol from the IP version nibble, network offset 0.
 */
export function skbFromIpPacket(packet: Uint8Array, init: Partial<Omit<SkbState, 'data'>> = {}): SkbState {
  const version = packet.length > 0 ? packet[0] >> 4 : 0;
  const protocol = version === 4 ? ETH_P_IP : version === 6 ? ETH_P_IPV6 : 0;
  const base = skbFromFrame(new Uint8Array(ETH_HLEN), {});
  return { ...base, data: packet.slice(), networkOffset: 0, protocol, pktType: PACKET_HOST, wireLen: packet.length, ...init };
}

/** A deep copy (the state is plain data; runs never modify their input). */
export function cloneSkbState(s: SkbState): SkbState {
  return { ...cloneSkbFields(s), data: s.data.slice(), meta: s.meta.slice() };
}

/** A copy of everything but the bytes (which a run keeps in its PacketBuffer). */
function cloneSkbFields(s: SkbState): SkbState {
  // Field by field rather than an object spread: this runs for every packet, and V8 builds a
  // fixed-shape literal several times faster (bench/packets measured it).
  return {
    data: s.data,
    meta: s.meta,
    networkOffset: s.networkOffset,
    protocol: s.protocol,
    pktType: s.pktType,
    mark: s.mark,
    priority: s.priority,
    ifindex: s.ifindex,
    ingressIfindex: s.ingressIfindex,
    queueMapping: s.queueMapping,
    hash: s.hash,
    l4Hash: s.l4Hash,
    swHash: s.swHash,
    tcIndex: s.tcIndex,
    tcClassid: s.tcClassid,
    tstamp: s.tstamp,
    tstampType: s.tstampType,
    hwtstamp: s.hwtstamp,
    napiId: s.napiId,
    wireLen: s.wireLen,
    gsoSegs: s.gsoSegs,
    gsoSize: s.gsoSize,
    direction: s.direction,
    encapsulation: s.encapsulation,
    cb: s.cb.slice(),
    pulledMac: s.pulledMac?.slice(),
    vlan: s.vlan && { ...s.vlan },
    csum: { ipSummed: s.csum.ipSummed, csum: s.csum.csum },
    tunnel: s.tunnel && { ...s.tunnel, src: s.tunnel.src.slice(), dst: s.tunnel.dst.slice(), options: s.tunnel.options.slice(), flags: { ...s.tunnel.flags } },
    sk: s.sk && { ...s.sk },
  };
}

export type SkbProgramKind = 'tc' | 'socket_filter';

/**
 * The access table of __sk_buff for a program type.
 *
 * bpf_skb_is_valid_access (common to both): narrow loads (1, 2, 4 bytes) of the plain u32
 * fields, stores only as 4 bytes; cb[] any size inside cb; data, data_end, data_meta and the
 * remote/local addresses 4 bytes only; flow_keys never; tstamp 8 bytes; hwtstamp and sk 8-byte
 * loads only; tstamp_type and the padding after it never.
 *
 * tc_cls_act_is_valid_access: stores to mark, tc_index, priority, tc_classid, cb[], tstamp,
 * queue_mapping only; family..local_port forbidden (tc has no socket view); tstamp_type a
 * 1-byte load.
 *
 * sk_filter_is_valid_access: no tc_classid, data, data_meta, data_end, family..local_port
 * (no direct packet access), tstamp, wire_len, hwtstamp; stores to cb[] only.
 *
 * Checked offset by offset, size by size against the Linux 6.18 verifier
 * (test/ctx/access-matrix.test.ts).
 */
export function skbAccessTable(kind: SkbProgramKind): CtxAccessTable {
  let table = skbTables.get(kind);
  if (!table) {
    table = buildSkbAccessTable(kind);
    skbTables.set(kind, table);
  }
  return table;
}
const skbTables = new Map<SkbProgramKind, CtxAccessTable>();

function buildSkbAccessTable(kind: SkbProgramKind): CtxAccessTable {
  const t = new CtxTableBuilder(SK_BUFF_SIZE);
  // Plain u32 fields: narrow loads, 4-byte stores (the store list is filtered below).
  const plain = ['len', 'pkt_type', 'mark', 'queue_mapping', 'protocol', 'vlan_present', 'vlan_tci', 'vlan_proto', 'priority',
    'ingress_ifindex', 'ifindex', 'tc_index', 'hash', 'tc_classid', 'napi_id', 'wire_len', 'gso_segs', 'gso_size'] as const;
  for (const f of plain) t.field(SKB[f], 4, NARROW4, SZ4);
  t.field(SKB.cb, 20, SZ1 | SZ2 | SZ4 | SZ8, SZ1 | SZ2 | SZ4 | SZ8);
  t.whole(SKB.data, 4, SZ4).whole(SKB.data_end, 4, SZ4).whole(SKB.data_meta, 4, SZ4);
  t.field(SKB.family, 4, NARROW4, SZ4); // family is a plain field for sk_skb; tc and socket filters deny it below
  for (let i = 0; i < 10; i++) t.whole(SKB.remote_ip4 + 4 * i, 4, SZ4, SZ4); // remote_ip4 .. remote_ip6/local_ip6
  t.field(SKB.remote_port, 4, NARROW4, SZ4).field(SKB.local_port, 4, NARROW4, SZ4);
  t.whole(SKB.tstamp, 8, SZ8, SZ8);
  t.whole(SKB.hwtstamp, 8, SZ8);
  t.whole(SKB.sk, 8, SZ8);
  t.deny(SKB.flow_keys, 8).deny(SKB.tstamp_type, 4);
  t.pointer(SKB.sk, 0n);

  const writable = new Set<number>();
  const allowWrite = (off: number, width: number) => {
    for (let i = off; i < off + width; i++) writable.add(i);
  };
  if (kind === 'tc') {
    allowWrite(SKB.mark, 4);
    allowWrite(SKB.tc_index, 4);
    allowWrite(SKB.priority, 4);
    allowWrite(SKB.tc_classid, 4);
    allowWrite(SKB.cb, 20);
    allowWrite(SKB.tstamp, 8);
    allowWrite(SKB.queue_mapping, 4);
    t.deny(SKB.family, SKB.local_port + 4 - SKB.family);
    t.readSizes[SKB.tstamp_type] = SZ1;
    t.pointer(SKB.data).pointer(SKB.data_end).pointer(SKB.data_meta);
  } else {
    allowWrite(SKB.cb, 20);
    t.deny(SKB.tc_classid, 4).deny(SKB.data, 8).deny(SKB.data_meta, 4);
    // Also refused for socket filters on Linux 6.18 (measured: test/ctx/access-matrix.test.ts).
    t.deny(SKB.tstamp, 8).deny(SKB.wire_len, 4).deny(SKB.hwtstamp, 8);
    t.deny(SKB.family, SKB.local_port + 4 - SKB.family);
  }
  for (let i = 0; i < SK_BUFF_SIZE; i++) if (!writable.has(i)) t.writeSizes[i] = 0;
  return t.build();
}

/** What a program type lets a run write back into the skb (tc_cls_act_convert_ctx_access). */
function writeBack(kind: SkbProgramKind, dv: DataView, base: number, s: SkbState): void {
  for (let i = 0; i < 5; i++) s.cb[i] = dv.getUint32(base + SKB.cb + 4 * i, true);
  if (kind !== 'tc') return;
  s.mark = dv.getUint32(base + SKB.mark, true);
  s.priority = dv.getUint32(base + SKB.priority, true);
  // skb->tc_index and qdisc_skb_cb->tc_classid are 16 bits wide: the store keeps the low half.
  s.tcIndex = dv.getUint32(base + SKB.tc_index, true) & 0xffff;
  s.tcClassid = dv.getUint32(base + SKB.tc_classid, true) & 0xffff;
  s.tstamp = dv.getBigUint64(base + SKB.tstamp, true);
  // A store of NO_QUEUE_MAPPING or more is skipped (the rewrite jumps over it).
  const qm = dv.getUint32(base + SKB.queue_mapping, true);
  if (qm < NO_QUEUE_MAPPING) s.queueMapping = qm;
}

const htons = (v: number): number => ((v & 0xff) << 8) | ((v >> 8) & 0xff);

/**
 * A prepared skb run: the __sk_buff context and the packet laid out in a Machine. Created by
 * prepareSkbRun; helpers change `state` and the buffer; collect() gives the state after the run.
 */
export class SkbRun {
  readonly ctxOffset: number;
  readonly ctxRegion: number;
  readonly buffer: PacketBuffer;
  /** r1 for the program (the context never moves). */
  readonly ctxAddress: bigint;
  private readonly skOffset: number;
  private readonly skRegion: number;
  private readonly headroom: number;
  /**
   * The state as helpers keep it during the run (data bytes live in `buffer`). collect() hands
   * this object out instead of copying it; `handedOut` makes the next access take a copy, so
   * what collect() returned never changes afterwards.
   */
  private current!: SkbState;
  private handedOut = false;
  /** A DataView over the machine's memory, remade only when the memory grows. */
  private view: DataView | undefined;
  private viewOf: Uint8Array | undefined;
  /** Whether the bpf_sock block holds a socket (else it is all zeros, as alloc left it). */
  private skWritten = false;
  /**
   * The pointer fields as last given to the machine (setPointerField rewrites the context's
   * shadow table; most packets leave them where the previous one had them).
   */
  private readonly pointers: (bigint | undefined)[] = [undefined, undefined, undefined, undefined];

  constructor(
    readonly machine: Machine,
    input: SkbState,
    readonly kind: SkbProgramKind,
    opts: { headroom?: number; tailroom?: number } = {},
  ) {
    this.headroom = opts.headroom ?? SKB_TEST_RUN_HEADROOM;
    this.buffer = new PacketBuffer(machine, input.data, {
      headroom: Math.max(this.headroom, input.meta.length),
      // The kernel's linear buffer ends in skb_shared_info; here those bytes belong to no region,
      // so a load just past data_end faults instead of reaching a neighbouring allocation.
      tailroom: opts.tailroom ?? SKB_SHARED_INFO_SIZE,
      meta: input.meta,
      name: 'packet',
      growable: true,
    });
    this.ctxOffset = machine.alloc(SK_BUFF_SIZE, 8);
    this.ctxRegion = machine.addCtxRegion(this.ctxOffset, SK_BUFF_SIZE, '__sk_buff', skbAccessTable(kind));
    this.ctxAddress = machine.toVirtual(this.ctxOffset);
    // skb->sk: a struct bpf_sock the program may read (PTR_TO_SOCK_COMMON_OR_NULL), NULL without a socket.
    this.skOffset = machine.alloc(BPF_SOCK_SIZE, 8);
    this.skRegion = machine.addRegion(this.skOffset, BPF_SOCK_SIZE, { kind: 'mem', name: 'bpf_sock of skb->sk', read: true, write: false });
    this.buffer.onChange = () => this.refresh();
    this.load(input, false);
  }

  get state(): SkbState {
    if (this.handedOut) {
      const s = this.current;
      this.current = cloneSkbFields(s);
      this.current.data = s.data.slice();
      this.current.meta = s.meta.slice();
      this.handedOut = false;
    }
    return this.current;
  }
  set state(s: SkbState) {
    this.current = s;
    this.handedOut = false;
  }

  /** Prepares the next run on this layout (reusing its memory and regions). */
  load(input: SkbState, resetBuffer = true): void {
    if (!Array.isArray(input.cb) || input.cb.length > 5) throw new RangeError('skb state: cb must hold at most 5 u32 values');
    this.state = cloneSkbFields(input);
    // The context is not zeroed first: writeAllFields and refresh write every field a program
    // may read, and the rest (pointer fields, family..local_port, flow_keys, padding) can be
    // neither read nor written through the access table, so it keeps the zeros alloc gave it.
    if (this.skWritten) this.machine.bytes().fill(0, this.skOffset, this.skOffset + BPF_SOCK_SIZE);
    this.skWritten = input.sk !== undefined;
    if (input.sk) writeBpfSock(this.dv(), this.skOffset, input.sk);
    this.setPointer(3, SKB.sk, input.sk ? this.machine.toVirtual(this.skOffset) : 0n);
    this.writeAllFields();
    // Resetting the buffer re-establishes the packet pointers and derived fields (refresh).
    if (resetBuffer) this.buffer.reset(input.data, input.meta, Math.max(this.headroom, input.meta.length));
    else this.refresh();
    const mac = input.pulledMac;
    if (mac && mac.length > 0) {
      if (mac.length + input.meta.length > this.buffer.headroom + input.meta.length) throw new RangeError(`skb state: a ${mac.length}-byte pulled MAC header does not fit the headroom`);
      // The pulled bytes stay in the buffer before data, outside every region (as after __skb_pull).
      this.buffer.writeBeforeData(mac);
    }
  }

  private dv(): DataView {
    const b = this.machine.bytes();
    if (b !== this.viewOf || !this.view) {
      this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
      this.viewOf = b;
    }
    return this.view;
  }

  /** setPointerField, skipped when the field already holds `value`. */
  private setPointer(slot: number, field: number, value: bigint): void {
    if (this.pointers[slot] === value) return;
    this.machine.setPointerField(this.ctxRegion, field, value);
    this.pointers[slot] = value;
  }

  private writeAllFields(): void {
    const dv = this.dv();
    const o = this.ctxOffset;
    const s = this.current;
    dv.setUint32(o + SKB.mark, s.mark >>> 0, true);
    dv.setUint32(o + SKB.queue_mapping, s.queueMapping & 0xffff, true);
    dv.setUint32(o + SKB.priority, s.priority >>> 0, true);
    dv.setUint32(o + SKB.ingress_ifindex, s.ingressIfindex >>> 0, true);
    dv.setUint32(o + SKB.ifindex, s.ifindex >>> 0, true);
    dv.setUint32(o + SKB.tc_index, s.tcIndex & 0xffff, true);
    for (let i = 0; i < 5; i++) dv.setUint32(o + SKB.cb + 4 * i, (s.cb[i] ?? 0) >>> 0, true);
    dv.setUint32(o + SKB.tc_classid, s.tcClassid & 0xffff, true);
    dv.setUint32(o + SKB.napi_id, s.napiId >>> 0, true);
    setU64(dv, o + SKB.tstamp, s.tstamp);
    dv.setUint32(o + SKB.wire_len, s.wireLen >>> 0, true);
    dv.setUint32(o + SKB.gso_segs, s.gsoSegs >>> 0, true);
    dv.setUint32(o + SKB.gso_size, s.gsoSize >>> 0, true);
    dv.setUint8(o + SKB.tstamp_type, s.tstampType & 3);
    setU64(dv, o + SKB.hwtstamp, s.hwtstamp);
  }

  /**
   * Rewrites the read-only fields a helper may have changed (len, protocol, pkt_type, hash,
   * vlan) and the packet pointers, as the ctx rewrite would read them from the skb now.
   */
  refresh(): void {
    const dv = this.dv();
    const o = this.ctxOffset;
    const s = this.state;
    dv.setUint32(o + SKB.len, this.buffer.length, true);
    dv.setUint32(o + SKB.pkt_type, s.pktType & 7, true);
    dv.setUint32(o + SKB.protocol, htons(s.protocol), true);
    const vlan = s.vlan;
    dv.setUint32(o + SKB.vlan_present, vlan ? 1 : 0, true);
    dv.setUint32(o + SKB.vlan_tci, vlan ? vlan.tci & 0xffff : 0, true);
    dv.setUint32(o + SKB.vlan_proto, vlan ? htons(vlan.proto) : 0, true);
    dv.setUint32(o + SKB.hash, s.hash >>> 0, true);
    if (this.kind === 'tc') {
      this.setPointer(0, SKB.data, this.buffer.data);
      this.setPointer(1, SKB.data_end, this.buffer.dataEnd);
      this.setPointer(2, SKB.data_meta, this.buffer.dataMeta);
    }
  }

  /** Reads the mark, priority, cb[] ... the program may have written into `state` now. */
  syncFromCtx(): void {
    writeBack(this.kind, this.dv(), this.ctxOffset, this.state);
  }

  /** The skb after the run: fields written by the program, the packet as helpers left it. */
  collect(): SkbState {
    this.syncFromCtx();
    const out = this.current;
    out.data = this.buffer.bytes();
    out.meta = this.buffer.metaBytes();
    this.handedOut = true;
    return out;
  }

  release(): void {
    this.machine.removeRegion(this.ctxRegion);
    this.machine.free(this.ctxOffset);
    this.machine.removeRegion(this.skRegion);
    this.machine.free(this.skOffset);
    this.buffer.release();
  }
}

/** A u64 context field; the common zero without BigInt arithmetic. */
function setU64(dv: DataView, at: number, v: bigint): void {
  if (v === 0n) {
    dv.setUint32(at, 0, true);
    dv.setUint32(at + 4, 0, true);
  } else {
    dv.setBigUint64(at, BigInt.asUintN(64, v), true);
  }
}

/** Lays out an skb run in `machine` (the context and the packet regions). */
export function prepareSkbRun(machine: Machine, state: SkbState, kind: SkbProgramKind = 'tc'): SkbRun {
  return new SkbRun(machine, state, kind);
}

/** The skb after a run (see SkbRun.collect), releasing the run's memory. */
export function collectSkbRun(run: SkbRun): SkbState {
  try {
    return run.collect();
  } finally {
    run.release();
  }
}
