// Packet copies handed out by runs (src/ctx/packet-copy.ts): views into shared slabs for ordinary
// sizes, but each one its own bytes, as a slice would be.
import { describe, expect, it } from 'vitest';
import { copyPacket } from '../../src/ctx/packet-copy.js';
import { skbFromFrame } from '../../src/ctx/skb.js';

describe('packet copies', () => {
  it('copy exactly the range asked for, at every size', () => {
    const src = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
    for (const [from, to] of [[0, 0], [3, 67], [100, 164], [10, 1510], [0, 3000]]) {
      expect(copyPacket(src, from, to)).toEqual(src.slice(from, to));
    }
  });

  it('are independent of their source and of each other', () => {
    const src = new Uint8Array(300).fill(1);
    const a = copyPacket(src, 0, 120);
    const b = copyPacket(src, 0, 120);
    src.fill(2);
    a.fill(3);
    expect(b).toEqual(new Uint8Array(120).fill(1));
    expect(a).toEqual(new Uint8Array(120).fill(3));
    // Many copies later (past a slab's end) the first ones still hold their bytes.
    const many = Array.from({ length: 400 }, (_, i) => copyPacket(new Uint8Array(100).fill(i & 0xff)));
    many.forEach((c, i) => expect(c[99]).toBe(i & 0xff));
    expect(b[0]).toBe(1);
  });

  it('leave an skb built from a frame unaffected by later changes to the frame', () => {
    const frame = new Uint8Array(123);
    frame[12] = 0x08;
    const skb = skbFromFrame(frame);
    frame[50] = 9;
    expect(skb.data[50]).toBe(0);
    expect(skb.data).toHaveLength(123);
  });
});
