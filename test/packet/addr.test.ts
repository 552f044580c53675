// Address text forms: RFC 5952 canonical IPv6, strict dotted quads, MACs.
import { describe, expect, it } from 'vitest';
import { AddressParseError, formatIPv4, formatIPv6, formatMac, ipv4FromNumber, ipv4ToNumber, parseIP, parseIPv4, parseIPv6, parseMac } from '../../src/packet/addr.js';

describe('IPv6 text', () => {
  it.each([
    // RFC 5952 section 4 examples and rules
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'], // 4.1 leading zeros, 4.2.1 longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // 4.2.2 one zero group is not shortened
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // 4.2.3 the longer run
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // 4.2.3 the first of equal runs
    ['2001:DB8::ABCD', '2001:db8::abcd'], // 4.3 lowercase
    ['::', '::'],
    ['::1', '::1'],
    ['fe80::', 'fe80::'],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.1'], // 5: IPv4-mapped keeps the dotted quad
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ])('%s prints as %s', (input, canonical) => {
    expect(formatIPv6(parseIPv6(input))).toBe(canonical);
  });

  it('parses into 16 network-order bytes', () => {
    expect([...parseIPv6('2001:db8::2:1')]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
  });

  it.each(['1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1:2:3:4:5:6:7::8', '::1.2.3'])('refuses %s with a message naming it', (bad) => {
    expect(() => parseIPv6(bad)).toThrow(AddressParseError);
    expect(() => parseIPv6(bad)).toThrow(`"${bad}" is not an IPv6 address`);
  });
});

describe('IPv4 text', () => {
  it('round-trips and converts to and from numbers', () => {
    expect(formatIPv4(parseIPv4('10.96.0.10'))).toBe('10.96.0.10');
    expect(ipv4ToNumber('10.0.0.1')).toBe(0x0a000001);
    expect(ipv4FromNumber(0xc0a80101)).toBe('192.168.1.1');
    expect(formatIPv4(Uint8Array.of(9, 9, 1, 2, 3, 4), 2)).toBe('1.2.3.4');
  });

  it.each(['10.0.0', '10.0.0.256', '010.0.0.1', '1.2.3.4.5', 'a.b.c.d', ''])('refuses %s', (bad) => {
    expect(() => parseIPv4(bad)).toThrow(AddressParseError);
  });

  it('parseIP chooses the family from the text', () => {
    expect(parseIP('1.2.3.4')).toHaveLength(4);
    expect(parseIP('::1')).toHaveLength(16);
  });
});

describe('MAC text', () => {
  it('round-trips in lowercase and accepts dashes', () => {
    expect(formatMac(parseMac('02:00:0A:E7:00:01'))).toBe('02:00:0a:e7:00:01');
    expect(formatMac(parseMac('02-00-0a-e7-00-02'))).toBe('02:00:0a:e7:00:02');
  });

  it.each(['02:00:0a:e7:00', '02:00:0a:e7:00:1', 'zz:00:0a:e7:00:01'])('refuses %s', (bad) => {
    expect(() => parseMac(bad)).toThrow(/is not a MAC address/);
  });
});
