// struct xdp_md (include/uapi/linux/bpf.h) for XDP programs and the frame behind it, as
// BPF_PROG_TEST_RUN builds it (net/bpf/test_run.c bpf_prog_test_run_xdp): one page, the data
// XDP_PACKET_HEADROOM (256) bytes into it, SKB_DATA_ALIGN(sizeof(struct skb_shared_info)) bytes
// reserved at its end, metadata (ctx_in's `data`) taken from the headroom.
import type { Machine } from '../vm/machine.js';
import type { CtxAccessTable } from '../vm/types.js';
import { CtxTableBuilder, SZ4 } from './access.js';
import { PacketBuffer } from './packet-buffer.js';
import { SKB_SHARED_INFO_SIZE } from './skb.js';

export const XDP_MD_SIZE = 24;
export const XDP_MD = {
  data: 0,
  data_end: 4,
  data_meta: 8,
  ingress_ifindex: 12,
  rx_queue_index: 16,
  egress_ifindex: 20,
} as const;

/** include/uapi/linux/bpf.h */
export const XDP_PACKET_HEADROOM = 256;
/** The frame BPF_PROG_TEST_RUN gives a linear XDP buffer: PAGE_SIZE. */
export const XDP_FRAME_SIZE = 4096;
/** Largest linear packet of a test run: PAGE_SIZE - headroom - tailroom (3520 bytes). */
export const XDP_MAX_LINEAR = XDP_FRAME_SIZE - XDP_PACKET_HEADROOM - SKB_SHARED_INFO_SIZE;
/**
 * sizeof(struct xdp_frame) on x86-64 (include/net/xdp.h): bpf_xdp_adjust_head and
 * bpf_xdp_adjust_meta keep it free at the start of the headroom.
 */
export const XDP_FRAME_STRUCT_SIZE = 40;

/** enum xdp_action. */
export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;

/**
 * xdp_is_valid_access (net/core/filter.c): every field is a 4-byte load at its own offset (no
 * narrow loads), no stores (only offloaded programs may write rx_queue_index), egress_ifindex
 * only for programs attached to a DEVMAP entry (BPF_XDP_DEVMAP).
 */
export function xdpAccessTable(devmap: boolean): CtxAccessTable {
  return (xdpTables[devmap ? 1 : 0] ??= buildXdpAccessTable(devmap));
}
const xdpTables: (CtxAccessTable | undefined)[] = [];

function buildXdpAccessTable(devmap: boolean): CtxAccessTable {
  const t = new CtxTableBuilder(XDP_MD_SIZE);
  for (const off of Object.values(XDP_MD)) t.whole(off, 4, SZ4);
  if (!devmap) t.deny(XDP_MD.egress_ifindex, 4);
  t.pointer(XDP_MD.data).pointer(XDP_MD.data_end).pointer(XDP_MD.data_meta);
  return t.build();
}

export interface XdpState {
  /** Packet bytes from xdp->data. */
  data: Uint8Array;
  /** Metadata between data_meta and data. */
  meta: Uint8Array;
  /** rxq->dev->ifindex: BPF_PROG_TEST_RUN uses the loopback device (1) without ctx_in. */
  ingressIfindex: number;
  rxQueueIndex: number;
  /** txq->dev->ifindex, only for BPF_XDP_DEVMAP programs. */
  egressIfindex: number;
}

export function xdpFromFrame(frame: Uint8Array, init: Partial<Omit<XdpState, 'data'>> = {}): XdpState {
  return { data: frame.slice(), meta: new Uint8Array(0), ingressIfindex: 1, rxQueueIndex: 0, egressIfindex: 0, ...init };
}

export class XdpRun {
  readonly ctxOffset: number;
  readonly ctxRegion: number;
  readonly buffer: PacketBuffer;
  state!: XdpState;

