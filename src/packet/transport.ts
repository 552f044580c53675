// Transport and control protocols: TCP (RFC 9293), UDP (RFC 768, RFC 8200 8.1 for IPv6),
// ICMP (RFC 792), ICMPv6 (RFC 4443, ND RFC 4861). Checksums are verified with the pseudo header
// when every byte they cover was captured and the IP packet is not a fragment.

import { formatIPv6 } from './addr.js';
import { computeChecksum, pseudoHeaderSum } from './checksum.js';
import { type DecodeContext, hex, type IpInfo, type NextLayer } from './fields.js';
import { IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP } from './ip.js';
import { ETHERTYPE_IPV4, ETHERTYPE_IPV6 } from './link.js';

export const UDP_PORT_DNS = 53;
export const UDP_PORT_MDNS = 5353;
export const UDP_PORT_VXLAN = 4789; // IANA, RFC 7348 5
/** Linux's default VXLAN port before IANA assigned 4789 (vxlan.c), used by Cilium and flannel.
 *  Wireshark does not decode it as VXLAN without "Decode As"; we do. */
export const UDP_PORT_VXLAN_LINUX = 8472;
export const UDP_PORT_GENEVE = 6081; // RFC 8926 3.3

/** TCP flag names from bit 0 upward, as Wireshark's tcp_flags_to_str orders them. */
const TCP_FLAG_NAMES = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR', 'AE'];

export function tcpFlagNames(flags: number): string[] {
  return TCP_FLAG_NAMES.filter((_, bit) => flags & (1 << bit));
}

/** The checksum a correct sender would have written, or undefined if it cannot be computed
 *  (fragment, or bytes missing from the capture). */
function transportChecksum(d: DecodeContext, ip: IpInfo, protocol: number, start: number, end: number, field: number, complete = true): number | undefined {
  if (!complete || ip.fragment || ip.incomplete) return undefined;
  const pseudo = pseudoHeaderSum(ip.src, ip.dst, protocol, end - start);
  return computeChecksum(d.frame, start, end, field, pseudo);
}

export function decodeTcp(d: DecodeContext, offset: number, end: number, ip: IpInfo): NextLayer {
  const l = d.layer('tcp', offset, 20);
  // An ICMP error quotes only 8 bytes of TCP (RFC 792): ports and sequence number, as tshark shows.
  if (d.quoted && end - offset < 20) {
    if (end - offset >= 4) {
      l.add('tcp.srcport', offset, 2, d.u16(offset));
      l.add('tcp.dstport', offset + 2, 2, d.u16(offset + 2));
    }
    if (end - offset >= 8) l.add('tcp.seq', offset + 4, 4, d.u32(offset + 4));
    l.layer.length = Math.max(0, end - offset);
    return undefined;
  }
  if (!l.fits(offset, 20, end)) return undefined;
  l.add('tcp.srcport', offset, 2, d.u16(offset));
  l.add('tcp.dstport', offset + 2, 2, d.u16(offset + 2));
  // Raw sequence numbers: Wireshark's tcp.seq is relative unless tcp.relative_sequence_numbers
  // is off; a single packet has no stream to be relative to.
  l.add('tcp.seq', offset + 4, 4, d.u32(offset + 4));
  l.add('tcp.ack', offset + 8, 4, d.u32(offset + 8));
  const offsetFlags = d.u16(offset + 12);
  const headerLength = (offsetFlags >> 12) * 4;
  l.add('tcp.hdr_len', offset + 12, 1, headerLength);
  const flags = offsetFlags & 0x0fff;
  const names = tcpFlagNames(flags);
  l.add('tcp.flags', offset + 12, 2, flags, names.length ? `${hex(flags, 3)} (${names.join(',')})` : `${hex(flags, 3)} (<none>)`);
  l.add('tcp.window_size_value', offset + 14, 2, d.u16(offset + 14));
  l.checksum('tcp.checksum', offset + 16, transportChecksum(d, ip, IPPROTO_TCP, offset, end, offset + 16));
  l.add('tcp.urgent_pointer', offset + 18, 2, d.u16(offset + 18));
  if (headerLength < 20) {
    l.malformed(`header length ${headerLength} is below the minimum 20`, offset + 12);
    return undefined;
  }
  l.layer.length = headerLength;
  // The payload length comes from IP's length, as Wireshark computes it, even if the capture
  // kept fewer bytes.
  const payloadLength = Math.max(0, ip.claimedEnd - offset - headerLength);
  // Inside an ICMP quote there is no segment to measure (tshark gives no tcp.len there either).
  if (!d.quoted) l.add('tcp.len', offset + headerLength, Math.max(0, end - offset - headerLength), payloadLength);
  if (!l.fits(offset, headerLength, end, 'options')) return undefined;
  decodeTcpOptions(d, l, offset + 20, offset + headerLength);
  return undefined;
}

