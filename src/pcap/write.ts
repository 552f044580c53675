// Writing capture files: nanosecond pcap (draft-ietf-opsawg-pcap, magic 0xa1b23c4d, little
// endian) and pcapng (draft-ietf-opsawg-pcapng: SHB, one IDB per interface with if_tsresol = 9,
// EPBs). Both open in Wireshark / tshark; the tests check that with tshark itself.

import { LINKTYPE_ETHERNET } from './linktype.js';
import { PCAP_MAGIC_NANO } from './pcap-file.js';
import { BLOCK_EPB, BLOCK_IDB, BLOCK_SHB, BYTE_ORDER_MAGIC } from './pcapng-file.js';

/** libpcap's MAXIMUM_SNAPLEN (pcap-int.h): the snapshot length tcpdump writes by default. */
export const DEFAULT_SNAPLEN = 262144;

const NS_PER_SECOND = 1_000_000_000n;

/** Grows one buffer as records are appended, so bytes() is a single copy. */
class ByteSink {
  private buf = new Uint8Array(4096);
  private len = 0;

  reserve(n: number): DataView {
    if (this.len + n > this.buf.length) {
      const bigger = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    const view = new DataView(this.buf.buffer, this.len, n);
    this.len += n;
    return view;
  }

  write(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.len - bytes.length);
  }