  constructor(
    readonly machine: Machine,
    state: XdpState,
    readonly devmap: boolean,
  ) {
    checkXdpState(state);
    this.buffer = new PacketBuffer(machine, state.data, {
      headroom: XDP_PACKET_HEADROOM,
      tailroom: XDP_FRAME_SIZE - XDP_PACKET_HEADROOM - state.data.length,
      meta: state.meta,
      name: 'packet',
      growable: false,
    });
    this.ctxOffset = machine.alloc(XDP_MD_SIZE, 8);
    this.ctxRegion = machine.addCtxRegion(this.ctxOffset, XDP_MD_SIZE, 'xdp_md', xdpAccessTable(devmap));
    this.buffer.onChange = () => this.refresh();
    this.load(state, false);
  }

  /** Prepares the next run on this frame (reusing its memory and regions). */
  load(state: XdpState, resetBuffer = true): void {
    checkXdpState(state);
    this.state = state;
    if (resetBuffer) this.buffer.reset(state.data, state.meta, XDP_PACKET_HEADROOM, XDP_FRAME_SIZE - XDP_PACKET_HEADROOM - state.data.length);
    const b = this.machine.bytes();
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    dv.setUint32(this.ctxOffset + XDP_MD.ingress_ifindex, state.ingressIfindex >>> 0, true);
    dv.setUint32(this.ctxOffset + XDP_MD.rx_queue_index, state.rxQueueIndex >>> 0, true);
    dv.setUint32(this.ctxOffset + XDP_MD.egress_ifindex, state.egressIfindex >>> 0, true);
    this.refresh();
  }

  /** r1 for the program (the context never moves; computed once, as helpers compare against it). */
  get ctxAddress(): bigint {
    return (this.ctxAddr ??= this.machine.toVirtual(this.ctxOffset));
  }
  private ctxAddr: bigint | undefined;
  /** The pointer fields as last given to the machine (skip rewriting unchanged ones). */
  private readonly pointers: (bigint | undefined)[] = [undefined, undefined, undefined];

  private setPointer(slot: number, field: number, value: bigint): void {
    if (this.pointers[slot] === value) return;
    this.machine.setPointerField(this.ctxRegion, field, value);
    this.pointers[slot] = value;
  }

  /** The end of the usable frame: data_hard_start + frame_sz - tailroom (xdp_data_hard_end). */
  get hardEndOffset(): number {
    return XDP_FRAME_SIZE - SKB_SHARED_INFO_SIZE;
  }

  refresh(): void {
    this.setPointer(0, XDP_MD.data, this.buffer.data);
    this.setPointer(1, XDP_MD.data_end, this.buffer.dataEnd);
    this.setPointer(2, XDP_MD.data_meta, this.buffer.dataMeta);
  }

  collect(): XdpState {
    return { ...this.state, data: this.buffer.bytes(), meta: this.buffer.metaBytes() };
  }

  release(): void {
    this.machine.removeRegion(this.ctxRegion);
    this.machine.free(this.ctxOffset);
    this.buffer.release();
  }
}

function checkXdpState(state: XdpState): void {
  if (state.data.length > XDP_MAX_LINEAR) {
    throw new RangeError(`xdp: a ${state.data.length}-byte packet does not fit a ${XDP_FRAME_SIZE}-byte frame (at most ${XDP_MAX_LINEAR} bytes; multi-buffer frames are not emulated)`);
  }
  if (state.data.length < 14) throw new RangeError(`xdp: a ${state.data.length}-byte packet is shorter than an Ethernet header`);
  // xdp_metalen_invalid: a multiple of 4, at most 255 (skb_shared_info.meta_len is a u8).
  if (state.meta.length % 4 !== 0 || state.meta.length > 252) throw new RangeError(`xdp: metadata of ${state.meta.length} bytes (must be a multiple of 4, at most 252)`);
}

export function prepareXdpRun(machine: Machine, state: XdpState, opts: { devmap?: boolean } = {}): XdpRun {
  return new XdpRun(machine, state, opts.devmap ?? false);
}

export function collectXdpRun(run: XdpRun): XdpState {
  try {
    return run.collect();
  } finally {
    run.release();
  }
}
