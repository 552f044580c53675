// Link layers: Ethernet II (IEEE 802.3 clause 3), 802.1Q / 802.1ad VLAN tags, Linux cooked
// capture (SLL, SLL2), BSD loopback, and ARP (RFC 826).

import { formatIPv4, formatMac } from './addr.js';
import { type DecodeContext, hex, type NextLayer } from './fields.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_VLAN = 0x8100; // 802.1Q C-tag
export const ETHERTYPE_QINQ = 0x88a8; // 802.1ad S-tag
export const ETHERTYPE_QINQ_OLD = 0x9100; // pre-standard double tagging
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_TEB = 0x6558; // transparent Ethernet bridging (Geneve, GRE)

const ETHERTYPE_NAMES: Record<number, string> = {
  [ETHERTYPE_IPV4]: 'IPv4',
  [ETHERTYPE_ARP]: 'ARP',
  [ETHERTYPE_VLAN]: '802.1Q',
  [ETHERTYPE_QINQ]: '802.1ad',
  [ETHERTYPE_QINQ_OLD]: 'QinQ',
  [ETHERTYPE_IPV6]: 'IPv6',
  [ETHERTYPE_TEB]: 'Ethernet',
  0x88cc: 'LLDP',
  0x8847: 'MPLS',
  0x8906: 'FCoE',
};

export function etherTypeDisplay(type: number): string {
  const name = ETHERTYPE_NAMES[type];
  return name ? `${hex(type, 4)} (${name})` : hex(type, 4);
}

export function isVlanEtherType(type: number): boolean {
  return type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ || type === ETHERTYPE_QINQ_OLD;
}

export function decodeEthernet(d: DecodeContext, offset: number, end: number): NextLayer {
  const l = d.layer('eth', offset, 14);
  if (!l.fits(offset, 14, end)) return undefined;
  l.add('eth.dst', offset, 6, formatMac(d.frame, offset));
  l.add('eth.src', offset + 6, 6, formatMac(d.frame, offset + 6));
  const type = d.u16(offset + 12);
  // Values up to 1500 are an 802.3 length, not an EtherType (IEEE 802.3 3.2.6).
  if (type <= 1500) {
    l.add('eth.len', offset + 12, 2, type);
    return undefined;
  }
  l.add('eth.type', offset + 12, 2, type, etherTypeDisplay(type));
  return { kind: 'ethertype', etherType: type, offset: offset + 14, end };
}

/** One VLAN tag, after its TPID: PCP, DEI, VID, then the next EtherType (IEEE 802.1Q 9.6).
 *  As in Wireshark, an 802.1Q C-tag is `vlan.*` and an 802.1ad S-tag (TPID 0x88a8, or the
 *  pre-standard 0x9100) is `ieee8021ad.*`; `ieee8021ad.etype` is ours (Wireshark shows the
 *  S-tag's inner type without a field of its own). */
export function decodeVlan(d: DecodeContext, offset: number, end: number, tpid: number): NextLayer {
  const protocol = tpid === ETHERTYPE_VLAN ? 'vlan' : 'ieee8021ad';
  const l = d.layer(protocol, offset, 4);
  if (!l.fits(offset, 4, end)) return undefined;
  const tci = d.u16(offset);
  l.add(`${protocol}.priority`, offset, 2, tci >> 13);
  l.add(`${protocol}.dei`, offset, 2, (tci >> 12) & 1);
  l.add(`${protocol}.id`, offset, 2, tci & 0x0fff);
  const type = d.u16(offset + 2);
  l.add(`${protocol}.etype`, offset + 2, 2, type, etherTypeDisplay(type));
  return { kind: 'ethertype', etherType: type, offset: offset + 4, end };
}

/** Linux cooked capture v1 (tcpdump.org LINKTYPE_LINUX_SLL): 16 bytes. */
export function decodeSll(d: DecodeContext, offset: number, end: number): NextLayer {
  const l = d.layer('sll', offset, 16);
  if (!l.fits(offset, 16, end)) return undefined;
  l.add('sll.pkttype', offset, 2, d.u16(offset));
  l.add('sll.hatype', offset + 2, 2, d.u16(offset + 2));
  const halen = d.u16(offset + 4);
  l.add('sll.halen', offset + 4, 2, halen);
  if (halen === 6) l.add('sll.src.eth', offset + 6, 6, formatMac(d.frame, offset + 6));
  const type = d.u16(offset + 14);
  l.add('sll.etype', offset + 14, 2, type, etherTypeDisplay(type));
  return { kind: 'ethertype', etherType: type, offset: offset + 16, end };
}