function decodeTcpOptions(d: DecodeContext, l: ReturnType<DecodeContext['layer']>, start: number, end: number): void {
  // RFC 9293 3.1: kind 0 ends the list, 1 is padding, all others are kind, length, data.
  let at = start;
  while (at < end) {
    const kind = d.u8(at);
    l.add('tcp.option_kind', at, 1, kind);
    if (kind === 0) return;
    if (kind === 1) {
      at++;
      continue;
    }
    const length = at + 1 < end ? d.u8(at + 1) : 0;
    if (length < 2 || at + length > end) {
      l.malformed(`option kind ${kind} has length ${length}, which does not fit the ${end - at} bytes left`, at);
      return;
    }
    if (kind === 2 && length === 4) l.add('tcp.options.mss_val', at + 2, 2, d.u16(at + 2));
    else if (kind === 3 && length === 3) l.add('tcp.options.wscale.shift', at + 2, 1, d.u8(at + 2));
    else if (kind === 5) {
      for (let edge = at + 2; edge + 8 <= at + length; edge += 8) {
        l.add('tcp.options.sack_le', edge, 4, d.u32(edge));
        l.add('tcp.options.sack_re', edge + 4, 4, d.u32(edge + 4));
      }
    } else if (kind === 8 && length === 10) {
      l.add('tcp.options.timestamp.tsval', at + 2, 4, d.u32(at + 2));
      l.add('tcp.options.timestamp.tsecr', at + 6, 4, d.u32(at + 6));
    }
    at += length;
  }
}

export function decodeUdp(d: DecodeContext, offset: number, end: number, ip: IpInfo): NextLayer {
  const l = d.layer('udp', offset, 8);
  if (!l.fits(offset, 8, end)) return undefined;
  const srcPort = d.u16(offset);
  const dstPort = d.u16(offset + 2);
  const length = d.u16(offset + 4);
  l.add('udp.srcport', offset, 2, srcPort);
  l.add('udp.dstport', offset + 2, 2, dstPort);
  l.add('udp.length', offset + 4, 2, length);
  let udpEnd = offset + length;
  let lengthOk = true;
  if (length < 8) {
    lengthOk = false;
    l.malformed(`length ${length} is below the 8-byte header`, offset + 4);
  } else if (udpEnd > end) {
    lengthOk = false;
    // A first fragment or a cut capture holds only part of the datagram; that is not damage.
    if (!ip.incomplete && !ip.fragment) l.malformed(`length ${length} runs past the ${end - offset} bytes IP carries`, offset + 4);
    udpEnd = end;
  }
  const checksum = d.u16(offset + 6);
  if (checksum === 0 && ip.version === 4) {
    // RFC 768: zero means the sender computed no checksum; allowed over IPv4 only.
    const f = l.add('udp.checksum', offset + 6, 2, 0, '0x0000 (none)');
    f.status = 'unverified';
  } else {
    let expected = transportChecksum(d, ip, IPPROTO_UDP, offset, udpEnd, offset + 6, lengthOk);
    // RFC 768: a computed zero is sent as all ones.
    if (expected === 0) expected = 0xffff;
    const f = l.checksum('udp.checksum', offset + 6, expected);
    // RFC 8200 8.1: over IPv6 a zero checksum is invalid (RFC 6935 tunnels aside).
    if (checksum === 0) {
      f.display = '0x0000 (zero, not allowed over IPv6)';
      f.status = 'bad';
    }
  }
  if (!lengthOk && length < 8) return undefined;
  const payload = offset + 8;
  if (dstPort === UDP_PORT_VXLAN || dstPort === UDP_PORT_VXLAN_LINUX) return { kind: 'vxlan', offset: payload, end: udpEnd };
  if (dstPort === UDP_PORT_GENEVE) return { kind: 'geneve', offset: payload, end: udpEnd };
  if ([srcPort, dstPort].some((p) => p === UDP_PORT_DNS || p === UDP_PORT_MDNS)) return { kind: 'dns', offset: payload, end: udpEnd };
  return undefined;
}

/** Destination unreachable, source quench, redirect, time exceeded, parameter problem. */
const ICMP_ERRORS = new Set([3, 4, 5, 11, 12]);

