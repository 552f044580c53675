// The hot packet helpers (bpf_skb_store_bytes, bpf_l3_csum_replace, bpf_l4_csum_replace,
// bpf_redirect) run on the Machine's fast path in a CtxRunner; they must answer exactly as the
// HelperCall versions of src/helpers/packet-helpers.ts do, for good and bad arguments alike.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { skbFromTestRun } from '../../src/ctx/test-run.js';
import type { IpSummed } from '../../src/csum/helpers.js';
import { csumPartial } from '../../src/csum/arith.js';
import { packetHelpers, type PacketHelperHost } from '../../src/helpers/packet-helpers.js';
import { ipv4UdpFrame, skbCtx } from './cases.js';

const object = () => new Uint8Array(readFileSync(fileURLToPath(new URL('../../fixtures/obj/ctx/tc_ctx.o', import.meta.url))));

let fast: CtxRunner;
let slow: CtxRunner;
beforeAll(async () => {
  fast = await CtxRunner.fromObject(object(), { name: 'tc_ctx' });
  // The same helpers, given as plain host helpers: the runner then keeps them off the fast path.
  let runner: CtxRunner | undefined;
  const host: PacketHelperHost = {
    get machine() {
      return runner!.machine;
    },
    active: () => runner!.active(),
    mapByHandle: (h) => runner!.mapByHandle(h),
    newSocketCookie: () => runner!.newSocketCookie(),
  };
  const all = packetHelpers(host);
  const helpers = new Map([9, 10, 11, 23].map((id) => [id, all.get(id)!]));
  runner = await CtxRunner.fromObject(object(), { name: 'tc_ctx', helpers });
  slow = runner;
});

/** tc_ops of bpf/ctx/tc_ctx.c: cb[0] operation, cb[1] argument, cb[2..3] the flags' halves. */
function both(op: number, arg: number, flags: bigint, ipSummed: IpSummed) {
  const make = () => {
    const frame = ipv4UdpFrame(128);
    const skb = skbFromTestRun(frame, skbCtx({ cb: [op, arg, Number(flags & 0xffffffffn), Number(flags >> 32n), 0] }), 'tc');
    skb.csum = { ipSummed, csum: ipSummed === 'complete' ? csumPartial(frame, 0, frame.length, 0) : 0 };
    return skb;
  };
  const a = fast.runSkb('tc_ops', make());
  const b = slow.runSkb('tc_ops', make());
  return { a, b };
}

describe('fast packet helpers', () => {
  it('answer as the HelperCall versions for every flag, offset and checksum state tried', () => {
    const ops = [
      { op: 8, flags: [0n, 1n, 2n, 3n, 4n, 1n << 32n], offsets: [0, 20, 21, 120, 121, 128, -1] }, // bpf_skb_store_bytes
      { op: 15, flags: [0n, 2n, 4n, 3n, 0x10n, 1n << 32n], offsets: [24, 25, 126, 127, 0x10000] }, // bpf_l3_csum_replace
      { op: 16, flags: [0n, 2n, 4n, 0x14n, 0x24n, 0x64n, 0x94n, 0x80n, 0x100n, 1n << 40n], offsets: [40, 41, 126, 0x10000] }, // bpf_l4_csum_replace
      { op: 10, flags: [0n, 1n, 2n, 1n << 33n], offsets: [1, 7] }, // bpf_redirect(arg, flags)
    ];
    let compared = 0;
    for (const { op, flags, offsets } of ops) {
      for (const f of flags) {
        for (const off of offsets) {
          for (const ipSummed of ['none', 'complete', 'partial'] as const) {
            const { a, b } = both(op, off, f, ipSummed);
            const what = `op ${op} offset ${off} flags ${f} ${ipSummed}`;
            expect(a.fault?.message, what).toEqual(b.fault?.message);
            expect(a.r0, what).toBe(b.r0);
            expect(a.skb, what).toEqual(b.skb);
            expect(a.redirect, what).toEqual(b.redirect);
            compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(100);
  });

  it('the fast path is what a default runner uses, and it changes the packet', () => {
    const { a } = both(15, 24, 4n, 'none');
    expect(a.r0).toBe(1000n);
    expect(a.skb.data.subarray(24, 26)).not.toEqual(ipv4UdpFrame(128).subarray(24, 26));
  });
});
