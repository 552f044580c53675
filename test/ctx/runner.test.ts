// The runner's view of a run: verdicts by name, what the program wrote back into the skb (with
// the kernel's field widths), redirect and clone records, and clear errors for misuse.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { PACKET_MULTICAST, PACKET_OTHERHOST, cloneSkbState, ethTypeTrans, skbFromFrame, skbFromIpPacket } from '../../src/ctx/skb.js';
import { socketFilterSkbFromFrame } from '../../src/ctx/socket-filter.js';
import { tcVerdict, tcxVerdict, xdpVerdict } from '../../src/ctx/verdicts.js';
import { xdpFromFrame } from '../../src/ctx/xdp.js';
import { ipv4UdpFrame, skbCtx } from './cases.js';
import { skbFromTestRun } from '../../src/ctx/test-run.js';
import { csumFold, csumPartial } from '../../src/csum/arith.js';

const load = (name: string, opts = {}) =>
  CtxRunner.fromObject(new Uint8Array(readFileSync(fileURLToPath(new URL(`../../fixtures/obj/ctx/${name}.o`, import.meta.url)))), { name, ...opts });

let tc: CtxRunner;
beforeAll(async () => {
  tc = await load('tc_ctx', { deviceExists: (i: number) => i === 1 || i === 4 });
});

const opSkb = (op: number, arg: number, flags = 0n) =>
  skbFromTestRun(ipv4UdpFrame(), skbCtx({ cb: [op, arg, Number(flags & 0xffffffffn), Number(flags >> 32n), 0] }), 'tc');

describe('tc runs', () => {
  it('writes back mark, priority, cb, tstamp and the 16-bit tc_index / tc_classid / queue_mapping', () => {
    const res = tc.runSkb('tc_fields', skbFromFrame(ipv4UdpFrame(), { mark: 5 }));
    expect(res.verdict).toEqual({ value: 0, name: 'TC_ACT_OK', known: true });
    expect(res.skb).toMatchObject({ mark: 0x16, priority: 7, tcIndex: 0x2345, tcClassid: 0xcdef, queueMapping: 3, tstamp: 123456789n });
    expect(res.skb.cb).toEqual([0, 0xdeadbeef, 0, 0, 128]);
  });

  it('does not modify the state it was given', () => {
    const input = skbFromFrame(ipv4UdpFrame());
    const copy = cloneSkbState(input);
    tc.runSkb('tc_fields', input);
    expect(input).toEqual(copy);
  });

  it('bpf_redirect records the target and the verdict is TC_ACT_REDIRECT', () => {
    const res = tc.runSkb('tc_ops', opSkb(10, 4, 1n));
    expect(tcVerdict(res.r0 - 1000n).name).toBe('TC_ACT_REDIRECT');
    expect(res.redirect).toEqual({ kind: 'redirect', ifindex: 4, flags: 1n, ingress: true });
  });

  it('bpf_redirect_neigh records the next hop', () => {
    const res = tc.runSkb('tc_ops', opSkb(12, 4, 1n));
    expect(res.redirect?.kind).toBe('redirect_neigh');
    expect([...res.redirect!.nexthop!.address]).toEqual([10, 0, 0, 1]);
  });

  it('bpf_clone_redirect copies the packet to an existing device and goes on', () => {
    const res = tc.runSkb('tc_ops', opSkb(19, 4));
    expect(res.r0).toBe(1000n);
    expect(res.clones).toHaveLength(1);
    expect(res.clones[0]).toMatchObject({ ifindex: 4, ingress: false });
    expect(res.clones[0].data).toEqual(ipv4UdpFrame());
  });

  it('skb_change_tail past the buffer reallocates and keeps the packet', () => {
    const res = tc.runSkb('tc_ops', opSkb(1, 3000));
    expect(res.r0).toBe(1000n);
    expect(res.skb.data.length).toBe(3000);
    expect(res.skb.data.subarray(0, 128)).toEqual(ipv4UdpFrame());
    expect(res.skb.data.subarray(128).every((b) => b === 0)).toBe(true);
    expect(res.skb.cb[4]).toBe(3000); // data_end - data after the helper
  });

  it('skb_change_head moves the network header offset', () => {
    const res = tc.runSkb('tc_ops', opSkb(2, 8));
    expect(res.skb.networkOffset).toBe(22);
  });

  it('skb_change_proto sets skb->protocol', () => {
    const res = tc.runSkb('tc_ops', opSkb(5, 0x86dd));
    expect(res.skb.protocol).toBe(0x86dd);
    expect(res.skb.data.length).toBe(148);
  });

  it('a tcx program names its verdicts TCX_*, unknown values are TCX_NEXT', () => {
    expect(tc.runSkb('tcx_verdict', skbFromFrame(ipv4UdpFrame(), { cb: [2, 0, 0, 0, 0] })).verdict.name).toBe('TCX_DROP');
    expect(tc.runSkb('tcx_verdict', skbFromFrame(ipv4UdpFrame(), { cb: [7, 0, 0, 0, 0] })).verdict.name).toBe('TCX_REDIRECT');
    expect(tc.runSkb('tcx_verdict', skbFromFrame(ipv4UdpFrame(), { cb: [5, 0, 0, 0, 0] })).verdict).toEqual({ value: 5, name: 'TCX_NEXT', known: false });
  });

  it('a program of another type is refused with its section', () => {
    expect(() => tc.runXdp('tc_fields', xdpFromFrame(ipv4UdpFrame()))).toThrow(/section tc, type sched_cls.*expected xdp/);
  });
});

