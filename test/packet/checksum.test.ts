// The Internet checksum helpers, against RFC 1071's worked example and the pseudo header rules.
import { describe, expect, it } from 'vitest';
import { computeChecksum, foldChecksum, pseudoHeaderSum, sumWords } from '../../src/packet/checksum.js';
import { parseIPv4, parseIPv6 } from '../../src/packet/addr.js';

describe('Internet checksum', () => {
  it('sums RFC 1071 section 3 example bytes to 0xddf2', () => {
    const bytes = Uint8Array.of(0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7);
    expect(foldChecksum(sumWords(bytes, 0, bytes.length))).toBe(0xddf2);
  });

  it('pads an odd last byte with zero', () => {
    expect(sumWords(Uint8Array.of(0x12, 0x34, 0x56), 0, 3)).toBe(0x1234 + 0x5600);
  });

  it('computes the value for the checksum field whatever the field holds now', () => {
    // An IPv4 header (RFC 791) whose correct checksum is 0xb861 (a common worked example).
    const header = Uint8Array.of(0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xff, 0xff, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7);
    expect(computeChecksum(header, 0, 20, 10)).toBe(0xb861);
    header[10] = 0xb8;
    header[11] = 0x61;
    expect(foldChecksum(sumWords(header, 0, 20))).toBe(0xffff);
  });

  it('adds both halves of an IPv6 32-bit upper-layer length to the pseudo header', () => {
    const src = parseIPv6('fd00::1');
    const dst = parseIPv6('fd00::2');
    const base = pseudoHeaderSum(src, dst, 17, 0);
    expect(pseudoHeaderSum(src, dst, 17, 0x10008) - base).toBe(1 + 8);
    expect(pseudoHeaderSum(parseIPv4('10.0.0.1'), parseIPv4('10.0.0.2'), 6, 20)).toBe(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 6 + 20);
  });
});
