// Ethernet/IPv4/TCP|UDP frames with correct checksums, for NodePort fixtures and tests (the
// synthetic cases scripts/gen-kpr-pcaps.mjs writes next to the real captures), and a checker
// that says whether a frame's IPv4 and L4 checksums hold. Checksums: RFC 791 (header), RFC 793
// / RFC 768 (pseudo header; UDP 0 = none). The same for IPv6 below. Browser-safe.
import { parseIPv6 } from '../env/addr.js';
import { parseIpv4 } from './layout.js';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** What an IPv4 and an IPv6 frame spec share: the link, the addresses, the TCP or UDP header. */
interface L4FrameSpec {
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
}

export interface Ipv4FrameSpec extends L4FrameSpec {
  ttl?: number;
  id?: number;
}

function parseMac(mac: string): number[] {
  const parts = mac.split(':').map((h) => parseInt(h, 16));
  if (parts.length !== 6 || parts.some((b) => !(b >= 0 && b <= 255))) throw new Error(`not a MAC address: '${mac}'`);
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
  writeL4(frame.subarray(34), spec, payload, pseudoSum(ip, l4Len));
  return frame;
}

/**
 * The TCP header (RFC 793: no options, window 64240) or UDP header (RFC 768) and the payload into
 * `l4`, a zeroed buffer of exactly their size, with the checksum over `pseudo`, the pseudo
 * header's sum. A computed UDP checksum of 0 is sent as all ones (RFC 768; RFC 8200 section 8.1).
 */
function writeL4(l4: Uint8Array, spec: L4FrameSpec, payload: Uint8Array, pseudo: number): void {
  const lv = new DataView(l4.buffer, l4.byteOffset, l4.byteLength);
  lv.setUint16(0, spec.sport);
  lv.setUint16(2, spec.dport);
  if (spec.proto === 'tcp') {
    lv.setUint32(4, spec.seq ?? 1000);
    lv.setUint32(8, spec.ack ?? 0);
    l4[12] = 0x50;
    l4[13] = spec.flags ?? TCP_SYN;
    lv.setUint16(14, 64240);
    l4.set(payload, 20);
    lv.setUint16(16, ~onesSum(l4, pseudo) & 0xffff);
  } else {
    lv.setUint16(4, l4.length);
    l4.set(payload, 8);
    const c = ~onesSum(l4, pseudo) & 0xffff;
    lv.setUint16(6, c === 0 ? 0xffff : c);
  }
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

// ---- IPv6 ------------------------------------------------------------------------------------
// RFC 8200: a 40-byte header without checksum; extension headers chained by Next Header; the
// TCP/UDP checksum over a pseudo header of both addresses, the upper-layer length and the
// protocol (section 8.1); a UDP checksum of 0 is not allowed over IPv6 (sent as 0xffff).

/** An extension header between the IPv6 header and TCP/UDP (RFC 8200 section 4). */
export type Ipv6ExtHeader =
  | { type: 'hop' | 'dest' | 'routing'; /** option bytes after the 2-byte head (padded to a multiple of 8 with PadN) */ length?: number }
  | { type: 'fragment'; offset: number; more: boolean; id: number };

export interface Ipv6FrameSpec extends L4FrameSpec {
  hopLimit?: number;
  ext?: Ipv6ExtHeader[];
  /** Leave the L4 header out (a fragment that is not the first: only payload bytes). */
  noL4?: boolean;
}

const EXT_NUMBER = { hop: 0, routing: 43, fragment: 44, dest: 60 } as const;

function pseudoSum6(src: Uint8Array, dst: Uint8Array, l4Len: number, proto: number): number {
  const p = new Uint8Array(40);
  p.set(src, 0);
  p.set(dst, 16);
  new DataView(p.buffer).setUint32(32, l4Len);
  p[39] = proto;
  return onesSum(p);
}

/** An Ethernet frame carrying one IPv6 TCP or UDP packet (with extension headers if given), checksums correct. */
export function ipv6Frame(spec: Ipv6FrameSpec): Uint8Array {
  const payload = spec.payload ?? new Uint8Array(0);
  const protoNumber = spec.proto === 'tcp' ? 6 : 17;
  const l4 = new Uint8Array((spec.proto === 'tcp' ? 20 : 8) + payload.length);
  const src = parseIPv6(spec.src);
  const dst = parseIPv6(spec.dst);
  writeL4(l4, spec, payload, pseudoSum6(src, dst, l4.length, protoNumber));
  const body = spec.noL4 ? payload : l4;
  // the chain: each header names the next; the last names the L4 protocol
  const ext = spec.ext ?? [];
  const exts: Uint8Array[] = ext.map((h, i) => {
    const next = i + 1 < ext.length ? EXT_NUMBER[ext[i + 1].type] : protoNumber;
    if (h.type === 'fragment') {
      const f = new Uint8Array(8);
      f[0] = next;
      new DataView(f.buffer).setUint16(2, ((h.offset >> 3) << 3) | (h.more ? 1 : 0));
      new DataView(f.buffer).setUint32(4, h.id);
      return f;
    }
    const len = Math.ceil((2 + (h.length ?? 6)) / 8) * 8;
    const e = new Uint8Array(len);
    e[0] = next;
    e[1] = len / 8 - 1;
    if (h.type === 'routing') {
      e[2] = 0; // routing type 0 would be deprecated (RFC 5095); type 0 with segments left 0 is ignored
      e[3] = 0;
    } else {
      e[2] = 1; // PadN covering the rest (RFC 8200 section 4.2)
      e[3] = len - 4;
    }
    return e;
  });
  const extLen = exts.reduce((n, e) => n + e.length, 0);
  const frame = new Uint8Array(14 + 40 + extLen + body.length);
  const view = new DataView(frame.buffer);
  frame.set(parseMac(spec.dstMac), 0);
  frame.set(parseMac(spec.srcMac), 6);
  view.setUint16(12, 0x86dd);
  view.setUint32(14, 0x60000000);
  view.setUint16(18, extLen + body.length);
  frame[20] = ext.length ? EXT_NUMBER[ext[0].type] : protoNumber;
  frame[21] = spec.hopLimit ?? 64;
  frame.set(src, 22);
  frame.set(dst, 38);
  let off = 54;
  for (const e of exts) {
    frame.set(e, off);
    off += e.length;
  }
  frame.set(body, off);
  return frame;
}

/** Whether the TCP/UDP checksum of an Ethernet/IPv6 frame holds (extension headers skipped; `l4` false for a later fragment). */
export function checkIpv6Checksums(frame: Uint8Array): { l4: boolean } {
  if (frame.length < 54 || frame[12] !== 0x86 || frame[13] !== 0xdd) throw new Error('checkIpv6Checksums: not an Ethernet IPv6 frame');
  const end = 54 + ((frame[18] << 8) | frame[19]);
  let next = frame[20];
  let off = 54;
  while (next === 0 || next === 43 || next === 60 || next === 44) {
    if (next === 44) {
      if (((frame[off + 2] << 8) | frame[off + 3]) & 0xfff8) return { l4: false };
      next = frame[off];
      off += 8;
    } else {
      const len = (frame[off + 1] + 1) * 8;
      next = frame[off];
      off += len;
    }
  }
  const l4 = frame.subarray(off, end);
  const sum = onesSum(l4, pseudoSum6(frame.subarray(22, 38), frame.subarray(38, 54), l4.length, next));
  return { l4: sum === 0xffff };
}
