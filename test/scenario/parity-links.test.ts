// The parity runner's helpers that need no kernel: an output packet compared with a linked field
// set to the kernel's value (checksums updated), and the ctx_in / ctx_out of context fields.
import { describe, expect, it } from 'vitest';
import { compareCtxOut, skbCtxIn } from '../../src/node/parity/context.js';
import { packetFacts, withKernelFields } from '../../src/node/parity/packet-link.js';
import { decodePacket, getField } from '../../src/packet/decode.js';
import { SKB } from '../../src/ctx/skb.js';

/** An Ethernet + IPv4 + TCP SYN with correct checksums, from 10.0.0.2:`sport` to 10.244.1.5:8080. */
function syn(sport: number): Uint8Array {
  const f = new Uint8Array(14 + 20 + 20);
  const v = new DataView(f.buffer);
  v.setUint16(12, 0x0800);
  f.set([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 2, 10, 244, 1, 5], 14);
  v.setUint16(34, sport);
  v.setUint16(36, 8080);
  v.setUint32(38, 1000);
  f[46] = 0x50;
  f[47] = 0x02;
  v.setUint16(48, 64240);
  const sum = (words: number[]) => {
    let s = words.reduce((a, b) => a + b, 0);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    return ~s & 0xffff;
  };
  const wordsOf = (from: number, to: number) => Array.from({ length: (to - from) / 2 }, (_, i) => v.getUint16(from + 2 * i));
  v.setUint16(24, sum(wordsOf(14, 34)));
  v.setUint16(50, sum([...wordsOf(26, 34), 6, 20, ...wordsOf(34, 54)]));
  return f;
}

describe('linked packet fields', () => {
  it("gives bpfbed's packet the kernel's port with the TCP checksum a correct rewrite would have", () => {
    const kernel = syn(51234);
    const patched = withKernelFields(syn(33001), kernel, ['tcp.srcport'])!;
    expect([...patched]).toEqual([...kernel]);
    expect(getField(decodePacket(patched), 'tcp.checksum')?.status).toBe('good');
  });

  it('keeps a wrong checksum wrong, so the comparison still sees it', () => {
    const broken = syn(33001);
    broken[51] ^= 0x10;
    const patched = withKernelFields(broken, syn(51234), ['tcp.srcport'])!;
    expect([...patched]).not.toEqual([...syn(51234)]);
  });

  it('updates the IP header and TCP pseudo header checksums for an address', () => {
    const kernel = syn(40000);
    kernel.set([10, 0, 0, 9], 26);
    const fixed = withKernelFields(syn(40000), kernel, ['ip.src'])!;
    const decoded = decodePacket(fixed);
    expect([getField(decoded, 'ip.checksum')?.status, getField(decoded, 'tcp.checksum')?.status, getField(decoded, 'ip.src')?.value]).toEqual(['good', 'good', '10.0.0.9']);
  });

  it('reads the fields rules name, undefined where the packet has none', () => {
    expect(packetFacts(4, syn(41000), ['tcp.srcport', 'udp.srcport']).fields).toEqual({ 'tcp.srcport': 41000, 'udp.srcport': undefined });
    expect(withKernelFields(syn(1), syn(2), ['udp.srcport'])).toBeUndefined();
  });
});

describe('context fields', () => {
  it('passes mark, priority, cb and the device as BPF_PROG_TEST_RUN takes them, and names what it cannot pass', () => {
    const { ctx, dropped } = skbCtxIn({ mark: 0x200, priority: 3, cb: [9, 8], tcIndex: 4 }, { ifindex: 2, ingress: true });
    const v = new DataView(ctx.buffer);
    expect([v.getUint32(SKB.mark, true), v.getUint32(SKB.priority, true), v.getUint32(SKB.cb, true), v.getUint32(SKB.cb + 4, true), v.getUint32(SKB.cb + 8, true)]).toEqual([0x200, 3, 9, 8, 0]);
    expect([v.getUint32(SKB.ifindex, true), v.getUint32(SKB.ingress_ifindex, true)]).toEqual([2, 2]);
    expect(dropped).toEqual(['tcIndex']);
    const egress = new DataView(skbCtxIn({}, { ifindex: 3, ingress: false }).ctx.buffer);
    expect([egress.getUint32(SKB.ifindex, true), egress.getUint32(SKB.ingress_ifindex, true)]).toEqual([3, 0]);
  });

  it('names each copied-back field that differs', () => {
    const a = skbCtxIn({ mark: 1, cb: [0, 0, 7] }).ctx;
    const b = skbCtxIn({ mark: 1, cb: [0, 0, 8] }).ctx;
    const c = compareCtxOut('skb', a, b);
    expect(c.fields).toBe(13);
    expect(c.differences).toEqual(['cb[2]: kernel 0x7, bpfbed 0x8']);
    expect(compareCtxOut('xdp', new Uint8Array(24), new Uint8Array(24))).toEqual({ fields: 6, differences: [] });
  });
});
