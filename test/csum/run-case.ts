// Runs one csum-cases.ts case through src/csum, in the form the kernel answers are recorded.
import { csumDiff, l3CsumReplace, l4CsumReplace } from '../../src/csum/helpers.js';
import type { CsumAnswer, CsumCase } from './csum-cases.js';

const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export function runCase(c: CsumCase): CsumAnswer {
  const pkt = unhex(c.pkt);
  let ret: number;
  if (c.op === 'diff') ret = csumDiff(unhex(c.from), unhex(c.to), c.seed);
  else if (c.op === 'l3') ret = l3CsumReplace(pkt, c.offset, c.from, c.to, c.flags);
  else ret = l4CsumReplace(pkt, c.offset, c.from, c.to, c.flags);
  return { name: c.name, ret: String(ret), pkt: hex(pkt) };
}
