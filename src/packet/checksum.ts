// The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum.
// Used by IPv4 (RFC 791), TCP (RFC 9293 3.1), UDP (RFC 768), ICMP (RFC 792), ICMPv6 (RFC 4443 2.3).

/** One's complement sum of bytes[start, end), as 16-bit big-endian words (an odd last byte is
 *  padded with zero), added to `initial`. Not folded: call foldChecksum. */
export function sumWords(bytes: Uint8Array, start: number, end: number, initial = 0): number {
  let sum = initial;
  let i = start;
  for (; i + 1 < end; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  return sum;
}

/** Folds the carries of a sum into 16 bits. */
export function foldChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** Sum of the pseudo header of RFC 9293 3.1 (IPv4) / RFC 8200 8.1 (IPv6) for upper-layer
 *  checksums: source and destination address, upper-layer length, next header / protocol. */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = sumWords(src, 0, src.length) + sumWords(dst, 0, dst.length) + protocol;
  // The IPv6 pseudo header has a 32-bit length; IPv4's is 16 bits. Adding both halves covers both.
  sum += Math.floor(length / 0x10000) + (length & 0xffff);
  return sum;
}

/** The checksum over bytes[start, end) with the 16-bit field at `fieldOffset` taken as zero,
 *  i.e. the value a correct sender would have written there. */
export function computeChecksum(bytes: Uint8Array, start: number, end: number, fieldOffset: number, initial = 0): number {
  // The sum is not folded yet, so taking the field's word back out is exact.
  const sum = sumWords(bytes, start, end, initial) - ((bytes[fieldOffset] << 8) | bytes[fieldOffset + 1]);
  return ~foldChecksum(sum) & 0xffff;
}
