// Output packets whose field a `same-in-both` rule links to a map entry (a SNAT port the kernel
// picked at random, which the NAT entry records): bpfbed's packet is compared with the kernel's
// value in that field, its checksums updated incrementally as a NAT rewrite updates them
// (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')), so every other byte, and whether the checksums are
// right for the value each side chose, is still compared exactly.
import { decodePacket, getField, type DecodedPacket } from '../../packet/decode.js';
import type { PacketFacts } from '../../scenario/parity.js';

/** The named fields of a frame, as PacketFacts wants them. */
export function packetFacts(packet: number, frame: Uint8Array, names: readonly string[]): PacketFacts {
  const decoded = decodePacket(frame);
  return { packet, fields: Object.fromEntries(names.map((n) => [n, getField(decoded, n)?.value])) };
}

/** RFC 1624 eqn. 3 over 16-bit words that changed from `before` to `after` (same length, even). */
function adjust(checksum: number, before: Uint8Array, after: Uint8Array): number {
  let sum = ~checksum & 0xffff;
  for (let i = 0; i < before.length; i += 2) {
    sum += ~((before[i] << 8) | before[i + 1]) & 0xffff;
    sum += (after[i] << 8) | after[i + 1];
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** The checksums covering a field: its own layer's (tcp, udp, ip header) and, for IP addresses, the L4 pseudo header's. */
function checksumsOver(decoded: DecodedPacket, name: string, offset: number): { offset: number; start: number; udp: boolean }[] {
  const layerIndex = decoded.layers.findIndex((l) => offset >= l.offset && offset < l.offset + l.length);
  if (layerIndex < 0) return [];
  const layer = decoded.layers[layerIndex];
  const sum = (l: (typeof decoded.layers)[number]) => {
    const f = l.fields.find((x) => x.name.endsWith('.checksum') && (l.protocol === 'tcp' || l.protocol === 'udp' || l.protocol === 'ip'));
    return f ? { offset: f.offset, start: l.offset, udp: l.protocol === 'udp' } : undefined;
  };
  const out: { offset: number; start: number; udp: boolean }[] = [];
  const own = sum(layer);
  if (own) out.push(own);
  if (/(^|\.)ipv?6?\.(src|dst)$/.test(name)) {
    // the pseudo header of the transport checksum carries the addresses (RFC 793, RFC 768, RFC 8200 8.1)
    const l4 = decoded.layers.slice(layerIndex + 1).find((l) => l.depth === layer.depth && (l.protocol === 'tcp' || l.protocol === 'udp'));
    const s = l4 && sum(l4);
    if (s) out.push(s);
  }
  return out;
}

/**
 * bpfbed's frame with `names` fields set to the kernel frame's values and its checksums updated.
 * Undefined when a field is missing on either side, differs in size, or sits at an odd offset
 * from a checksum's start (not a whole 16-bit word).
 */
export function withKernelFields(bpfbed: Uint8Array, kernel: Uint8Array, names: readonly string[]): Uint8Array | undefined {
  const out = bpfbed.slice();
  for (const name of names) {
    const decoded = decodePacket(out);
    const mine = getField(decoded, name);
    const theirs = getField(decodePacket(kernel), name);
    if (!mine || !theirs || mine.length !== theirs.length) return undefined;
    const before = out.slice(mine.offset, mine.offset + mine.length);
    const after = kernel.slice(theirs.offset, theirs.offset + theirs.length);
    for (const c of checksumsOver(decoded, name, mine.offset)) {
      if ((mine.offset - c.start) % 2 !== 0 || mine.length % 2 !== 0) return undefined;
      const old = (out[c.offset] << 8) | out[c.offset + 1];
      if (c.udp && old === 0) continue; // UDP over IPv4 without a checksum (RFC 768)
      let next = adjust(old, before, after);
      if (c.udp && next === 0) next = 0xffff; // RFC 768: a computed 0 is sent as all ones
      out[c.offset] = next >> 8;
      out[c.offset + 1] = next & 0xff;
    }
    out.set(after, mine.offset);
  }
  return out;
}
