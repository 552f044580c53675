// Ethernet/IPv4/TCP|UDP frames with correct checksums, for NodePort fixtures and tests (the
// synthetic cases scripts/gen-kpr-pcaps.mjs writes next to the real captures), and a checker
// that says whether a frame's IPv4 and L4 checksums hold. Checksums: RFC 791 (header), RFC 793
// / RFC 768 (pseudo header; UDP 0 = none). Browser-safe.

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface Ipv4FrameSpec {
  srcMac: string;
  dstMac: string;
  src: string;
  dst: string;
  proto: 'tcp' | 'udp';
  sport: number;
  dport: number;
  /** TCP flags (TCP_*); default SYN. */
  flags?: number;
  seq?: number;
  ack?: number;
  payload?: Uint8Array;
  ttl?: number;
  id?: number;
}

function parseMac(mac: string): number[] {
  const parts = mac.split(':').map((h) => parseInt(h, 16));
  if (parts.length !== 6 || parts.some((b) => !(b >= 0 && b <= 255))) throw new Error(`not a MAC address: '${mac}'`);
  return parts;
}

function parseIpv4(addr: string): number[] {
  const parts = addr.split('.').map(Number);
  if (parts.length !== 4 || parts.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) throw new Error(`not an IPv4 address: '${addr}'`);
  return parts;
}

/** The ones' complement sum of `bytes` (big-endian 16-bit words) added to `init`, folded. */
function onesSum(bytes: Uint8Array, init = 0): number {
  let s = init;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function pseudoSum(ip: Uint8Array, l4Len: number): number {
  const p = new Uint8Array(12);
  p.set(ip.subarray(12, 20), 0);
  p[9] = ip[9];
  p[10] = l4Len >> 8;
  p[11] = l4Len & 0xff;
  return onesSum(p);
}

/** An Ethernet frame carrying one IPv4 TCP or UDP packet, with every checksum correct. */
export function ipv4Frame(spec: Ipv4FrameSpec): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const l4Len = (spec.proto === 'tcp' ? 20 : 8) + payload.length;
  const frame = new Uint8Array(14 + 20 + l4Len);
  const view = new DataView(frame.buffer);
  frame.set(parseMac(spec.dstMac), 0);
  frame.set(parseMac(spec.srcMac), 6);
  view.setUint16(12, 0x0800);
  const ip = frame.subarray(14, 34);
  ip[0] = 0x45;
  view.setUint16(16, 20 + l4Len);
  view.setUint16(18, spec.id ?? 1);
  view.setUint16(20, 0x4000); // DF, as Linux sends TCP
  ip[8] = spec.ttl ?? 64;
  ip[9] = spec.proto === 'tcp' ? 6 : 17;
  ip.set(parseIpv4(spec.src), 12);
  ip.set(parseIpv4(spec.dst), 16);
  view.setUint16(24, ~onesSum(ip) & 0xffff);
  const l4 = frame.subarray(34);
  view.setUint16(34, spec.sport);
  view.setUint16(36, spec.dport);
  if (spec.proto === 'tcp') {
    view.setUint32(38, spec.seq ?? 1000);
    view.setUint32(42, spec.ack ?? 0);
    l4[12] = 0x50;
    l4[13] = spec.flags ?? TCP_SYN;
    view.setUint16(48, 64240);
    l4.set(payload, 20);
    view.setUint16(50, ~onesSum(l4, pseudoSum(ip, l4Len)) & 0xffff);
  } else {
    view.setUint16(38, l4Len);
    l4.set(payload, 8);
    const c = ~onesSum(l4, pseudoSum(ip, l4Len)) & 0xffff;
    view.setUint16(40, c === 0 ? 0xffff : c); // RFC 768: a computed 0 is sent as all ones
  }
  return frame;
}

export interface ChecksumStatus {
  ip: boolean;
  /** The TCP/UDP checksum holds (a UDP checksum of 0, none, counts as holding). */
  l4: boolean;
}

/** Whether the IPv4 header and TCP/UDP checksums of an Ethernet frame hold. */
export function checkIpv4Checksums(frame: Uint8Array): ChecksumStatus {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) throw new Error('checkIpv4Checksums: not an Ethernet IPv4 frame');
  const ihl = (frame[14] & 0x0f) * 4;
  const ip = frame.subarray(14, 14 + ihl);
  const totLen = (frame[16] << 8) | frame[17];
  const l4 = frame.subarray(14 + ihl, 14 + totLen);
  const ipOk = onesSum(ip) === 0xffff;
  if (ip[9] === 17 && l4.length >= 8 && l4[6] === 0 && l4[7] === 0) return { ip: ipOk, l4: true };
  return { ip: ipOk, l4: onesSum(l4, pseudoSum(ip, l4.length)) === 0xffff };
}
