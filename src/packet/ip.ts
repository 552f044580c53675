// IPv4 (RFC 791) and IPv6 (RFC 8200) with its extension headers (RFC 8200 4.3-4.6, AH RFC 4302,
// SRH RFC 8754).

import { formatIPv4, formatIPv6 } from './addr.js';
import { computeChecksum } from './checksum.js';
import { type DecodeContext, hex, type IpInfo, type NextLayer } from './fields.js';

export const IPPROTO_ICMP = 1;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;
const IPPROTO_HOPOPTS = 0;
const IPPROTO_ROUTING = 43;
const IPPROTO_FRAGMENT = 44;
const IPPROTO_AH = 51;
const IPPROTO_NONE = 59;
const IPPROTO_DSTOPTS = 60;

const PROTOCOL_NAMES: Record<number, string> = {
  0: 'IPv6 Hop-by-Hop',
  1: 'ICMP',
  2: 'IGMP',
  4: 'IPIP',
  6: 'TCP',
  17: 'UDP',
  41: 'IPv6',
  43: 'IPv6 Routing',
  44: 'IPv6 Fragment',
  47: 'GRE',
  50: 'ESP',
  51: 'AH',
  58: 'ICMPv6',
  59: 'IPv6 No Next Header',
  60: 'IPv6 Destination Options',
  132: 'SCTP',
};

export function protocolDisplay(protocol: number): string {
  const name = PROTOCOL_NAMES[protocol];
  return name ? `${protocol} (${name})` : String(protocol);
}

// IPv4 option types (RFC 791 3.1, IANA ip-parameters).
const IP_OPT_EOL = 0;
const IP_OPT_NOP = 1;

export function decodeIPv4(d: DecodeContext, offset: number, end: number): NextLayer {
  const l = d.layer('ip', offset, 20);
  if (!l.fits(offset, 20, end)) return undefined;
  const versionIhl = d.u8(offset);
  const version = versionIhl >> 4;
  const headerLength = (versionIhl & 0x0f) * 4;
  l.add('ip.version', offset, 1, version);
  if (version !== 4) {
    l.malformed(`version ${version} in an IPv4 header`, offset);
    return undefined;
  }
  l.add('ip.hdr_len', offset, 1, headerLength);
  if (headerLength < 20) {
    l.malformed(`header length ${headerLength} is below the minimum 20`, offset);
    return undefined;
  }
  l.layer.length = headerLength;
  const tos = d.u8(offset + 1);
  l.add('ip.dsfield', offset + 1, 1, tos, hex(tos, 2));
  l.add('ip.dsfield.dscp', offset + 1, 1, tos >> 2);
  l.add('ip.dsfield.ecn', offset + 1, 1, tos & 3);
  const totalLength = d.u16(offset + 2);
  l.add('ip.len', offset + 2, 2, totalLength);
  const id = d.u16(offset + 4);
  l.add('ip.id', offset + 4, 2, id, `${hex(id, 4)} (${id})`);
  const flagsFrag = d.u16(offset + 6);
  const flags = flagsFrag >> 13;
  const names = [flags & 4 ? 'RB' : '', flags & 2 ? 'DF' : '', flags & 1 ? 'MF' : ''].filter(Boolean);
  // Wireshark's ip.flags is the 3 flag bits shifted down (0x02 = DF).
  l.add('ip.flags', offset + 6, 1, flags, names.length ? `${hex(flags, 2)} (${names.join(',')})` : hex(flags, 2));
  // The value is in 8-byte units as tshark reports it; the display also gives bytes.
  const fragUnits = flagsFrag & 0x1fff;
  const fragOffset = fragUnits * 8;
  l.add('ip.frag_offset', offset + 6, 2, fragUnits, fragUnits ? `${fragUnits} (${fragOffset} bytes)` : '0');
  l.add('ip.ttl', offset + 8, 1, d.u8(offset + 8));
  const protocol = d.u8(offset + 9);
  l.add('ip.proto', offset + 9, 1, protocol, protocolDisplay(protocol));
  const headerCaptured = offset + headerLength <= end;
  l.checksum('ip.checksum', offset + 10, headerCaptured ? computeChecksum(d.frame, offset, offset + headerLength, offset + 10) : undefined);
  l.add('ip.src', offset + 12, 4, formatIPv4(d.frame, offset + 12));
  l.add('ip.dst', offset + 16, 4, formatIPv4(d.frame, offset + 16));
  if (!l.fits(offset, headerLength, end, 'options')) return undefined;
  decodeIPv4Options(d, l, offset + 20, offset + headerLength);

  if (totalLength < headerLength) {
    l.malformed(`total length ${totalLength} is shorter than the header length ${headerLength}`, offset + 2);
    return undefined;
  }
  // The payload ends at the total length; Ethernet padding after it is not IP's.
  let payloadEnd = offset + totalLength;
  const incomplete = payloadEnd > end;
  if (incomplete) {
    if (!d.cutByCapture && !d.quoted) l.malformed(`total length ${totalLength} runs past the ${end - offset} bytes the frame holds`, offset + 2);
    payloadEnd = end;
  }
  const ip: IpInfo = {
    version: 4,
    src: d.frame.slice(offset + 12, offset + 16),
    dst: d.frame.slice(offset + 16, offset + 20),
    fragment: (flags & 1) !== 0 || fragOffset !== 0,
    incomplete,
    claimedEnd: offset + totalLength,
  };
  // Only the first fragment holds the upper-layer header.
  if (fragOffset !== 0) {
    d.layer('data', offset + headerLength, payloadEnd - (offset + headerLength));
    return undefined;
  }
  return { kind: 'ip-protocol', protocol, offset: offset + headerLength, end: payloadEnd, ip };
}

