// Ethernet/IPv4/TCP and UDP frames with correct checksums (RFC 791 header checksum, RFC 9293
// section 3.1 / RFC 768 pseudo-header checksums), built for the per-packet workload.
import type { Endpoint } from './world.js';

export const ETH_HLEN = 14;
const IP_HLEN = 20;
const TCP_HLEN = 20;
const UDP_HLEN = 8;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

const CLIENT_MAC = [0x02, 0x00, 0x00, 0x00, 0x0a, 0x01];
const ROUTER_MAC = [0x02, 0x00, 0x00, 0x00, 0x0b, 0x01];

/** The one's complement sum of `bytes[from, to)` as 16-bit big-endian words, plus `initial`. */
function sum16(bytes: Uint8Array, from: number, to: number, initial = 0): number {
  let sum = initial;
  let i = from;
  for (; i + 1 < to; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < to) sum += bytes[i] << 8;
  return sum;
}

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

function putU16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 255;
  b[off + 1] = v & 255;
}

function putU32(b: Uint8Array, off: number, v: number): void {
  putU16(b, off, v >>> 16);
  putU16(b, off + 2, v & 0xffff);
}

export interface FrameSpec {
  src: Endpoint;
  dst: Endpoint;
  protocol: 'tcp' | 'udp';
  /** TCP flags (TCP_SYN | TCP_ACK ...); ignored for UDP. */
  flags?: number;
  seq?: number;
  ack?: number;
  ipId?: number;
  payloadLength: number;
  /** Fills the payload (default: zeros). */
  payloadSeed?: number;
}

/** One Ethernet frame from the client's MAC to the router's, IPv4 without options. */
export function buildFrame(spec: FrameSpec): Uint8Array {
  const l4Len = (spec.protocol === 'tcp' ? TCP_HLEN : UDP_HLEN) + spec.payloadLength;
  const frame = new Uint8Array(ETH_HLEN + IP_HLEN + l4Len);
  frame.set(ROUTER_MAC, 0);
  frame.set(CLIENT_MAC, 6);
  putU16(frame, 12, 0x0800);
  const ip = ETH_HLEN;
  frame[ip] = 0x45;
  putU16(frame, ip + 2, IP_HLEN + l4Len);
  putU16(frame, ip + 4, spec.ipId ?? 0);
  putU16(frame, ip + 6, 0x4000); // DF
  frame[ip + 8] = 64;
  frame[ip + 9] = spec.protocol === 'tcp' ? 6 : 17;
  putU32(frame, ip + 12, spec.src.addr);
  putU32(frame, ip + 16, spec.dst.addr);
  putU16(frame, ip + 10, ~fold(sum16(frame, ip, ip + IP_HLEN)) & 0xffff);

  const l4 = ip + IP_HLEN;
  putU16(frame, l4, spec.src.port);
  putU16(frame, l4 + 2, spec.dst.port);
  const payload = l4 + (spec.protocol === 'tcp' ? TCP_HLEN : UDP_HLEN);
  let x = spec.payloadSeed ?? 0;
  for (let i = payload; i < frame.length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    frame[i] = x >>> 24;
  }
  let csumOff: number;
  if (spec.protocol === 'tcp') {
    putU32(frame, l4 + 4, spec.seq ?? 0);
    putU32(frame, l4 + 8, spec.ack ?? 0);
    frame[l4 + 12] = (TCP_HLEN / 4) << 4;
    frame[l4 + 13] = spec.flags ?? TCP_ACK;
    putU16(frame, l4 + 14, 64240);
    csumOff = l4 + 16;
  } else {
    putU16(frame, l4 + 4, l4Len);
    csumOff = l4 + 6;
  }
  // The pseudo header: addresses, protocol, L4 length.
  const pseudo = sum16(frame, ip + 12, ip + 20, frame[ip + 9] + l4Len);
  let csum = ~fold(sum16(frame, l4, frame.length, pseudo)) & 0xffff;
  if (spec.protocol === 'udp' && csum === 0) csum = 0xffff; // RFC 768: 0 means no checksum
  putU16(frame, csumOff, csum);
  return frame;
}