describe('verdicts', () => {
  it('tc values by name; unknown ones are passed on', () => {
    expect(tcVerdict(0xffffffffn).name).toBe('TC_ACT_UNSPEC');
    expect(tcVerdict(2n).name).toBe('TC_ACT_SHOT');
    expect(tcVerdict(42n)).toEqual({ value: 42, name: 'TC_ACT_42', known: false });
    expect(tcxVerdict(0n).name).toBe('TCX_PASS');
  });
  it('XDP: unknown actions are handled as XDP_ABORTED', () => {
    expect(xdpVerdict(3n).name).toBe('XDP_TX');
    expect(xdpVerdict(9n)).toEqual({ value: 9, name: 'XDP_ABORTED', known: false });
  });
});

describe('skb construction', () => {
  it('eth_type_trans against a real device: OTHERHOST, BROADCAST, MULTICAST', () => {
    const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
    expect(skbFromFrame(ipv4UdpFrame(64, [2, 0, 0, 0, 0, 1]), { deviceMac: mac }).pktType).toBe(0);
    expect(skbFromFrame(ipv4UdpFrame(64, [2, 0, 0, 0, 0, 2]), { deviceMac: mac }).pktType).toBe(PACKET_OTHERHOST);
    expect(skbFromFrame(ipv4UdpFrame(64, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), { deviceMac: mac }).pktType).toBe(1);
    expect(skbFromFrame(ipv4UdpFrame(64, [1, 0, 0x5e, 0, 0, 1]), { deviceMac: mac }).pktType).toBe(PACKET_MULTICAST);
  });
  it('an 802.3 length field is not an ethertype', () => {
    const f = ipv4UdpFrame(64);
    f[12] = 0;
    f[13] = 46;
    expect(ethTypeTrans(f).protocol).toBe(0x0004);
  });
  it('a raw IP packet has its network header at offset 0', () => {
    const skb = skbFromIpPacket(ipv4UdpFrame().slice(14));
    expect(skb).toMatchObject({ protocol: 0x0800, networkOffset: 0 });
  });
});

describe('socket filters', () => {
  it('LD_ABS reads from the network header; the verdict is the bytes kept', async () => {
    const sf = await load('sockfilter_ctx');
    const res = sf.runSkb('sockfilter_udp', socketFilterSkbFromFrame(ipv4UdpFrame()));
    expect(res.verdict).toMatchObject({ value: 114, name: 'ACCEPT', keep: 114 });
    expect(res.skb.cb[0]).toBe(80); // LD_ABS half word: the UDP destination port in host order
    const tcp = sf.runSkb('sockfilter_udp', socketFilterSkbFromFrame(ipv4UdpFrame(128, [0, 0, 0, 0, 0, 0], 6)));
    expect(tcp.verdict).toMatchObject({ value: 0, name: 'DROP' });
  });
});

describe('XDP runs', () => {
  it('bpf_redirect records the ifindex; metadata comes back with the frame', async () => {
    const x = await load('xdp_ctx');
    const f = ipv4UdpFrame();
    f.set([4, 9, 0, 0], 6); // op 4 = bpf_redirect(9, 0)
    const res = x.runXdp('xdp_ops', xdpFromFrame(f));
    expect(xdpVerdict(res.r0 - 1000n).name).toBe('XDP_REDIRECT');
    expect(res.redirect).toEqual({ kind: 'redirect', ifindex: 9, flags: 0n, ingress: false });
    const m = ipv4UdpFrame();
    m.set([6, 0xfc, 0xff, 0], 6); // op 6 = adjust_meta(-4), then write through data_meta
    const meta = x.runXdp('xdp_ops', xdpFromFrame(m));
    expect([...meta.xdp.meta]).toEqual([0xd4, 0xc3, 0xb2, 0xa1]);
  });
});

describe('CHECKSUM_COMPLETE bookkeeping', () => {
  it('store_bytes with BPF_F_RECOMPUTE_CSUM keeps skb->csum the sum of the packet, at odd and even offsets', () => {
    for (const offset of [20, 21]) {
      const frame = ipv4UdpFrame();
      const skb = skbFromTestRun(frame, skbCtx({ cb: [8, offset, 1, 0, 0] }), 'tc');
      skb.csum = { ipSummed: 'complete', csum: csumPartial(frame, 0, frame.length, 0) };
      const res = tc.runSkb('tc_ops', skb);
      expect(res.r0).toBe(1000n);
      expect(res.skb.data.subarray(offset, offset + 8)).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
      expect(csumFold(res.skb.csum.csum)).toBe(csumFold(csumPartial(res.skb.data, 0, res.skb.data.length, 0)));
    }
  });
  it('without the flag skb->csum is left stale, as in the kernel', () => {
    const frame = ipv4UdpFrame();
    const skb = skbFromTestRun(frame, skbCtx({ cb: [8, 20, 0, 0, 0] }), 'tc');
    const before = csumPartial(frame, 0, frame.length, 0);
    skb.csum = { ipSummed: 'complete', csum: before };
    expect(tc.runSkb('tc_ops', skb).skb.csum.csum).toBe(before);
  });
});