function decodeIPv4Options(d: DecodeContext, l: ReturnType<DecodeContext['layer']>, start: number, end: number): void {
  let at = start;
  while (at < end) {
    const type = d.u8(at);
    if (type === IP_OPT_EOL) {
      l.add('ip.opt.type', at, 1, type, `${type} (End of Options List)`);
      return;
    }
    if (type === IP_OPT_NOP) {
      l.add('ip.opt.type', at, 1, type, `${type} (No-Operation)`);
      at++;
      continue;
    }
    const length = at + 1 < end ? d.u8(at + 1) : 0;
    if (length < 2 || at + length > end) {
      l.malformed(`option ${type} has length ${length}, which does not fit the ${end - at} bytes left`, at);
      return;
    }
    l.add('ip.opt.type', at, 1, type, `${type}`);
    at += length;
  }
}

export function decodeIPv6(d: DecodeContext, offset: number, end: number): NextLayer {
  const l = d.layer('ipv6', offset, 40);
  if (!l.fits(offset, 40, end)) return undefined;
  const first = d.u32(offset);
  const version = first >>> 28;
  l.add('ipv6.version', offset, 1, version);
  if (version !== 6) {
    l.malformed(`version ${version} in an IPv6 header`, offset);
    return undefined;
  }
  const tclass = (first >>> 20) & 0xff;
  l.add('ipv6.tclass', offset, 2, tclass, hex(tclass, 2));
  l.add('ipv6.flow', offset + 1, 3, first & 0xfffff, hex(first & 0xfffff, 5));
  const payloadLength = d.u16(offset + 4);
  l.add('ipv6.plen', offset + 4, 2, payloadLength);
  let next = d.u8(offset + 6);
  l.add('ipv6.nxt', offset + 6, 1, next, protocolDisplay(next));
  l.add('ipv6.hlim', offset + 7, 1, d.u8(offset + 7));
  l.add('ipv6.src', offset + 8, 16, formatIPv6(d.frame, offset + 8));
  l.add('ipv6.dst', offset + 24, 16, formatIPv6(d.frame, offset + 24));

  // A zero payload length with a Hop-by-Hop header means a jumbogram (RFC 2675); we then take
  // the frame's end, as we do for any other zero length.
  let payloadEnd = payloadLength === 0 ? end : offset + 40 + payloadLength;
  const incomplete = payloadEnd > end;
  if (incomplete) {
    if (!d.cutByCapture && !d.quoted) l.malformed(`payload length ${payloadLength} runs past the ${end - offset - 40} bytes the frame holds`, offset + 4);
    payloadEnd = end;
  }
  const ip: IpInfo = { version: 6, src: d.frame.slice(offset + 8, offset + 24), dst: d.frame.slice(offset + 24, offset + 40), fragment: false, incomplete, claimedEnd: payloadLength === 0 ? end : offset + 40 + payloadLength };
  let at = offset + 40;
  // Extension headers (RFC 8200 4.1 order is recommended, not required: follow the chain).
  for (let count = 0; count < 64; count++) {
    switch (next) {
      case IPPROTO_HOPOPTS:
      case IPPROTO_DSTOPTS: {
        const proto = next === IPPROTO_HOPOPTS ? 'ipv6.hopopts' : 'ipv6.dstopts';
        const x = d.layer(proto, at, 8);
        if (!x.fits(at, 2, payloadEnd)) return undefined;
        const length = (d.u8(at + 1) + 1) * 8;
        x.layer.length = length;
        x.add(`${proto}.nxt`, at, 1, d.u8(at), protocolDisplay(d.u8(at)));
        x.add(`${proto}.len`, at + 1, 1, d.u8(at + 1));
        if (!x.fits(at, length, payloadEnd)) return undefined;
        next = d.u8(at);
        at += length;
        continue;
      }
      case IPPROTO_ROUTING: {
        const x = d.layer('ipv6.routing', at, 8);
        if (!x.fits(at, 4, payloadEnd)) return undefined;
        const length = (d.u8(at + 1) + 1) * 8;
        x.layer.length = length;
        const type = d.u8(at + 2);
        const segmentsLeft = d.u8(at + 3);
        x.add('ipv6.routing.nxt', at, 1, d.u8(at), protocolDisplay(d.u8(at)));
        x.add('ipv6.routing.len', at + 1, 1, d.u8(at + 1));
        x.add('ipv6.routing.type', at + 2, 1, type);
        x.add('ipv6.routing.segleft', at + 3, 1, segmentsLeft);
        if (!x.fits(at, length, payloadEnd)) return undefined;
        // RFC 8200 8.1: while segments remain, upper-layer checksums use the final destination:
        // the last address of a type 0 header, the one address of type 2 (RFC 6275 6.4), and
        // Segment List[0] of an SRH (RFC 8754 2: the list is in reverse order).
        if (segmentsLeft > 0) {
          const addresses = Math.floor((length - 8) / 16);
          if ((type === 0 || type === 2) && addresses > 0) ip.dst = d.frame.slice(at + 8 + (addresses - 1) * 16, at + 8 + addresses * 16);
          else if (type === 4 && addresses > 0) ip.dst = d.frame.slice(at + 8, at + 24);
        }
        next = d.u8(at);
        at += length;
        continue;
      }
      case IPPROTO_FRAGMENT: {
        const x = d.layer('ipv6.fraghdr', at, 8);
        if (!x.fits(at, 8, payloadEnd)) return undefined;
        const offsetFlags = d.u16(at + 2);
        x.add('ipv6.fraghdr.nxt', at, 1, d.u8(at), protocolDisplay(d.u8(at)));
        const units = offsetFlags >> 3;
        x.add('ipv6.fraghdr.offset', at + 2, 2, units, units ? `${units} (${units * 8} bytes)` : '0');
        x.add('ipv6.fraghdr.more', at + 2, 2, offsetFlags & 1);
        x.add('ipv6.fraghdr.ident', at + 4, 4, d.u32(at + 4), hex(d.u32(at + 4), 8));
        ip.fragment = true;
        next = d.u8(at);
        at += 8;
        if (offsetFlags >> 3 !== 0) {
          d.layer('data', at, payloadEnd - at);
          return undefined;
        }
        continue;
      }
      case IPPROTO_AH: {
        // AH's length is in 4-octet units minus 2 (RFC 4302 2.2), unlike the other headers.
        const x = d.layer('ah', at, 12);
        if (!x.fits(at, 12, payloadEnd)) return undefined;
        const length = (d.u8(at + 1) + 2) * 4;
        x.layer.length = length;
        x.add('ah.next_header', at, 1, d.u8(at), protocolDisplay(d.u8(at)));
        x.add('ah.length', at + 1, 1, d.u8(at + 1));
        x.add('ah.spi', at + 4, 4, d.u32(at + 4), hex(d.u32(at + 4), 8));
        x.add('ah.sequence', at + 8, 4, d.u32(at + 8));
        if (!x.fits(at, length, payloadEnd)) return undefined;
        next = d.u8(at);
        at += length;
        continue;
      }
      case IPPROTO_NONE:
        return undefined;
      default:
        return { kind: 'ip-protocol', protocol: next, offset: at, end: payloadEnd, ip };
    }
  }
  l.malformed('more than 64 extension headers', at);
  return undefined;
}