const ICMP_TYPES: Record<number, string> = {
  0: 'echo reply',
  3: 'destination unreachable',
  4: 'source quench',
  5: 'redirect',
  8: 'echo request',
  11: 'time exceeded',
  12: 'parameter problem',
  13: 'timestamp request',
  14: 'timestamp reply',
};

export function icmpTypeName(type: number): string | undefined {
  return ICMP_TYPES[type];
}

export function decodeIcmp(d: DecodeContext, offset: number, end: number, ip: IpInfo): NextLayer {
  const l = d.layer('icmp', offset, 8);
  if (!l.fits(offset, 4, end)) return undefined;
  const type = d.u8(offset);
  const code = d.u8(offset + 1);
  l.add('icmp.type', offset, 1, type, ICMP_TYPES[type] ? `${type} (${ICMP_TYPES[type]})` : String(type));
  l.add('icmp.code', offset + 1, 1, code);
  // RFC 792: the checksum covers the ICMP message only, no pseudo header.
  const complete = !ip.fragment && !ip.incomplete;
  l.checksum('icmp.checksum', offset + 2, complete ? computeChecksum(d.frame, offset, end, offset + 2) : undefined);
  if (!l.fits(offset, 8, end)) return undefined;
  if (type === 0 || type === 8 || type === 13 || type === 14) {
    l.add('icmp.ident', offset + 4, 2, d.u16(offset + 4));
    l.add('icmp.seq', offset + 6, 2, d.u16(offset + 6));
  } else if (type === 3 && code === 4) {
    // RFC 1191 4: "fragmentation needed" carries the next-hop MTU in the low 16 bits.
    l.add('icmp.mtu', offset + 6, 2, d.u16(offset + 6));
  }
  // Error messages quote the offending packet's IP header and first 8 bytes (RFC 792).
  if (ICMP_ERRORS.has(type) && end > offset + 8) return { kind: 'ethertype', etherType: ETHERTYPE_IPV4, offset: offset + 8, end, tunnel: true, quoted: true };
  return undefined;
}

const ICMPV6_TYPES: Record<number, string> = {
  1: 'destination unreachable',
  2: 'packet too big',
  3: 'time exceeded',
  4: 'parameter problem',
  128: 'echo request',
  129: 'echo reply',
  133: 'router solicitation',
  134: 'router advertisement',
  135: 'neighbor solicitation',
  136: 'neighbor advertisement',
  137: 'redirect',
  143: 'MLDv2 report',
};

export function icmpv6TypeName(type: number): string | undefined {
  return ICMPV6_TYPES[type];
}

export function decodeIcmpv6(d: DecodeContext, offset: number, end: number, ip: IpInfo): NextLayer {
  const l = d.layer('icmpv6', offset, 4);
  if (!l.fits(offset, 4, end)) return undefined;
  const type = d.u8(offset);
  l.add('icmpv6.type', offset, 1, type, ICMPV6_TYPES[type] ? `${type} (${ICMPV6_TYPES[type]})` : String(type));
  l.add('icmpv6.code', offset + 1, 1, d.u8(offset + 1));
  l.checksum('icmpv6.checksum', offset + 2, transportChecksum(d, ip, IPPROTO_ICMPV6, offset, end, offset + 2));
  if (type === 128 || type === 129) {
    l.layer.length = 8;
    if (!l.fits(offset, 8, end)) return undefined;
    l.add('icmpv6.echo.identifier', offset + 4, 2, d.u16(offset + 4), hex(d.u16(offset + 4), 4));
    l.add('icmpv6.echo.sequence_number', offset + 6, 2, d.u16(offset + 6));
  } else if (type === 2) {
    l.layer.length = 8;
    if (!l.fits(offset, 8, end)) return undefined;
    l.add('icmpv6.mtu', offset + 4, 4, d.u32(offset + 4));
  } else if (type === 135 || type === 136) {
    l.layer.length = 24;
    if (!l.fits(offset, 24, end)) return undefined;
    const name = type === 135 ? 'icmpv6.nd.ns.target_address' : 'icmpv6.nd.na.target_address';
    l.add(name, offset + 8, 16, formatIPv6(d.frame, offset + 8));
  }
  // Error messages (types below 128) quote as much of the offending packet as fits (RFC 4443 2.4).
  if (type >= 1 && type <= 4 && end > offset + 8) return { kind: 'ethertype', etherType: ETHERTYPE_IPV6, offset: offset + 8, end, tunnel: true, quoted: true };
  return undefined;
}