  get length(): number {
    return this.len;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

function checkTimestamp(timestampNs: bigint, maxSeconds: bigint): void {
  if (timestampNs < 0n || timestampNs / NS_PER_SECOND > maxSeconds) {
    throw new RangeError(`timestamp ${timestampNs} ns is outside what the file format can hold (0 to ${maxSeconds} seconds)`);
  }
}

function checkOriginalLength(data: Uint8Array, originalLength: number | undefined): number {
  const original = originalLength ?? data.length;
  if (!Number.isInteger(original) || original < data.length || original > 0xffffffff) {
    throw new RangeError(`original length ${original} must be a 32-bit integer at least the ${data.length} captured bytes`);
  }
  return original;
}

export interface PcapWriterOptions {
  /** LINKTYPE_* of every packet; Ethernet by default. */
  linkType?: number;
  /** Longer packets are cut to this many bytes (their original length is kept); 0: no limit. */
  snapLength?: number;
}

/** A nanosecond-resolution little-endian pcap file, built in memory. */
export class PcapWriter {
  readonly linkType: number;
  readonly snapLength: number;
  private readonly sink = new ByteSink();
  private count = 0;

  constructor(options: PcapWriterOptions = {}) {
    this.linkType = options.linkType ?? LINKTYPE_ETHERNET;
    this.snapLength = options.snapLength ?? DEFAULT_SNAPLEN;
    const h = this.sink.reserve(24);
    h.setUint32(0, PCAP_MAGIC_NANO, true);
    h.setUint16(4, 2, true); // version 2.4
    h.setUint16(6, 4, true);
    h.setInt32(8, 0, true); // thiszone: timestamps are UTC
    h.setUint32(12, 0, true); // sigfigs
    h.setUint32(16, this.snapLength, true);
    h.setUint32(20, this.linkType, true);
  }

  /** Appends one packet; `originalLength` (default: the data's length) is the length on the wire. */
  add(data: Uint8Array, timestampNs: bigint, originalLength?: number): void {
    checkTimestamp(timestampNs, 0xffffffffn);
    const original = checkOriginalLength(data, originalLength);
    const captured = this.snapLength === 0 ? data : data.subarray(0, Math.min(data.length, this.snapLength));
    const r = this.sink.reserve(16);
    r.setUint32(0, Number(timestampNs / NS_PER_SECOND), true);
    r.setUint32(4, Number(timestampNs % NS_PER_SECOND), true);
    r.setUint32(8, captured.length, true);
    r.setUint32(12, original, true);
    this.sink.write(captured);
    this.count++;
  }

  get packetCount(): number {
    return this.count;
  }

  /** The whole file so far (a copy; more packets may be added afterwards). */
  bytes(): Uint8Array {
    return this.sink.bytes();
  }
}

export interface PcapngInterfaceOptions {
  linkType?: number;
  name?: string;
  snapLength?: number;
}

const utf8 = new TextEncoder();

/** A pcapng file with one section, any number of interfaces, nanosecond timestamps. */
export class PcapngWriter {
  private readonly sink = new ByteSink();
  private readonly interfaceSnapLengths: number[] = [];
  private count = 0;

  constructor() {
    const body = new Uint8Array(16);
    const v = new DataView(body.buffer);
    v.setUint32(0, BYTE_ORDER_MAGIC, true);
    v.setUint16(4, 1, true); // version 1.0
    v.setUint16(6, 0, true);
    v.setBigInt64(8, -1n, true); // section length not given
    this.block(BLOCK_SHB, body);
  }

  /** Adds an Interface Description Block; returns the interface id to pass to add(). */
  addInterface(options: PcapngInterfaceOptions = {}): number {
    const snapLength = options.snapLength ?? DEFAULT_SNAPLEN;
    const opts: Uint8Array[] = [];
    if (options.name !== undefined) opts.push(option(2, utf8.encode(options.name))); // if_name
    opts.push(option(9, Uint8Array.of(9))); // if_tsresol: 10^-9 seconds
    opts.push(option(0, new Uint8Array(0))); // opt_endofopt
    const fixed = new Uint8Array(8);
    const v = new DataView(fixed.buffer);
    v.setUint16(0, options.linkType ?? LINKTYPE_ETHERNET, true);
    v.setUint32(4, snapLength, true);
    this.block(BLOCK_IDB, concat([fixed, ...opts]));
    this.interfaceSnapLengths.push(snapLength);
    return this.interfaceSnapLengths.length - 1;
  }

  /** Appends an Enhanced Packet Block on `interfaceId`. */
  add(interfaceId: number, data: Uint8Array, timestampNs: bigint, originalLength?: number): void {
    const snap = this.interfaceSnapLengths[interfaceId];
    if (snap === undefined) throw new RangeError(`interface ${interfaceId} was not added (${this.interfaceSnapLengths.length} interfaces)`);
    checkTimestamp(timestampNs, 0xffffffffffffffffn / NS_PER_SECOND);
    const original = checkOriginalLength(data, originalLength);
    // A snapshot length of 0 means no limit (pcapng section 4.2).
    const captured = snap === 0 ? data : data.subarray(0, Math.min(data.length, snap));
    const fixed = new Uint8Array(20);
    const v = new DataView(fixed.buffer);
    v.setUint32(0, interfaceId, true);
    v.setUint32(4, Number(timestampNs >> 32n), true);
    v.setUint32(8, Number(timestampNs & 0xffffffffn), true);
    v.setUint32(12, captured.length, true);
    v.setUint32(16, original, true);
    this.block(BLOCK_EPB, concat([fixed, pad4(captured)]));
    this.count++;
  }

  get packetCount(): number {
    return this.count;
  }

  bytes(): Uint8Array {
    return this.sink.bytes();
  }

  private block(type: number, body: Uint8Array): void {
    const total = 12 + body.length;
    const head = this.sink.reserve(8);
    head.setUint32(0, type, true);
    head.setUint32(4, total, true);
    this.sink.write(body);
    this.sink.reserve(4).setUint32(0, total, true);
  }
}

function pad4(bytes: Uint8Array): Uint8Array {
  if (bytes.length % 4 === 0) return bytes;
  const out = new Uint8Array((bytes.length + 3) & ~3);
  out.set(bytes);
  return out;
}

function option(code: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + ((value.length + 3) & ~3));
  const v = new DataView(out.buffer);
  v.setUint16(0, code, true);
  v.setUint16(2, value.length, true);
  out.set(value, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
