// Overlay encapsulations carried in UDP: VXLAN (RFC 7348 5) and Geneve (RFC 8926 3). The inner
// frame is decoded by the driver one tunnel level deeper, so its fields get the `inner.` prefix.

import { type DecodeContext, hex, type NextLayer } from './fields.js';
import { etherTypeDisplay, ETHERTYPE_TEB } from './link.js';

export function decodeVxlan(d: DecodeContext, offset: number, end: number): NextLayer {
  const l = d.layer('vxlan', offset, 8);
  if (!l.fits(offset, 8, end)) return undefined;
  // Wireshark's vxlan.flags covers the first 16 bits (flags byte and the GBP extension bits).
  const flags = d.u16(offset);
  l.add('vxlan.flags', offset, 2, flags, hex(flags, 4));
  l.add('vxlan.vni', offset + 4, 3, d.u32(offset + 4) >>> 8);
  // RFC 7348 5: the I flag must be set for a valid VNI; receivers ignore the other bits.
  if ((flags & 0x0800) === 0) l.malformed('I flag clear (no valid VNI)', offset);
  return { kind: 'ethernet', offset: offset + 8, end, tunnel: true };
}

export function decodeGeneve(d: DecodeContext, offset: number, end: number): NextLayer {
  const l = d.layer('geneve', offset, 8);
  if (!l.fits(offset, 8, end)) return undefined;
  const first = d.u8(offset);
  const version = first >> 6;
  const optionsLength = (first & 0x3f) * 4;
  const flags = d.u8(offset + 1);
  const protocol = d.u16(offset + 2);
  l.add('geneve.version', offset, 1, version);
  // Not a Wireshark field (it shows the options' bytes as geneve.options); kept for diffs.
  l.add('geneve.opt_len', offset, 1, optionsLength);
  l.add('geneve.flags', offset + 1, 1, flags, hex(flags, 2));
  l.add('geneve.flags.oam', offset + 1, 1, (flags >> 7) & 1);
  l.add('geneve.flags.critical', offset + 1, 1, (flags >> 6) & 1);
  l.add('geneve.proto_type', offset + 2, 2, protocol, etherTypeDisplay(protocol));
  l.add('geneve.vni', offset + 4, 3, d.u32(offset + 4) >>> 8);
  if (version !== 0) {
    // RFC 8926 3.4: only version 0 is defined; a packet with another version is not decoded.
    l.malformed(`version ${version} (only 0 is defined)`, offset);
    return undefined;
  }
  l.layer.length = 8 + optionsLength;
  if (!l.fits(offset, 8 + optionsLength, end, 'options')) return undefined;
  // Options (RFC 8926 3.5): class (16), type (8), 3 reserved bits and length in 4-byte words.
  let at = offset + 8;
  const optionsEnd = offset + 8 + optionsLength;
  while (at + 4 <= optionsEnd) {
    const length = 4 + (d.u8(at + 3) & 0x1f) * 4;
    l.add('geneve.option.class', at, 2, d.u16(at), hex(d.u16(at), 4));
    l.add('geneve.option.type', at + 2, 1, d.u8(at + 2), hex(d.u8(at + 2), 2));
    l.add('geneve.option.length', at + 3, 1, length);
    if (at + length > optionsEnd) {
      l.malformed(`option of ${length} bytes runs past the ${optionsLength}-byte option area`, at);
      return undefined;
    }
    at += length;
  }
  const inner = offset + 8 + optionsLength;
  if (protocol === ETHERTYPE_TEB) return { kind: 'ethernet', offset: inner, end, tunnel: true };
  return { kind: 'ethertype', etherType: protocol, offset: inner, end, tunnel: true };
}
