// DNS (RFC 1035 4.1), lightly: header counts and the first question's name and type.

import { type DecodeContext, hex, type NextLayer } from './fields.js';

const QTYPES: Record<number, string> = { 1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 65: 'HTTPS', 255: 'ANY' };

export function dnsTypeName(type: number): string {
  return QTYPES[type] ?? `TYPE${type}`;
}

/** A name at `at` (RFC 1035 4.1.4 compression allowed); undefined if it leaves [start, end). */
function readName(d: DecodeContext, start: number, at: number, end: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let next = -1;
  // Each pointer must go backwards, so a loop is impossible; the counter is a second guard.
  for (let hops = 0; hops < 128; hops++) {
    if (at >= end) return undefined;
    const length = d.u8(at);
    if (length === 0) return { name: labels.length ? labels.join('.') : '<Root>', next: next >= 0 ? next : at + 1 };
    if ((length & 0xc0) === 0xc0) {
      if (at + 1 >= end) return undefined;
      const target = start + (((length & 0x3f) << 8) | d.u8(at + 1));
      if (next < 0) next = at + 2;
      if (target >= at) return undefined;
      at = target;
      continue;
    }
    if ((length & 0xc0) !== 0 || at + 1 + length > end) return undefined;
    labels.push(String.fromCharCode(...d.frame.subarray(at + 1, at + 1 + length)));
    at += 1 + length;
  }
  return undefined;
}

export function decodeDns(d: DecodeContext, offset: number, end: number): NextLayer {
  const l = d.layer('dns', offset, 12);
  if (!l.fits(offset, 12, end)) return undefined;
  const flags = d.u16(offset + 2);
  l.add('dns.id', offset, 2, d.u16(offset), hex(d.u16(offset), 4));
  l.add('dns.flags', offset + 2, 2, flags, hex(flags, 4));
  l.add('dns.flags.response', offset + 2, 1, flags >> 15, flags >> 15 ? '1 (response)' : '0 (query)');
  const questions = d.u16(offset + 4);
  l.add('dns.count.queries', offset + 4, 2, questions);
  l.add('dns.count.answers', offset + 6, 2, d.u16(offset + 6));
  if (questions === 0) return undefined;
  const name = readName(d, offset, offset + 12, end);
  if (!name || name.next + 4 > end) {
    l.malformed('question name or type truncated or invalid', offset + 12);
    return undefined;
  }
  l.add('dns.qry.name', offset + 12, name.next - (offset + 12), name.name);
  const qtype = d.u16(name.next);
  l.add('dns.qry.type', name.next, 2, qtype, `${qtype} (${dnsTypeName(qtype)})`);
  return undefined;
}