/** Linux cooked capture v2 (tcpdump.org LINKTYPE_LINUX_SLL2): 20 bytes, with the ifindex. */
export function decodeSll2(d: DecodeContext, offset: number, end: number): NextLayer {
  const l = d.layer('sll', offset, 20);
  if (!l.fits(offset, 20, end)) return undefined;
  const type = d.u16(offset);
  l.add('sll.etype', offset, 2, type, etherTypeDisplay(type));
  l.add('sll.ifindex', offset + 4, 4, d.u32(offset + 4));
  l.add('sll.hatype', offset + 8, 2, d.u16(offset + 8));
  l.add('sll.pkttype', offset + 10, 1, d.u8(offset + 10));
  const halen = d.u8(offset + 11);
  l.add('sll.halen', offset + 11, 1, halen);
  if (halen === 6) l.add('sll.src.eth', offset + 12, 6, formatMac(d.frame, offset + 12));
  return { kind: 'ethertype', etherType: type, offset: offset + 20, end };
}

/** BSD loopback (LINKTYPE_NULL: family in the writer's byte order; LINKTYPE_LOOP: big-endian). */
export function decodeNull(d: DecodeContext, offset: number, end: number, bigEndianOnly: boolean): NextLayer {
  const l = d.layer('null', offset, 4);
  if (!l.fits(offset, 4, end)) return undefined;
  let family = bigEndianOnly ? d.u32(offset) : d.view.getUint32(offset, true);
  if (family > 0xffff) family = d.u32(offset);
  l.add('null.family', offset, 4, family);
  // AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24, 28 or 30 (BSDs, Darwin).
  if (family === 2) return { kind: 'ethertype', etherType: ETHERTYPE_IPV4, offset: offset + 4, end };
  if ([10, 24, 28, 30].includes(family)) return { kind: 'ethertype', etherType: ETHERTYPE_IPV6, offset: offset + 4, end };
  return undefined;
}

const ARP_OPCODES: Record<number, string> = { 1: 'request', 2: 'reply', 3: 'RARP request', 4: 'RARP reply' };

/** ARP (RFC 826); addresses are decoded for Ethernet/IPv4, the only pairing seen in practice. */
export function decodeArp(d: DecodeContext, offset: number, end: number): NextLayer {
  const l = d.layer('arp', offset, 8);
  if (!l.fits(offset, 8, end)) return undefined;
  const hwSize = d.u8(offset + 4);
  const protoSize = d.u8(offset + 5);
  l.layer.length = 8 + 2 * (hwSize + protoSize);
  l.add('arp.hw.type', offset, 2, d.u16(offset));
  l.add('arp.proto.type', offset + 2, 2, d.u16(offset + 2), hex(d.u16(offset + 2), 4));
  l.add('arp.hw.size', offset + 4, 1, hwSize);
  l.add('arp.proto.size', offset + 5, 1, protoSize);
  const opcode = d.u16(offset + 6);
  l.add('arp.opcode', offset + 6, 2, opcode, ARP_OPCODES[opcode] ? `${opcode} (${ARP_OPCODES[opcode]})` : String(opcode));
  if (!l.fits(offset, l.layer.length, end, 'addresses')) return undefined;
  if (hwSize !== 6 || protoSize !== 4) return undefined;
  let at = offset + 8;
  l.add('arp.src.hw_mac', at, 6, formatMac(d.frame, at));
  l.add('arp.src.proto_ipv4', at + 6, 4, formatIPv4(d.frame, at + 6));
  at += 10;
  l.add('arp.dst.hw_mac', at, 6, formatMac(d.frame, at));
  l.add('arp.dst.proto_ipv4', at + 6, 4, formatIPv4(d.frame, at + 6));
  return undefined;
}
