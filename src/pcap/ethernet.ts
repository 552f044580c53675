// Turning a captured packet of any supported link type into what a tc or XDP program sees on an
// Ethernet device: an Ethernet frame (skb->data at the MAC header for tc, xdp->data for XDP).

import {
  isRawIpLinkType,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  linkTypeName,
} from './linktype.js';
import type { CapturedPacket } from './types.js';

/** Source MAC of the synthetic Ethernet header put in front of raw IP (and of SLL/loopback frames
 *  that carry no 6-byte source address): locally administered (bit 1 of the first byte set),
 *  unicast, so it can never be a real vendor's address. */
export const SYNTHETIC_SRC_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x01);
/** Destination MAC of the synthetic header: also locally administered unicast. */
export const SYNTHETIC_DST_MAC = Uint8Array.of(0x02, 0x00, 0x00, 0x00, 0x00, 0x02);

export const ETH_P_IP = 0x0800; // uapi linux/if_ether.h
export const ETH_P_IPV6 = 0x86dd;

/** A packet whose link layer cannot be turned into Ethernet. */
export class LinkTypeError extends Error {
  override readonly name = 'LinkTypeError';
}

// BSD loopback address families (tcpdump.org linktypes, LINKTYPE_NULL): AF_INET is 2 everywhere,
// AF_INET6 differs per OS: Linux 10, NetBSD/OpenBSD/BSD/OS 24, FreeBSD 28, Darwin 30.
const NULL_AF_INET = 2;
const NULL_AF_INET6 = new Set([10, 24, 28, 30]);

function ethernet(etherType: number, payload: Uint8Array, src: Uint8Array = SYNTHETIC_SRC_MAC): Uint8Array {
  const frame = new Uint8Array(14 + payload.length);
  frame.set(SYNTHETIC_DST_MAC, 0);
  frame.set(src, 6);
  frame[12] = etherType >> 8;
  frame[13] = etherType & 0xff;
  frame.set(payload, 14);
  return frame;
}

/** EtherType for a bare IP packet, from its version nibble. */
function ipEtherType(data: Uint8Array, where: string): number {
  if (data.length < 1) throw new LinkTypeError(`${where}: empty packet, no IP version to read`);
  const version = data[0] >> 4;
  if (version === 4) return ETH_P_IP;
  if (version === 6) return ETH_P_IPV6;
  throw new LinkTypeError(`${where}: raw IP packet has IP version ${version}, expected 4 or 6`);
}

/**
 * The packet as an Ethernet frame (always a fresh copy the caller may change).
 * - Ethernet: the bytes as captured.
 * - raw IP (101, 12, 14, 228, 229), NULL/LOOP loopback: a synthetic header
 *   SYNTHETIC_DST_MAC, SYNTHETIC_SRC_MAC, EtherType 0x0800 or 0x86dd, then the IP packet.
 * - Linux cooked SLL (113) / SLL2 (276): the protocol field becomes the EtherType, the recorded
 *   link-layer address (the sender's, when it is 6 bytes) the source MAC.
 * Throws LinkTypeError (naming the packet and link type) for anything else.
 */
export function toEthernetFrame(pkt: Pick<CapturedPacket, 'data' | 'linkType'> & { index?: number }): Uint8Array {
  const { data, linkType } = pkt;
  const where = pkt.index === undefined ? `packet (${linkTypeName(linkType)})` : `packet ${pkt.index} (${linkTypeName(linkType)})`;
  const short = (need: number) => {
    if (data.length < need) throw new LinkTypeError(`${where}: ${data.length} bytes, shorter than its ${need}-byte link header`);
  };
  if (linkType === LINKTYPE_ETHERNET) return data.slice();
  if (linkType === LINKTYPE_IPV4) return ethernet(ETH_P_IP, data);
  if (linkType === LINKTYPE_IPV6) return ethernet(ETH_P_IPV6, data);
  if (isRawIpLinkType(linkType)) return ethernet(ipEtherType(data, where), data);
  if (linkType === LINKTYPE_NULL || linkType === LINKTYPE_LOOP) {
    short(4);
    const view = new DataView(data.buffer, data.byteOffset, 4);
    // NULL's family is in the capturing host's byte order; a value above 0xffff means the other one.
    let family = linkType === LINKTYPE_LOOP ? view.getUint32(0, false) : view.getUint32(0, true);
    if (family > 0xffff) family = view.getUint32(0, false);
    const payload = data.subarray(4);
    if (family === NULL_AF_INET) return ethernet(ETH_P_IP, payload);
    if (NULL_AF_INET6.has(family)) return ethernet(ETH_P_IPV6, payload);
    throw new LinkTypeError(`${where}: loopback address family ${family} is neither IPv4 nor IPv6`);
  }
  if (linkType === LINKTYPE_LINUX_SLL || linkType === LINKTYPE_LINUX_SLL2) {
    // SLL (tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html): pkttype, hatype, halen, addr[8], protocol.
    // SLL2 (LINKTYPE_LINUX_SLL2.html): protocol, reserved, ifindex, hatype, pkttype, halen, addr[8].
    const sll2 = linkType === LINKTYPE_LINUX_SLL2;
    const headerLength = sll2 ? 20 : 16;
    short(headerLength);
    const protocol = sll2 ? (data[0] << 8) | data[1] : (data[14] << 8) | data[15];
    const addrLength = sll2 ? data[11] : (data[4] << 8) | data[5];
    const addr = data.subarray(sll2 ? 12 : 6, (sll2 ? 12 : 6) + 6);
    // Protocol values below 0x0600 are not EtherTypes (1 = 802.3, 4 = 802.2 LLC, 0xc = CAN ...).
    if (protocol < 0x0600) throw new LinkTypeError(`${where}: cooked header protocol 0x${protocol.toString(16)} is not an EtherType`);
    return ethernet(protocol, data.subarray(headerLength), addrLength === 6 ? addr : SYNTHETIC_SRC_MAC);
  }
  throw new LinkTypeError(`${where}: this link type cannot be turned into an Ethernet frame`);
}
