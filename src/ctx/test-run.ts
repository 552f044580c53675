// BPF_PROG_TEST_RUN's view of the contexts (net/bpf/test_run.c), so that a bpfbed run can take
// the same data_in / ctx_in as the kernel and produce the same data_out / ctx_out: which ctx_in
// fields the kernel accepts (convert___skb_to_skb, xdp_convert_md_to_buff), the defaults it fills
// in, and what it copies back (convert_skb_to___skb, xdp_convert_buff_to_md).
import { ETH_HLEN, SKB, SK_BUFF_SIZE, skbFromFrame, type SkbState } from './skb.js';
import { socketFilterSkbFromFrame, socketFilterTestRunDataOut } from './socket-filter.js';
import { XDP_MAX_LINEAR, XDP_MD, XDP_MD_SIZE, xdpFromFrame, type XdpState } from './xdp.js';

/** An error BPF_PROG_TEST_RUN would return (errno), with the reason. */
export class TestRunInputError extends Error {
  constructor(
    readonly errno: number,
    message: string,
  ) {
    super(message);
    this.name = 'TestRunInputError';
  }
}

/** GSO_MAX_SEGS and GSO_LEGACY_MAX_SIZE (include/linux/netdevice.h). */
const GSO_MAX_SEGS = 65535;
const GSO_LEGACY_MAX_SIZE = 65536;

/** __sk_buff fields ctx_in may set for tc and socket filters; the rest must be zero (-EINVAL). */
const SKB_CTX_IN_FIELDS: [number, number][] = [
  [SKB.mark, 4],
  [SKB.priority, 4],
  [SKB.ingress_ifindex, 4],
  [SKB.ifindex, 4],
  [SKB.cb, 20],
  [SKB.tstamp, 8],
  [SKB.wire_len, 4],
  [SKB.gso_segs, 4],
  [SKB.gso_size, 4],
  [SKB.hwtstamp, 8],
];

/**
 * The skb bpf_prog_test_run_skb builds for a tc program (kind 'tc': skb->data at the Ethernet
 * header) or a socket filter (at the network header) from data_in and an optional ctx_in
 * (struct __sk_buff bytes). Throws TestRunInputError where the kernel returns an error.
 * `ifindex` > 1 in ctx_in names a device the caller must have (the kernel looks it up).
 */
export function skbFromTestRun(dataIn: Uint8Array, ctxIn: Uint8Array | undefined, kind: 'tc' | 'socket_filter'): SkbState {
  if (dataIn.length < ETH_HLEN) throw new TestRunInputError(22, `data_in: ${dataIn.length} bytes, less than an Ethernet header (ETH_HLEN)`);
  const ctx = new Uint8Array(SK_BUFF_SIZE);
  if (ctxIn) {
    if (ctxIn.length > SK_BUFF_SIZE) {
      // bpf_ctx_init: bytes past the struct must be zero (-E2BIG otherwise).
      if (ctxIn.subarray(SK_BUFF_SIZE).some((b) => b !== 0)) throw new TestRunInputError(7, 'ctx_in: non-zero bytes past struct __sk_buff');
    }
    ctx.set(ctxIn.subarray(0, SK_BUFF_SIZE));
    const allowed = new Uint8Array(SK_BUFF_SIZE);
    for (const [off, len] of SKB_CTX_IN_FIELDS) allowed.fill(1, off, off + len);
    for (let i = 0; i < SK_BUFF_SIZE; i++) {
      if (!allowed[i] && ctx[i] !== 0) throw new TestRunInputError(22, `ctx_in: byte ${i} of __sk_buff is set, but BPF_PROG_TEST_RUN only accepts mark, priority, ingress_ifindex, ifindex, cb, tstamp, wire_len, gso_segs, gso_size, hwtstamp`);
    }
  }
  const dv = new DataView(ctx.buffer);
  const ifindex = dv.getUint32(SKB.ifindex, true);
  const wireLenIn = dv.getUint32(SKB.wire_len, true);
  const gsoSegs = dv.getUint32(SKB.gso_segs, true);
  const init = {
    mark: dv.getUint32(SKB.mark, true),
    priority: dv.getUint32(SKB.priority, true),
    ingressIfindex: dv.getUint32(SKB.ingress_ifindex, true),
    ifindex: ifindex > 1 ? ifindex : 1, // net->loopback_dev unless ctx_in names a device
    cb: [0, 1, 2, 3, 4].map((i) => dv.getUint32(SKB.cb + 4 * i, true)),
    tstamp: dv.getBigUint64(SKB.tstamp, true),
    gsoSegs,
    gsoSize: dv.getUint32(SKB.gso_size, true),
    hwtstamp: dv.getBigUint64(SKB.hwtstamp, true),
  };
  const skb = kind === 'tc' ? skbFromFrame(dataIn, init) : socketFilterSkbFromFrame(dataIn, init);
  // The skb belongs to a dummy socket (sk_alloc(AF_UNSPEC), sock_init_data: TCP_CLOSE) with a
  // cookie bpfbed assigns on first use; bpf_prog_test_run_skb gives it the packet's family and
  // addresses: sk_rcv_saddr = saddr, sk_daddr = daddr (IPv6: sk_v6_rcv_saddr, sk_v6_daddr).
  const nh = dataIn.subarray(ETH_HLEN);
  skb.sk = { cookie: 0n, family: 0, state: 7 };
  if (skb.protocol === 0x0800) {
    skb.sk.family = 2;
    if (nh.length >= 20) Object.assign(skb.sk, { srcIp: nh.slice(12, 16), dstIp: nh.slice(16, 20) });
  } else if (skb.protocol === 0x86dd) {
    skb.sk.family = 10;
    if (nh.length >= 40) Object.assign(skb.sk, { srcIp: nh.slice(8, 24), dstIp: nh.slice(24, 40) });
  }
  if (!ctxIn) {
    // Without ctx_in, convert___skb_to_skb is skipped and qdisc_skb_cb(skb)->pkt_len stays 0.
    skb.wireLen = 0;
  } else if (wireLenIn !== 0) {
    if (wireLenIn < skb.data.length || wireLenIn > GSO_LEGACY_MAX_SIZE) throw new TestRunInputError(22, `ctx_in: wire_len ${wireLenIn} is shorter than the packet or longer than GSO_LEGACY_MAX_SIZE`);
    skb.wireLen = wireLenIn;
  } else {
    skb.wireLen = skb.data.length;
  }
  if (gsoSegs > GSO_MAX_SEGS) throw new TestRunInputError(22, `ctx_in: gso_segs ${gsoSegs} > GSO_MAX_SEGS`);
  return skb;
}

