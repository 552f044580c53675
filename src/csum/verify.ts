// Full checksums for checking a packet, computed from scratch (RFC 1071 §4.1), as the values
// a header carries in network order (what Wireshark shows): the IPv4 header checksum (RFC 791)
// and the TCP / UDP / ICMP / ICMPv6 checksums with their pseudo-headers (RFC 9293 §3.1,
// RFC 768, RFC 8200 §8.1, RFC 4443 §2.3).

export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;

/** Offset of the checksum field inside each L4 header. */
const L4_CSUM_OFFSET: Record<number, number> = {
  [IPPROTO_TCP]: 16,
  [IPPROTO_UDP]: 6,
  [IPPROTO_ICMP]: 2,
  [IPPROTO_ICMPV6]: 2,
};

/** The 16-bit one's complement sum (not complemented) of big-endian words, odd byte padded. */
export function onesComplementSum(bytes: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  let i = off;
  const end = off + len;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** RFC 1071: the complemented sum, i.e. the value a checksum field must hold. */
export function internetChecksum(bytes: Uint8Array, off: number, len: number, initial = 0): number {
  return ~onesComplementSum(bytes, off, len, initial) & 0xffff;
}

function need(pkt: Uint8Array, end: number, what: string): void {
  if (end > pkt.length) throw new RangeError(`${what}: packet has ${pkt.length} bytes, needs ${end}`);
}

/** The IPv4 header checksum the header at `ipOff` should carry (its own field counted as 0). */
export function ipv4HeaderChecksum(pkt: Uint8Array, ipOff: number): number {
  need(pkt, ipOff + 20, 'IPv4 header');
  const ihl = (pkt[ipOff] & 0x0f) * 4;
  if ((pkt[ipOff] >> 4) !== 4 || ihl < 20) throw new RangeError(`IPv4 header at ${ipOff}: bad version/IHL byte 0x${pkt[ipOff].toString(16)}`);
  need(pkt, ipOff + ihl, 'IPv4 header');
  const copy = pkt.slice(ipOff, ipOff + ihl);
  copy[10] = 0;
  copy[11] = 0;
  return internetChecksum(copy, 0, ihl);
}

export interface L4Location {
  protocol: number;
  /** Offset of the L4 header. */
  offset: number;
  /** L4 length (header + payload) as the IP header gives it. */
  length: number;
  /** Sum of the pseudo-header (0 for ICMPv4, which has none). */
  pseudoSum: number;
}

/** IPv6 extension headers that are walked to find the upper-layer header (RFC 8200 §4). */
const IPV6_EXT = new Set([0, 43, 60]);

/** Finds the L4 header after the IPv4 or IPv6 header at `ipOff` and sums its pseudo-header. */
export function locateL4(pkt: Uint8Array, ipOff: number): L4Location {
  need(pkt, ipOff + 1, 'IP header');
  const version = pkt[ipOff] >> 4;
  if (version === 4) {
    need(pkt, ipOff + 20, 'IPv4 header');
    const ihl = (pkt[ipOff] & 0x0f) * 4;
    const totLen = (pkt[ipOff + 2] << 8) | pkt[ipOff + 3];
    const protocol = pkt[ipOff + 9];
    const length = totLen - ihl;
    let pseudoSum = 0;
    if (protocol !== IPPROTO_ICMP) {
      pseudoSum = onesComplementSum(pkt, ipOff + 12, 8);
      pseudoSum = onesComplementSum(new Uint8Array([0, protocol, length >> 8, length & 0xff]), 0, 4, pseudoSum);
    }
    return { protocol, offset: ipOff + ihl, length, pseudoSum };
  }
  if (version === 6) {
    need(pkt, ipOff + 40, 'IPv6 header');
    let next = pkt[ipOff + 6];
    let off = ipOff + 40;
    const payloadEnd = ipOff + 40 + ((pkt[ipOff + 4] << 8) | pkt[ipOff + 5]);
    while (IPV6_EXT.has(next)) {
      need(pkt, off + 2, 'IPv6 extension header');
      const nextHdr = pkt[off];
      off += (pkt[off + 1] + 1) * 8;
      next = nextHdr;
    }
    const length = payloadEnd - off;
    let pseudoSum = onesComplementSum(pkt, ipOff + 8, 32);
    pseudoSum = onesComplementSum(
      new Uint8Array([length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff, 0, 0, 0, next]),
      0,
      8,
      pseudoSum,
    );
    return { protocol: next, offset: off, length, pseudoSum };
  }
  throw new RangeError(`IP header at ${ipOff}: version ${version} is neither 4 nor 6`);
}

/**
 * The TCP, UDP, ICMP or ICMPv6 checksum the L4 header after the IP header at `ipOff` should
 * carry, its own field counted as 0. A computed UDP checksum of 0 is sent as 0xffff (RFC 768).
 */
export function l4Checksum(pkt: Uint8Array, ipOff: number): number {
  const l4 = locateL4(pkt, ipOff);
  const fieldOff = L4_CSUM_OFFSET[l4.protocol];
  if (fieldOff === undefined) throw new RangeError(`IP protocol ${l4.protocol} has no checksum bpfbed knows`);
  need(pkt, l4.offset + l4.length, 'L4 segment');
  const copy = pkt.slice(l4.offset, l4.offset + l4.length);
  copy[fieldOff] = 0;
  copy[fieldOff + 1] = 0;
  const c = internetChecksum(copy, 0, copy.length, l4.pseudoSum);
  return l4.protocol === IPPROTO_UDP && c === 0 ? 0xffff : c;
}

/** The brief's name for l4Checksum: the TCP/UDP checksum with its IPv4 or IPv6 pseudo-header. */
export const tcpUdpChecksum = l4Checksum;

export interface ChecksumReport {
  /** IPv4 header checksum correct (undefined for IPv6). */
  ipv4?: boolean;
  /** L4 checksum correct (a zero UDP-over-IPv4 checksum means "none" and counts as correct). */
  l4?: boolean;
}

/** Checks the checksums of the IP packet at `ipOff` the way a receiver (or Wireshark) does. */
export function verifyChecksums(pkt: Uint8Array, ipOff: number): ChecksumReport {
  const report: ChecksumReport = {};
  const version = pkt[ipOff] >> 4;
  if (version === 4) report.ipv4 = ipv4HeaderChecksum(pkt, ipOff) === ((pkt[ipOff + 10] << 8) | pkt[ipOff + 11]);
  const l4 = locateL4(pkt, ipOff);
  const fieldOff = L4_CSUM_OFFSET[l4.protocol];
  if (fieldOff !== undefined && l4.offset + l4.length <= pkt.length) {
    const stored = (pkt[l4.offset + fieldOff] << 8) | pkt[l4.offset + fieldOff + 1];
    report.l4 = (version === 4 && l4.protocol === IPPROTO_UDP && stored === 0) || l4Checksum(pkt, ipOff) === stored;
  }
  return report;
}
