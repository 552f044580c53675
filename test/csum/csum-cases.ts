// Checksum helper cases, run in the kernel by csum-kernel.test.ts (bpf/env/csum.c through
// BPF_PROG_TEST_RUN) and replayed against src/csum by csum.test.ts from the recorded answers.
import { createPrng, prandomU32 } from '../../src/env/prng.js';
import { BPF_F_IPV6, BPF_F_MARK_ENFORCE, BPF_F_MARK_MANGLED_0, BPF_F_PSEUDO_HDR } from '../../src/csum/helpers.js';

export type CsumCase =
  | { name: string; op: 'l3' | 'l4'; pkt: string; offset: number; from: bigint; to: bigint; flags: bigint }
  | { name: string; op: 'diff'; pkt: string; from: string; to: string; seed: number };

export interface CsumAnswer {
  name: string;
  ret: string;
  pkt: string;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Ethernet + IPv4 + TCP SYN 10.0.0.1:40000 -> 10.96.0.10:80 with valid checksums. */
export const tcp4 =
  '0200000000020200000000010800' +
  '4500003c1c4640004006' + '0a0c' + '0a0000010a60000a' +
  '9c4000500000000100000000a0027210' + '24f3' + '0000' + '020405b40402080a000000010000000001030307';
/** Ethernet + IPv4 + UDP 10.0.0.1:5353 -> 10.96.0.10:53 (bad UDP length, irrelevant here), UDP checksum 0 (none). */
export const udp4zero = '0200000000020200000000010800' + '4500002000004000401126630a0000010a60000a' + '14e900350000c0de' + '00000000';

function build(): CsumCase[] {
  const cases: CsumCase[] = [];
  const F = BigInt;
  // IPv4 header checksum at 14+10 = 24, TCP checksum at 34+16 = 50, UDP checksum at 34+6 = 40.
  const daddrOld = 0x0a00600an; // bytes 0a 60 00 0a read little-endian
  const daddrNew = 0x0501000an; // 10.0.1.5
  const l3 = (name: string, offset: number, from: bigint, to: bigint, flags: bigint, pkt = tcp4): CsumCase => ({ name, op: 'l3', pkt, offset, from, to, flags });
  const l4 = (name: string, offset: number, from: bigint, to: bigint, flags: bigint, pkt = tcp4): CsumCase => ({ name, op: 'l4', pkt, offset, from, to, flags });
  cases.push(l3('l3 4-byte address rewrite', 24, daddrOld, daddrNew, 4n));
  cases.push(l4('l4 4-byte address rewrite with pseudo header', 50, daddrOld, daddrNew, 4n | F(BPF_F_PSEUDO_HDR)));
  cases.push(l4('l4 2-byte port rewrite', 50, 0x5000n, 0x419cn, 2n));
  cases.push(l3('l3 2-byte field rewrite', 24, 0x4000n, 0x0000n, 2n));
  cases.push(l3('l3 by precomputed diff', 24, 0n, 0x1234abcdn, 0n));
  cases.push(l4('l4 by precomputed diff with pseudo header', 50, 0n, 0xfedc0123n, F(BPF_F_PSEUDO_HDR)));
  cases.push(l4('l4 by diff with BPF_F_IPV6', 50, 0n, 0xfedc0123n, F(BPF_F_PSEUDO_HDR | BPF_F_IPV6)));
  cases.push(l3('l3 diff with nonzero from is -EINVAL', 24, 1n, 5n, 0n));
  cases.push(l3('l3 size 3 is -EINVAL', 24, 1n, 5n, 3n));
  cases.push(l3('l3 with a pseudo-header flag is -EINVAL', 24, 1n, 5n, 4n | F(BPF_F_PSEUDO_HDR)));
  cases.push(l4('l4 with an unknown flag is -EINVAL', 50, 1n, 5n, 4n | (1n << 8n)));
  cases.push(l3('l3 at an odd offset is -EFAULT', 25, 1n, 5n, 4n));
  cases.push(l3('l3 past the packet end is -EFAULT', 200, 1n, 5n, 4n));
  cases.push(l3('l3 offset above 0xffff is -EFAULT', 0x10000, 1n, 5n, 4n));
  cases.push(l4('l4 on the last two bytes', tcp4.length / 2 - 2, 0x1n, 0x2n, 2n));
  cases.push(l4('l4 one byte past the end is -EFAULT', tcp4.length / 2 - 1 + 1, 0x1n, 0x2n, 2n));
  cases.push(l4('MARK_MANGLED_0 leaves a zero UDP checksum alone', 40, daddrOld, daddrNew, 4n | F(BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0), udp4zero));
  cases.push(l4('MARK_ENFORCE updates a zero UDP checksum', 40, daddrOld, daddrNew, 4n | F(BPF_F_PSEUDO_HDR | BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE), udp4zero));
  // A result of 0 becomes CSUM_MANGLED_0: checksum 0xfffe, field 0x0000 -> 0x0001 gives 0.
  const zeroing = udp4zero.slice(0, 80) + 'fffe' + udp4zero.slice(84);
  cases.push(l4('MARK_MANGLED_0 writes 0xffff for a zero result', 40, 0x0000n, 0x0100n, 2n | F(BPF_F_MARK_MANGLED_0), zeroing));
  cases.push(l4('without MARK_MANGLED_0 a zero result stays 0', 40, 0x0000n, 0x0100n, 2n, zeroing));

  // Seeded random cases over random packets: every checksum state and field value.
  const rng = createPrng(20261122);
  const u32 = () => prandomU32(rng);
  const flagChoices = [2n, 4n, 0n, 4n | F(BPF_F_PSEUDO_HDR), 2n | F(BPF_F_MARK_MANGLED_0), 4n | F(BPF_F_MARK_MANGLED_0 | BPF_F_MARK_ENFORCE)];
  for (let i = 0; i < 120; i++) {
    const pkt = new Uint8Array(64);
    for (let j = 0; j < 64; j++) pkt[j] = u32() & 0xff;
    if (i % 10 === 0) pkt.fill(i % 20 === 0 ? 0 : 0xff, 20, 22); // both one's complement zeros
    const flags = flagChoices[u32() % flagChoices.length];
    const from = flags & 0xfn ? BigInt(u32()) | (BigInt(u32()) << 32n) : 0n;
    const to = BigInt(u32()) | (BigInt(u32()) << 32n);
    cases.push({ name: `random ${i % 2 ? 'l4' : 'l3'} #${i}`, op: i % 2 ? 'l4' : 'l3', pkt: hex(pkt), offset: 20, from, to, flags: i % 2 ? flags : flags & 0xfn });
  }
  const bytes = (n: number) => hex(Uint8Array.from({ length: n }, () => u32() & 0xff));
  cases.push({ name: 'csum_diff of nothing returns the seed folded', op: 'diff', pkt: tcp4, from: '', to: '', seed: 0x12345678 });
  cases.push({ name: 'csum_diff of equal zero words is 0xffff', op: 'diff', pkt: tcp4, from: '00000000', to: '00000000', seed: 0 });
  cases.push({ name: 'csum_diff pulling data', op: 'diff', pkt: tcp4, from: '01020304', to: '', seed: 0 });
  cases.push({ name: 'csum_diff of 3 bytes (no size check since 6.13)', op: 'diff', pkt: tcp4, from: '', to: '010203', seed: 0 });
  cases.push({ name: 'csum_diff of 1024 bytes', op: 'diff', pkt: tcp4, from: bytes(512), to: bytes(1024), seed: 0 });
  for (let i = 0; i < 40; i++) {
    const fs = u32() % 41;
    const ts = u32() % 41;
    cases.push({ name: `random csum_diff #${i} (${fs}, ${ts})`, op: 'diff', pkt: tcp4, from: bytes(fs), to: bytes(ts), seed: i % 3 ? u32() : 0 });
  }
  return cases;
}

export const csumCases = build();
