// Decoding a frame layer by layer into named fields, for people: summaries, diffs, test
// matchers. Each protocol module decodes its own header and says what follows; this driver
// walks that chain. Decoding never throws: a short or inconsistent header is reported as
// `malformed` on its layer (and on the packet), and decoding stops there.

import { type DecodedPacket, DecodeContext, type NextLayer } from './fields.js';
import { decodeDns } from './dns.js';
import { decodeIPv4, decodeIPv6, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_IPIP, IPPROTO_IPV6, IPPROTO_TCP, IPPROTO_UDP } from './ip.js';
import { decodeArp, decodeEthernet, decodeNull, decodeSll, decodeSll2, decodeVlan, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_TEB, isVlanEtherType } from './link.js';
import { decodeIcmp, decodeIcmpv6, decodeTcp, decodeUdp } from './transport.js';
import { decodeGeneve, decodeVxlan } from './tunnel.js';
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  LINKTYPE_RAW_12,
  LINKTYPE_RAW_14,
} from '../pcap/linktype.js';

export type { ChecksumStatus, DecodedLayer, DecodedPacket, PacketField } from './fields.js';
export { getField } from './fields.js';

/** Tunnels inside tunnels beyond this are left undecoded (a crafted packet could nest deeply). */
const MAX_DEPTH = 8;

export interface DecodeOptions {
  /** Length on the wire; when larger than the frame, missing bytes are blamed on the capture
   *  (checksums left unverified) rather than reported as malformed. */
  originalLength?: number;
}

/** Decodes a frame of the given link type (LINKTYPE_*, Ethernet by default). */
export function decodePacket(frame: Uint8Array, linkType = 1, options: DecodeOptions = {}): DecodedPacket {
  const originalLength = options.originalLength ?? frame.length;
  const d = new DecodeContext(frame, originalLength > frame.length);
  const end = frame.length;
  let next: NextLayer;
  try {
    next = firstLayer(d, linkType, end);
    for (let steps = 0; next && steps < 256; steps++) next = decodeNext(d, next);
  } catch (err) {
    // A decoder bug must not take the caller down; report it like any malformed header.
    const at = d.layers.at(-1)?.offset ?? 0;
    d.malformed ??= `decoder error at byte ${at}: ${err instanceof Error ? err.message : String(err)}`;
  }
  const packet: DecodedPacket = { linkType, length: frame.length, originalLength, layers: d.layers };
  if (d.malformed !== undefined) packet.malformed = d.malformed;
  return packet;
}

function firstLayer(d: DecodeContext, linkType: number, end: number): NextLayer {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return { kind: 'ethernet', offset: 0, end };
    case LINKTYPE_NULL:
      return decodeNull(d, 0, end, false);
    case LINKTYPE_LOOP:
      return decodeNull(d, 0, end, true);
    case LINKTYPE_RAW:
    case LINKTYPE_RAW_12:
    case LINKTYPE_RAW_14: {
      const version = end > 0 ? d.u8(0) >> 4 : 0;
      if (version === 6) return { kind: 'ethertype', etherType: ETHERTYPE_IPV6, offset: 0, end };
      return { kind: 'ethertype', etherType: ETHERTYPE_IPV4, offset: 0, end };
    }
    case LINKTYPE_IPV4:
      return { kind: 'ethertype', etherType: ETHERTYPE_IPV4, offset: 0, end };
    case LINKTYPE_IPV6:
      return { kind: 'ethertype', etherType: ETHERTYPE_IPV6, offset: 0, end };
    case LINKTYPE_LINUX_SLL:
      return decodeSll(d, 0, end);
    case LINKTYPE_LINUX_SLL2:
      return decodeSll2(d, 0, end);
    default:
      d.layer('data', 0, end);
      return undefined;
  }
}

function decodeNext(d: DecodeContext, next: NonNullable<NextLayer>): NextLayer {
  if ((next.kind === 'ethernet' || next.kind === 'ethertype') && next.tunnel) {
    if (d.depth + 1 > MAX_DEPTH) {
      d.layer('data', next.offset, next.end - next.offset);
      return undefined;
    }
    d.depth++;
    if (next.kind === 'ethertype' && next.quoted) d.quoted = true;
  }
  switch (next.kind) {
    case 'ethernet':
      return decodeEthernet(d, next.offset, next.end);
    case 'ethertype':
      return decodeEtherType(d, next.etherType, next.offset, next.end);
    case 'ip-protocol':
      switch (next.protocol) {
        case IPPROTO_TCP:
          return decodeTcp(d, next.offset, next.end, next.ip);
        case IPPROTO_UDP:
          return decodeUdp(d, next.offset, next.end, next.ip);
        case IPPROTO_ICMP:
          return decodeIcmp(d, next.offset, next.end, next.ip);
        case IPPROTO_ICMPV6:
          return decodeIcmpv6(d, next.offset, next.end, next.ip);
        // IP in IP (RFC 2003) and IPv6 in IPv4/IPv6 (RFC 4213, RFC 2473): a tunnel too.
        case IPPROTO_IPIP:
          return { kind: 'ethertype', etherType: ETHERTYPE_IPV4, offset: next.offset, end: next.end, tunnel: true };
        case IPPROTO_IPV6:
          return { kind: 'ethertype', etherType: ETHERTYPE_IPV6, offset: next.offset, end: next.end, tunnel: true };
        default:
          if (next.end > next.offset) d.layer('data', next.offset, next.end - next.offset);
          return undefined;
      }
    case 'vxlan':
      return decodeVxlan(d, next.offset, next.end);
    case 'geneve':
      return decodeGeneve(d, next.offset, next.end);
    case 'dns':
      return decodeDns(d, next.offset, next.end);
  }
}

function decodeEtherType(d: DecodeContext, type: number, offset: number, end: number): NextLayer {
  if (isVlanEtherType(type)) return decodeVlan(d, offset, end, type);
  switch (type) {
    case ETHERTYPE_IPV4:
      return decodeIPv4(d, offset, end);
    case ETHERTYPE_IPV6:
      return decodeIPv6(d, offset, end);
    case ETHERTYPE_ARP:
      return decodeArp(d, offset, end);
    case ETHERTYPE_TEB:
      return decodeEthernet(d, offset, end);
    default:
      if (end > offset) d.layer('data', offset, end - offset);
      return undefined;
  }
}
