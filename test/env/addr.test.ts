import { describe, expect, it } from 'vitest';
import { commonPrefixLen, formatIPv6, maskPrefix, parseIPv4, parseIPv6, parseMac, parsePrefix, prefixContains } from '../../src/env/addr.js';

describe('address text', () => {
  it('parses and prints IPv6 in RFC 5952 form', () => {
    for (const [text, canon] of [
      ['fd00::10', 'fd00::10'],
      ['FD00:0:0:0:0:0:0:10', 'fd00::10'],
      ['::', '::'],
      ['::1', '::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8::0:1', '2001:db8::1'],
      ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
      ['::ffff:10.0.0.1', '::ffff:10.0.0.1'] // RFC 5952 §5: mapped IPv4 stays dotted,
    ]) {
      expect(formatIPv6(parseIPv6(text)), text).toBe(canon);
    }
  });

  it('rejects malformed addresses with the offending text in the message', () => {
    expect(() => parseIPv4('10.0.0')).toThrow(/"10\.0\.0".*four/);
    expect(() => parseIPv4('10.0.0.256')).toThrow(/part 4/);
    expect(() => parseIPv6('1::2::3')).toThrow(/only once/);
    expect(() => parseIPv6('1:2:3:4:5:6:7')).toThrow(/groups/);
    expect(() => parseMac('02:00:00:00:00')).toThrow(/six hex bytes/);
    expect(() => parsePrefix('10.0.0.0/33')).toThrow(/0\.\.32/);
  });

  it('matches prefixes bit by bit', () => {
    const p = parsePrefix('10.96.0.0/12');
    expect(prefixContains(p.addr, p.prefixLen, parseIPv4('10.111.255.255'))).toBe(true);
    expect(prefixContains(p.addr, p.prefixLen, parseIPv4('10.112.0.0'))).toBe(false);
    expect(Array.from(maskPrefix(parseIPv4('192.168.1.77'), 26))).toEqual([192, 168, 1, 64]);
    expect(commonPrefixLen(parseIPv6('fd00:1::'), parseIPv6('fd00:56::'))).toBe(25);
  });
});

describe('IPv4-mapped IPv6 addresses', () => {
  it('print with the IPv4 part dotted, as RFC 5952 section 5 and inet_ntop do', async () => {
    const { formatIPv6, parseIPv6 } = await import('../../src/env/addr.js');
    expect(formatIPv6(parseIPv6('::ffff:10.244.1.6'))).toBe('::ffff:10.244.1.6');
    expect(formatIPv6(parseIPv6('::ffff:af4:106'))).toBe('::ffff:10.244.1.6');
    expect(formatIPv6(parseIPv6('::1:ffff:af4:106'))).toBe('::1:ffff:af4:106');
  });
});
