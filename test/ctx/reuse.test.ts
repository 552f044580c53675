// A CtxRunner keeps one context and packet layout per program type and reuses it for every
// packet (bench/packets): nothing of one packet may leak into the next run or into an earlier
// run's result, and the fast path of the hot packet helpers must not shadow helpers a caller
// supplies.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { cloneSkbState, skbFromFrame } from '../../src/ctx/skb.js';
import { skbFromTestRun } from '../../src/ctx/test-run.js';
import { xdpFromFrame } from '../../src/ctx/xdp.js';
import { ipv4UdpFrame, skbCtx } from './cases.js';

const load = (name: string, opts = {}) =>
  CtxRunner.fromObject(new Uint8Array(readFileSync(fileURLToPath(new URL(`../../fixtures/obj/ctx/${name}.o`, import.meta.url)))), { name, ...opts });

/** tc_ops of bpf/ctx/tc_ctx.c: cb[0] = operation, cb[1] = argument, cb[2..3] = flags. */
const opSkb = (op: number, arg: number, frame = ipv4UdpFrame()) => skbFromTestRun(frame, skbCtx({ cb: [op, arg, 0, 0, 0] }), 'tc');

describe('runs on a reused layout', () => {
  it('a result stays as it was when the runner goes on to the next packet', async () => {
    const tc = await load('tc_ctx');
    const first = tc.runSkb('tc_ops', opSkb(8, 20)); // op 8: bpf_skb_store_bytes(skb, 20, {1..8}, 8, 0)
    const kept = cloneSkbState(first.skb);
    const second = tc.runSkb('tc_ops', opSkb(8, 40, ipv4UdpFrame(200)));
    expect(second.skb.data.subarray(40, 48)).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(first.skb).toEqual(kept);
    expect(first.skb.data.subarray(20, 28)).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(first.skb.data.length).toBe(128);
  });

  it('fields the program wrote in one run are not in the next packet’s context', async () => {
    const tc = await load('tc_ctx');
    // tc_fields copies the context fields into the packet (u32 words after the Ethernet header),
    // then writes mark, priority, tc_index, tc_classid, queue_mapping, cb[1], cb[4] and tstamp.
    const seen = (data: Uint8Array, word: number) => new DataView(data.buffer, data.byteOffset).getUint32(14 + 4 * word, true);
    const first = tc.runSkb('tc_fields', skbFromFrame(ipv4UdpFrame(), { mark: 5 }));
    expect(first.skb).toMatchObject({ mark: 0x16, priority: 7, queueMapping: 3 });
    const next = tc.runSkb('tc_fields', skbFromFrame(ipv4UdpFrame()));
    const d = next.skb.data;
    expect([seen(d, 2), seen(d, 3), seen(d, 6), seen(d, 9), seen(d, 10), seen(d, 12), seen(d, 16)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect(next.skb).toMatchObject({ mark: 0x11, priority: 7 });
    expect(next.skb.cb).toEqual([0, 0xdeadbeef, 0, 0, 128]);
  });

  it('headroom an XDP program exposes with adjust_head is zero even where the previous frame had metadata', async () => {
    const x = await load('xdp_ctx');
    const withMeta = ipv4UdpFrame();
    withMeta.set([0, 0, 0, 0], 6); // op 0: no helper call
    x.runXdp('xdp_ops', xdpFromFrame(withMeta)); // lays out the frame the next runs reuse
    const first = x.runXdp('xdp_ops', xdpFromFrame(withMeta, { meta: new Uint8Array([9, 9, 9, 9, 9, 9, 9, 9]) }));
    expect([...first.xdp.meta]).toEqual([9, 9, 9, 9, 9, 9, 9, 9]);
    const push = ipv4UdpFrame();
    push.set([1, 0xf8, 0xff, 0], 6); // op 1: bpf_xdp_adjust_head(ctx, -8)
    const res = x.runXdp('xdp_ops', xdpFromFrame(push));
    expect(res.r0).toBe(1000n);
    expect(res.xdp.data.length).toBe(push.length + 8);
    expect([...res.xdp.data.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(res.xdp.data.subarray(8)).toEqual(push);
  });

  it('a caller-supplied bpf_skb_store_bytes replaces the built-in one', async () => {
    const calls: bigint[][] = [];
    const tc = await load('tc_ctx', {
      helpers: new Map([[9, (c: { args: readonly bigint[] }) => (calls.push([...c.args]), 77n)]]),
    });
    const res = tc.runSkb('tc_ops', opSkb(8, 20));
    expect(res.r0).toBe(1077n);
    expect(calls).toHaveLength(1);
    expect(calls[0][1]).toBe(20n);
    expect(res.skb.data.subarray(20, 28)).toEqual(ipv4UdpFrame().subarray(20, 28));
  });
});