/** ctx_out of a tc / socket filter test run: convert_skb_to___skb copies these fields back. */
export function skbTestRunCtxOut(skb: SkbState): Uint8Array {
  const out = new Uint8Array(SK_BUFF_SIZE);
  const dv = new DataView(out.buffer);
  dv.setUint32(SKB.mark, skb.mark >>> 0, true);
  dv.setUint32(SKB.priority, skb.priority >>> 0, true);
  dv.setUint32(SKB.ingress_ifindex, skb.ingressIfindex >>> 0, true);
  dv.setUint32(SKB.ifindex, skb.ifindex >>> 0, true);
  for (let i = 0; i < 5; i++) dv.setUint32(SKB.cb + 4 * i, (skb.cb[i] ?? 0) >>> 0, true);
  dv.setBigUint64(SKB.tstamp, BigInt.asUintN(64, skb.tstamp), true);
  dv.setUint32(SKB.wire_len, skb.wireLen >>> 0, true);
  dv.setUint32(SKB.gso_segs, skb.gsoSegs >>> 0, true);
  dv.setBigUint64(SKB.hwtstamp, BigInt.asUintN(64, skb.hwtstamp), true);
  return out;
}

/** data_out of a tc / socket filter test run (socket filters get 14 zero bytes in front). */
export function skbTestRunDataOut(skb: SkbState, kind: 'tc' | 'socket_filter'): Uint8Array {
  return kind === 'tc' ? skb.data.slice() : socketFilterTestRunDataOut(skb.data);
}

/**
 * The XDP buffer bpf_prog_test_run_xdp builds: without ctx_in the loopback device's queue 0;
 * with it, `data` = the metadata length at the start of data_in (a multiple of 4), data_end =
 * the size of data_in, data_meta and egress_ifindex 0, rx_queue_index only with an ingress
 * device.
 */
export function xdpFromTestRun(dataIn: Uint8Array, ctxIn?: Uint8Array): XdpState {
  if (dataIn.length < ETH_HLEN) throw new TestRunInputError(22, `data_in: ${dataIn.length} bytes, less than an Ethernet header`);
  if (!ctxIn) return xdpFromFrame(dataIn);
  const ctx = new Uint8Array(XDP_MD_SIZE);
  ctx.set(ctxIn.subarray(0, XDP_MD_SIZE));
  const dv = new DataView(ctx.buffer);
  const data = dv.getUint32(XDP_MD.data, true);
  const dataEnd = dv.getUint32(XDP_MD.data_end, true);
  if (dv.getUint32(XDP_MD.data_meta, true) !== 0 || dataEnd !== dataIn.length || data > dataEnd || data % 4 !== 0 || data > 252) {
    throw new TestRunInputError(22, `ctx_in: data_meta must be 0, data_end the packet size (${dataIn.length}) and data the metadata length (a multiple of 4)`);
  }
  if (dv.getUint32(XDP_MD.egress_ifindex, true) !== 0) throw new TestRunInputError(22, 'ctx_in: egress_ifindex must be 0');
  const ingress = dv.getUint32(XDP_MD.ingress_ifindex, true);
  const rxq = dv.getUint32(XDP_MD.rx_queue_index, true);
  if (!ingress && rxq) throw new TestRunInputError(22, 'ctx_in: rx_queue_index without ingress_ifindex');
  if (dataIn.length - data > XDP_MAX_LINEAR) throw new TestRunInputError(22, `data_in: more than ${XDP_MAX_LINEAR} bytes need a multi-buffer frame`);
  return xdpFromFrame(dataIn.slice(data), { meta: dataIn.slice(0, data), ingressIfindex: ingress || 1, rxQueueIndex: rxq });
}

/**
 * data_out (metadata, then the packet) and ctx_out of an XDP test run: ctx_out is ctx_in with
 * data and data_end rewritten relative to data_meta (xdp_convert_buff_to_md).
 */
export function xdpTestRunOutput(xdp: XdpState, ctxIn?: Uint8Array): { dataOut: Uint8Array; ctxOut?: Uint8Array } {
  const dataOut = new Uint8Array(xdp.meta.length + xdp.data.length);
  dataOut.set(xdp.meta);
  dataOut.set(xdp.data, xdp.meta.length);
  if (!ctxIn) return { dataOut };
  const ctxOut = new Uint8Array(XDP_MD_SIZE);
  ctxOut.set(ctxIn.subarray(0, XDP_MD_SIZE));
  const dv = new DataView(ctxOut.buffer);
  dv.setUint32(XDP_MD.data, xdp.meta.length, true);
  dv.setUint32(XDP_MD.data_end, xdp.meta.length + xdp.data.length, true);
  return { dataOut, ctxOut };
}
