import { describe, expect, it } from 'vitest';
import { csumAdd, csumFold, csumPartial, csumReplace2, csumReplace4, csumReplaceByDiff, csumSub } from '../../src/csum/arith.js';
import { BPF_F_PSEUDO_HDR, csumDiff, l3CsumReplace, l4CsumReplace, type SkbCsumState } from '../../src/csum/helpers.js';
import { internetChecksum, ipv4HeaderChecksum, l4Checksum, onesComplementSum, verifyChecksums } from '../../src/csum/verify.js';
import answers from './csum-kernel-answers.json' with { type: 'json' };
import { type CsumAnswer, csumCases, tcp4 } from './csum-cases.js';
import { runCase } from './run-case.js';

const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

describe('RFC 1071 and RFC 1624 worked examples', () => {
  const rfc1071 = Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);

  it('sums the RFC 1071 §3 example to 0xddf2 and checksums it to 0x220d', () => {
    expect(onesComplementSum(rfc1071, 0, 8)).toBe(0xddf2);
    expect(internetChecksum(rfc1071, 0, 8)).toBe(0x220d);
  });

  it('gives the same checksum bytes from little-endian csum_partial and csum_fold (byte order independence)', () => {
    const folded = csumFold(csumPartial(rfc1071, 0, 8, 0));
    expect([folded & 0xff, folded >> 8]).toEqual([0x22, 0x0d]);
  });

  it('updates 0xdd2f to 0x0000 when m changes from 0x5555 to 0x3285 (RFC 1624 §5, eqn. 3)', () => {
    expect(csumReplace2(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
    expect(csumReplace4(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
  });

  it('applies a csum_diff difference like a field replacement', () => {
    const from = Uint8Array.from([0x0a, 0x60, 0x00, 0x0a]);
    const to = Uint8Array.from([0x0a, 0x00, 0x01, 0x05]);
    const asLe = (b: Uint8Array) => (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
    expect(csumReplaceByDiff(0x1234, csumDiff(from, to, 0))).toBe(csumReplace4(0x1234, asLe(from), asLe(to)));
  });

  it('adds and subtracts with end-around carry', () => {
    expect(csumAdd(0xffffffff, 1)).toBe(1);
    expect(csumAdd(0, 0)).toBe(0);
    expect(csumSub(5, 5)).toBe(0xffffffff);
  });
});

describe('checksum helpers reproduce Linux 6.18 (answers recorded by csum-kernel.test.ts)', () => {
  const byName = new Map((answers as CsumAnswer[]).map((a) => [a.name, a]));
  it('has a recorded kernel answer for every case', () => {
    expect(csumCases.filter((c) => !byName.has(c.name)).map((c) => c.name)).toEqual([]);
  });
  for (const c of csumCases) {
    it(c.name, () => {
      expect(runCase(c)).toEqual(byName.get(c.name));
    });
  }
});

describe('a NAT rewrite with the helpers leaves checksums a receiver accepts', () => {
  it('rewrites the IPv4 destination of a TCP SYN with l3 and l4 (pseudo header) replace', () => {
    const pkt = unhex(tcp4);
    expect(verifyChecksums(pkt, 14)).toEqual({ ipv4: true, l4: true });
    const oldDst = new DataView(pkt.buffer).getUint32(30, true);
    const newDst = Uint8Array.from([10, 0, 1, 5]);
    pkt.set(newDst, 30);
    const newDstLe = new DataView(pkt.buffer).getUint32(30, true);
    expect(verifyChecksums(pkt, 14)).toEqual({ ipv4: false, l4: false });
    expect(l3CsumReplace(pkt, 24, oldDst, newDstLe, 4)).toBe(0);
    expect(l4CsumReplace(pkt, 50, oldDst, newDstLe, 4 | BPF_F_PSEUDO_HDR)).toBe(0);
    expect(verifyChecksums(pkt, 14)).toEqual({ ipv4: true, l4: true });
    expect(ipv4HeaderChecksum(pkt, 14)).toBe((pkt[24] << 8) | pkt[25]);
    expect(l4Checksum(pkt, 14)).toBe((pkt[50] << 8) | pkt[51]);
  });

  it('keeps skb->csum of a CHECKSUM_COMPLETE packet in step with a pseudo-header change', () => {
    const pkt = unhex(tcp4);
    const skb: SkbCsumState = { ipSummed: 'complete', csum: 0x12345678 };
    expect(l4CsumReplace(pkt, 50, 0x0a00600a, 0x0501000a, 4 | BPF_F_PSEUDO_HDR, skb)).toBe(0);
    expect(skb.csum).toBe(~csumAdd(csumSub(~0x12345678 >>> 0, 0x0a00600a), 0x0501000a) >>> 0);
  });

  it('changes only pseudo-header contributions for CHECKSUM_PARTIAL packets', () => {
    const pkt = unhex(tcp4);
    const before = pkt.slice();
    expect(l4CsumReplace(pkt, 50, 0x5000, 0x419c, 2, { ipSummed: 'partial', csum: 0 })).toBe(0);
    expect(pkt).toEqual(before);
  });
});
