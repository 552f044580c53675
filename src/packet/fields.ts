// The shape of a decoded packet, and the small builder the protocol decoders fill it with.
// Field names follow Wireshark's display filter names (`tshark -G fields`), so a user can look a
// field up in Wireshark and compare with `tshark -T fields -e NAME`.

export type ChecksumStatus = 'good' | 'bad' | 'unverified';

export interface PacketField {
  /** Dotted name as Wireshark names it (`ip.src`), with `inner.` (`inner2.`, ...) in front for
   *  layers inside a tunnel (VXLAN, Geneve, IP-in-IP) or quoted by an ICMP error. */
  name: string;
  /** Text for people: addresses in text form, flags by name, numbers in Wireshark's base. */
  display: string;
  /** The raw value: a number for numeric fields, the text form for addresses and names. */
  value: number | string;
  /** Byte offset of the field in the frame, and its length in bytes (bit fields: the bytes that
   *  hold them). */
  offset: number;
  length: number;
  /** Checksums only: whether the field matches the data it covers. */
  status?: ChecksumStatus;
  /** Checksums only, when verified: the value a correct sender would have written. */
  expected?: number;
}

export interface DecodedLayer {
  /** Protocol short name: eth, vlan, ieee8021ad, arp, ip, ipv6, ipv6.hopopts, ipv6.routing, ipv6.fraghdr,
   *  ipv6.dstopts, ah, tcp, udp, icmp, icmpv6, vxlan, geneve, dns, sll, null, data. */
  protocol: string;
  /** 0 for the outer packet, 1 inside the first tunnel (or the packet an ICMP error quotes), and so on. */
  depth: number;
  /** Byte offset of the header in the frame and its length (header only, not payload). */
  offset: number;
  length: number;
  fields: PacketField[];
  /** Set when the header is cut short or inconsistent: names the layer and byte offset. */
  malformed?: string;
}

export interface DecodedPacket {
  linkType: number;
  /** Captured bytes decoded. */
  length: number;
  /** Length on the wire (larger than `length` when the capture cut the packet). */
  originalLength: number;
  layers: DecodedLayer[];
  /** The first layer's malformed message, if any. */
  malformed?: string;
}

/** `inner.` for depth 1, `inner2.` for depth 2, ... */
export function depthPrefix(depth: number): string {
  return depth === 0 ? '' : depth === 1 ? 'inner.' : `inner${depth}.`;
}

/** The first field called `name` (e.g. `ip.dst`, `inner.ip.dst`), or undefined. */
export function getField(packet: DecodedPacket, name: string): PacketField | undefined {
  for (const layer of packet.layers) for (const f of layer.fields) if (f.name === name) return f;
  return undefined;
}

export function hex(value: number, digits: number): string {
  return `0x${value.toString(16).padStart(digits, '0')}`;
}

/** Per-packet decoding state: the frame, where the capture was cut, the tunnel depth. */
export class DecodeContext {
  readonly view: DataView;
  readonly layers: DecodedLayer[] = [];
  depth = 0;
  malformed?: string;
  /** Set once decoding enters the packet quoted by an ICMP error (RFC 792, RFC 4443 2.4): it is
   *  cut short on purpose, so short lengths there are expected, not malformed. */
  quoted = false;

  constructor(
    readonly frame: Uint8Array,
    /** True when the capture kept fewer bytes than were on the wire (snapshot length). */
    readonly cutByCapture: boolean,
  ) {
    this.view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  }

  layer(protocol: string, offset: number, length: number): LayerBuilder {
    const layer: DecodedLayer = { protocol, depth: this.depth, offset, length, fields: [] };
    this.layers.push(layer);
    return new LayerBuilder(this, layer);
  }

  u8(at: number): number {
    return this.frame[at];
  }
  u16(at: number): number {
    return this.view.getUint16(at, false);
  }
  u32(at: number): number {
    return this.view.getUint32(at, false);
  }
}

export class LayerBuilder {
  private readonly prefix: string;

  constructor(
    private readonly ctx: DecodeContext,
    readonly layer: DecodedLayer,
  ) {
    this.prefix = depthPrefix(layer.depth);
  }

  /** Adds a field; `display` defaults to the decimal value. */
  add(name: string, offset: number, length: number, value: number | string, display?: string): PacketField {
    const field: PacketField = { name: this.prefix + name, display: display ?? String(value), value, offset, length };
    this.layer.fields.push(field);
    return field;
  }

  /** A 16-bit checksum field with its verification result (`expected` undefined: unverified). */
  checksum(name: string, offset: number, expected: number | undefined): PacketField {
    const value = this.ctx.u16(offset);
    const field = this.add(name, offset, 2, value, hex(value, 4));
    if (expected === undefined) field.status = 'unverified';
    else {
      // 0x0000 and 0xffff are the two one's complement zeros: a sender (or an incremental update,
      // RFC 1624 3) may write either, and a receiver's sum check accepts both, as Wireshark does.
      const bothZero = (value === 0 || value === 0xffff) && (expected === 0 || expected === 0xffff);
      field.status = value === expected || bothZero ? 'good' : 'bad';
      field.expected = expected;
    }
    return field;
  }

  /** Marks the layer malformed (the first message for the packet is also kept on the packet). */
  malformed(what: string, at: number): void {
    const message = `${this.prefix}${this.layer.protocol}: ${what} at byte ${at}`;
    this.layer.malformed ??= message;
    this.ctx.malformed ??= message;
  }

  /** Checks that `need` bytes from `at` are inside [.., end); if not, marks the layer malformed
   *  (saying whether the capture cut the packet) and returns false. */
  fits(at: number, need: number, end: number, what = 'header'): boolean {
    if (at + need <= end) return true;
    const have = Math.max(0, end - at);
    const cause = this.ctx.cutByCapture && end >= this.ctx.frame.length ? ' (the capture cut the packet short)' : '';
    this.malformed(`${what} truncated: ${have} of ${need} bytes${cause}`, at);
    return false;
  }
}

/** What the IP layer tells the layer above it, for the pseudo-header checksum. */
export interface IpInfo {
  version: 4 | 6;
  src: Uint8Array;
  /** The final destination (RFC 8200 8.1: the last routing-header address while segments remain). */
  dst: Uint8Array;
  /** A fragment: the upper layer does not have all its bytes, so its checksum is unverified. */
  fragment: boolean;
  /** The IP packet is longer than what was captured (or than the frame holds). */
  incomplete: boolean;
  /** Where the IP payload ends by the IP header's length fields (may be past the frame's end). */
  claimedEnd: number;
}

/** What a layer decoder found after itself; the driver in decode.ts continues there. Each
 *  `end` is where that protocol's bytes end (IP total length, UDP length), not the frame end. */
export type NextLayer =
  | { kind: 'ethernet'; offset: number; end: number; tunnel?: boolean }
  | { kind: 'ethertype'; etherType: number; offset: number; end: number; tunnel?: boolean; quoted?: boolean }
  | { kind: 'ip-protocol'; protocol: number; offset: number; end: number; ip: IpInfo }
  | { kind: 'vxlan' | 'geneve' | 'dns'; offset: number; end: number }
  | undefined;
