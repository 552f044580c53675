// The packets and contexts test/ctx runs through bpfbed and through the kernel's
// BPF_PROG_TEST_RUN (kernel-answers.json holds the kernel's answers, recorded on Linux 6.18 by
// `BPFBED_RECORD_CTX=1 npx vitest run --project kernel test/ctx/parity-kernel.test.ts` as root).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CtxRunner } from '../../src/ctx/runner.js';
import { SKB, SK_BUFF_SIZE } from '../../src/ctx/skb.js';
import { skbFromTestRun, skbTestRunCtxOut, skbTestRunDataOut, xdpFromTestRun, xdpTestRunOutput } from '../../src/ctx/test-run.js';

export type CaseKind = 'tc' | 'xdp' | 'socket_filter';

export interface CtxCase {
  name: string;
  obj: string;
  prog: string;
  kind: CaseKind;
  data: Uint8Array;
  ctx?: Uint8Array;
}

export const objPath = (obj: string): string => fileURLToPath(new URL(`../../fixtures/obj/ctx/${obj}.o`, import.meta.url));
export const BPFTOOL_TYPE: Record<CaseKind, string> = { tc: 'classifier', xdp: 'xdp', socket_filter: 'socket' };

/** An Ethernet/IPv4/UDP frame of `total` bytes (valid IPv4 header checksum, UDP checksum 0). */
export function ipv4UdpFrame(total = 128, dstMac = [0, 0, 0, 0, 0, 0], proto = 17): Uint8Array {
  const f = new Uint8Array(total);
  f.set(dstMac, 0);
  f.set([2, 0, 0, 0, 0, 1], 6);
  f.set([0x08, 0x00], 12);
  const ipLen = total - 14;
  f.set([0x45, 0, ipLen >> 8, ipLen & 0xff, 0, 1, 0, 0, 64, proto, 0, 0, 10, 0, 0, 1, 10, 96, 0, 10], 14);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += (f[i] << 8) | f[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  const c = ~sum & 0xffff;
  f[24] = c >> 8;
  f[25] = c & 0xff;
  const udpLen = ipLen - 20;
  f.set([0xc8, 0x22, 0, 80, udpLen >> 8, udpLen & 0xff, 0, 0], 34);
  for (let i = 42; i < total; i++) f[i] = i & 0xff;
  return f;
}

/** An Ethernet/IPv6/UDP frame. */
export function ipv6UdpFrame(total = 128): Uint8Array {
  const f = new Uint8Array(total);
  f.set([2, 0, 0, 0, 0, 1], 6);
  f.set([0x86, 0xdd], 12);
  const payload = total - 54;
  f.set([0x60, 0, 0, 0, payload >> 8, payload & 0xff, 17, 64], 14);
  f[22 + 15] = 1; // ::1
  f[38 + 0] = 0xfd;
  f[38 + 15] = 2;
  f.set([0xc8, 0x22, 0, 80, payload >> 8, payload & 0xff, 0, 0], 54);
  return f;
}

/** An IPv4/UDP frame with VLAN tags (outermost first) of ids 10, 20 ... */
export function vlanFrame(tpids: number[]): Uint8Array {
  const inner = ipv4UdpFrame(128 - 4 * tpids.length);
  const f = new Uint8Array(128);
  f.set(inner.subarray(0, 12));
  tpids.forEach((t, i) => f.set([t >> 8, t & 0xff, 0, 10 * (i + 1)], 12 + 4 * i));
  f.set(inner.subarray(12), 12 + 4 * tpids.length);
  return f;
}

/** A __sk_buff ctx_in with the fields BPF_PROG_TEST_RUN accepts. */
export function skbCtx(f: { mark?: number; priority?: number; ingressIfindex?: number; cb?: number[]; tstamp?: bigint; wireLen?: number }): Uint8Array {
  const c = new Uint8Array(SK_BUFF_SIZE);
  const dv = new DataView(c.buffer);
  dv.setUint32(SKB.mark, f.mark ?? 0, true);
  dv.setUint32(SKB.priority, f.priority ?? 0, true);
  dv.setUint32(SKB.ingress_ifindex, f.ingressIfindex ?? 0, true);
  (f.cb ?? []).forEach((v, i) => dv.setUint32(SKB.cb + 4 * i, v >>> 0, true));
  dv.setBigUint64(SKB.tstamp, f.tstamp ?? 0n, true);
  dv.setUint32(SKB.wire_len, f.wireLen ?? 0, true);
  return c;
}

/** tc_ops: op, arg, flags (64-bit) in cb[0..3]. */
function op(name: string, code: number, arg: number, flags: bigint = 0n, data = ipv4UdpFrame()): CtxCase {
  const lo = Number(flags & 0xffffffffn);
  const hi = Number(flags >> 32n);
  return { name, obj: 'tc_ctx', prog: 'tc_ops', kind: 'tc', data, ctx: skbCtx({ cb: [code, arg, lo, hi, 0] }) };
}

/** xdp_ops: op in byte 6, s16 argument in bytes 7-8, flags in byte 9 of the frame. */
function xop(name: string, code: number, arg: number, flags = 0, data = ipv4UdpFrame(), ctx?: Uint8Array): CtxCase {
  const d = data.slice();
  d[6] = code;
  d[7] = arg & 0xff;
  d[8] = (arg >> 8) & 0xff;
  d[9] = flags;
  return { name, obj: 'xdp_ctx', prog: 'xdp_ops', kind: 'xdp', data: d, ctx };
}

function xdpCtx(metaLen: number, size: number, ingress = 0, rxq = 0): Uint8Array {
  const c = new Uint8Array(24);
  const dv = new DataView(c.buffer);
  dv.setUint32(0, metaLen, true);
  dv.setUint32(4, size, true);
  dv.setUint32(12, ingress, true);
  dv.setUint32(16, rxq, true);
  return c;
}

const F = (n: number): bigint => 1n << BigInt(n);

export const CASES: CtxCase[] = [
  { name: 'tc_fields: test-run defaults and writable fields', obj: 'tc_ctx', prog: 'tc_fields', kind: 'tc', data: ipv4UdpFrame(),
    ctx: skbCtx({ mark: 5, priority: 9, ingressIfindex: 7, cb: [0x42], tstamp: 77n }) },
  { name: 'tc_fields: unicast to another MAC is PACKET_OTHERHOST, wire_len from ctx_in', obj: 'tc_ctx', prog: 'tc_fields', kind: 'tc',
    data: ipv4UdpFrame(128, [2, 0, 0, 0, 0, 9]), ctx: skbCtx({ wireLen: 300 }) },
  { name: 'tc_fields: broadcast frame, IPv6', obj: 'tc_ctx', prog: 'tc_fields', kind: 'tc', data: (() => { const f = ipv6UdpFrame(); f.fill(0xff, 0, 6); return f; })() },
  { name: 'tc_fields: multicast frame without ctx_in', obj: 'tc_ctx', prog: 'tc_fields', kind: 'tc', data: ipv4UdpFrame(128, [1, 0, 0x5e, 0, 0, 1]) },
  { name: 'skb->sk of a test run: the dummy socket with the IPv4 addresses', obj: 'tc_ctx', prog: 'tc_sk', kind: 'tc', data: ipv4UdpFrame() },
  op('change_tail grows with zeros', 1, 200),
  op('change_tail shrinks', 1, 60),
  op('change_tail below the network header is -EINVAL', 1, 10),
  op('change_tail with flags is -EINVAL', 1, 100, 1n),
  op('change_tail past BPF_SKB_MAX_LEN is -EINVAL', 1, 20000),
  op('change_head pushes zeros', 2, 8),
  op('change_head with flags is -EINVAL', 2, 8, 1n),
  op('adjust_room MAC grows after the Ethernet header', 3, 8),
  op('adjust_room MAC shrinks', 3, -8),
  op('adjust_room NET grows after the IPv4 header', 4, 8),
  op('adjust_room NET shrinks', 4, -8),
  op('adjust_room NET grows an IPv6 packet', 4, 16, 0n, ipv6UdpFrame()),
  op('adjust_room beyond 0xfff is -EFAULT', 3, 0x1000),
  op('adjust_room with an unknown flag is -EINVAL', 3, 8, F(9)),
  op('adjust_room shrinking below the IPv4 header is -ENOTSUPP', 3, -100),
  op('adjust_room encap IPv4 + UDP', 3, 28, F(1) | F(4)),
  op('adjust_room encap L3 IPv4 and IPv6 together is -EINVAL', 3, 28, F(1) | F(2)),
  op('adjust_room decap flag when growing is -EINVAL', 3, 8, F(7)),
  op('adjust_room decap IPv4 shrink', 3, -20, F(7)),
  op('adjust_room encap L2 ETH with inner MAC length 14', 3, 50, F(1) | F(4) | F(6) | (14n << 56n)),
  op('adjust_room mode 2 is -ENOTSUPP', 13, 8, 2n << 32n),
  op('adjust_room on a non-IP packet is -ENOTSUPP', 3, 8, 0n, (() => { const f = ipv4UdpFrame(); f[12] = 0x88; f[13] = 0xb5; return f; })()),
  op('change_proto IPv4 -> IPv6 inserts 20 bytes after the MAC header', 5, 0x86dd),
  op('change_proto IPv6 -> IPv4 removes 20 bytes', 5, 0x0800, 0n, ipv6UdpFrame()),
  op('change_proto to the same family is -ENOTSUPP', 5, 0x0800),
  op('change_proto with flags is -EINVAL', 5, 0x86dd, 1n),
  op('pull_data within the packet', 6, 50),
  op('pull_data of 0 bytes', 6, 0),
  op('pull_data past the end is -ENOMEM', 6, 1000),
  op('change_type to PACKET_BROADCAST', 7, 1),
  op('change_type to PACKET_OUTGOING is -EINVAL', 7, 4),
  op('store_bytes', 8, 20),
  op('store_bytes past the end is -EFAULT', 8, 125),
  op('store_bytes with an unknown flag is -EINVAL', 8, 20, 4n),
  op('store_bytes with BPF_F_INVALIDATE_HASH', 8, 20, 2n),
  op('load_bytes', 9, 12),
  op('load_bytes past the end is -EFAULT and zeroes the buffer', 9, 124),
  op('redirect to egress', 10, 5),
  op('redirect to ingress', 10, 5, 1n),
  op('redirect with an unknown flag is TC_ACT_SHOT', 10, 5, 2n),
  op('redirect_peer', 11, 5),
  op('redirect_peer with flags is TC_ACT_SHOT', 11, 5, 1n),
  op('redirect_neigh with a next hop', 12, 5, 1n),
  op('redirect_neigh without a next hop', 12, 5, 0n),
  op('redirect_neigh with flags is TC_ACT_SHOT', 12, 5, 2n),
  op('l3_csum_replace of the IPv4 checksum', 15, 24, 4n),
  op('l3_csum_replace at an odd offset is -EFAULT', 15, 25, 4n),
  op('l4_csum_replace of the UDP checksum (pseudo header)', 16, 40, 4n | F(4)),
  op('l4_csum_replace keeps a zero UDP checksum with BPF_F_MARK_MANGLED_0', 16, 40, 4n | F(4) | F(5)),
  op('get_socket_cookie: the test-run skb has a socket', 17, 0),
  op('get_cgroup_classid is 0 in softirq-less test runs', 18, 0),
  op('clone_redirect to a missing device is -EINVAL', 19, 999),
  op('clone_redirect with an unknown flag is -EINVAL', 19, 1, 2n),
  op('get_hash_recalc sets skb->hash', 20, 0),
  op('load_bytes_relative from the MAC header', 26, 12, 0n),
  op('load_bytes_relative from the network header', 26, 12, 1n),
  op('load_bytes_relative past the tail is -EFAULT', 26, 110, 1n),
  op('load_bytes_relative with an unknown start is -EFAULT', 26, 0, 2n),
  op('vlan_push twice writes the first tag into the packet', 21, 0x8100),
  op('vlan_push with an unknown proto uses 802.1Q', 21, 0x1234),
  op('vlan_pop of an untagged packet does nothing', 22, 0),
  op('vlan_pop of an in-packet tag', 22, 0, 0n, vlanFrame([0x8100])),
  op('vlan_pop of a double tag moves the inner one out of band', 22, 0, 0n, vlanFrame([0x88a8, 0x8100])),
  op('vlan_push then vlan_pop', 23, 0),
  op('set_hash is kept by get_hash_recalc', 24, 0x1234),
  op('set_hash_invalid clears the hash', 25, 0x1234),
  { name: 'tunnel key set and read back', obj: 'tc_ctx', prog: 'tc_tunnel', kind: 'tc', data: ipv4UdpFrame(), ctx: skbCtx({ cb: [0, 0, 1, 0] }) },
  { name: 'tunnel key with the 28-byte layout', obj: 'tc_ctx', prog: 'tc_tunnel', kind: 'tc', data: ipv4UdpFrame(), ctx: skbCtx({ cb: [1, 0, 0, 0] }) },
  { name: 'tunnel key of a bad size is -EINVAL', obj: 'tc_ctx', prog: 'tc_tunnel', kind: 'tc', data: ipv4UdpFrame(), ctx: skbCtx({ cb: [2, 0, 0, 0] }) },
  { name: 'tunnel key IPv6 read as IPv4 is -EPROTO', obj: 'tc_ctx', prog: 'tc_tunnel', kind: 'tc', data: ipv4UdpFrame(), ctx: skbCtx({ cb: [0, 1, 0, 0] }) },
  { name: 'tunnel options of 6 bytes are -EINVAL', obj: 'tc_ctx', prog: 'tc_tunnel', kind: 'tc', data: ipv4UdpFrame(), ctx: skbCtx({ cb: [0, 2, 2, 0] }) },
  { name: 'tunnel key read with BPF_F_TUNINFO_FLAGS', obj: 'tc_ctx', prog: 'tc_tunnel', kind: 'tc', data: ipv4UdpFrame(), ctx: skbCtx({ cb: [0, 4, 0, 16] }) },
  xop('xdp_adjust_head pulls 14 bytes', 1, 14),
  xop('xdp_adjust_head pushes 14 bytes', 1, -14),
  xop('xdp_adjust_head to the end of the xdp_frame area', 1, -216),
  xop('xdp_adjust_head into the xdp_frame area is -EINVAL', 1, -217),
  xop('xdp_adjust_head leaving less than ETH_HLEN is -EINVAL', 1, 115),
  xop('xdp_adjust_meta reserves 4 bytes', 2, -4),
  xop('xdp_adjust_meta of 3 bytes is -EACCES', 2, -3),
  xop('xdp_adjust_meta of 216 bytes', 2, -216),
  xop('xdp_adjust_meta into the xdp_frame area is -EINVAL', 2, -220),
  xop('xdp_adjust_meta past data is -EINVAL', 2, 4),
  xop('xdp_adjust_tail grows with zeros', 3, 100),
  xop('xdp_adjust_tail shrinks', 3, -100),
  xop('xdp_adjust_tail below ETH_HLEN is -EINVAL', 3, -115),
  xop('xdp_adjust_tail to the frame end', 3, 3392),
  xop('xdp_adjust_tail past the frame end is -EINVAL', 3, 3393),
  xop('xdp redirect', 4, 5),
  xop('xdp redirect with flags is XDP_ABORTED', 4, 5, 1),
  xop('xdp metadata written through data_meta', 6, -4),
  xop('xdp_store_bytes', 8, 20),
  xop('xdp_store_bytes past the end is -EINVAL', 8, 125),
  xop('xdp_load_bytes', 9, 12),
  xop('xdp_load_bytes past the end is -EINVAL', 9, 126),
  xop('xdp_md fields without ctx_in (loopback, queue 0)', 7, 0),
  xop('xdp_md fields with ctx_in', 7, 0, 0, ipv4UdpFrame(), xdpCtx(0, 128, 1, 0)),
  xop('xdp metadata from ctx_in', 1, 0, 0, ipv4UdpFrame(), xdpCtx(8, 128, 0, 0)),
  { name: 'redirect_map on an empty DEVMAP slot returns the low flag bits', obj: 'xdp_redirect_map', prog: 'xdp_redirect_map', kind: 'xdp', data: xop('', 1, 0, 2).data },
  { name: 'redirect_map with BPF_F_BROADCAST redirects', obj: 'xdp_redirect_map', prog: 'xdp_redirect_map', kind: 'xdp', data: xop('', 1, 0, 8).data },
  { name: 'redirect_map with an unknown flag is XDP_ABORTED', obj: 'xdp_redirect_map', prog: 'xdp_redirect_map', kind: 'xdp', data: xop('', 1, 0, 0x20).data },
  { name: 'socket filter load_bytes_relative from the pulled MAC header and the network header', obj: 'sockfilter_ctx', prog: 'sockfilter_relative', kind: 'socket_filter', data: ipv4UdpFrame() },
  { name: 'socket filter keeps a UDP packet', obj: 'sockfilter_ctx', prog: 'sockfilter_udp', kind: 'socket_filter', data: ipv4UdpFrame(), ctx: skbCtx({ cb: [3] }) },
  { name: 'socket filter drops a TCP packet', obj: 'sockfilter_ctx', prog: 'sockfilter_udp', kind: 'socket_filter', data: ipv4UdpFrame(128, [0, 0, 0, 0, 0, 0], 6) },
];

export interface RecordedAnswer {
  retval: number;
  dataOut: string;
  ctxOut?: string;
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
export const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

export const ANSWERS_PATH = fileURLToPath(new URL('./kernel-answers.json', import.meta.url));
export function recordedAnswers(): Record<string, RecordedAnswer> {
  return JSON.parse(readFileSync(ANSWERS_PATH, 'utf8')) as Record<string, RecordedAnswer>;
}

const runners = new Map<string, Promise<CtxRunner>>();
function runnerFor(obj: string): Promise<CtxRunner> {
  let r = runners.get(obj);
  if (!r) {
    r = CtxRunner.fromObject(new Uint8Array(readFileSync(objPath(obj))), { name: obj });
    runners.set(obj, r);
  }
  return r;
}

/** Runs a case in bpfbed the way BPF_PROG_TEST_RUN runs it; returns what bpftool would print. */
export async function bpfbedTestRun(c: CtxCase): Promise<{ retval: number; dataOut: Uint8Array; ctxOut?: Uint8Array; fault?: string }> {
  const runner = await runnerFor(c.obj);
  if (c.kind === 'xdp') {
    const res = runner.runXdp(c.prog, xdpFromTestRun(c.data, c.ctx));
    const out = xdpTestRunOutput(res.xdp, c.ctx);
    return { retval: Number(BigInt.asIntN(32, res.r0)), ...out, fault: res.fault?.message };
  }
  const skb = skbFromTestRun(c.data, c.ctx, c.kind);
  const res = runner.runSkb(c.prog, skb);
  const out: { retval: number; dataOut: Uint8Array; ctxOut?: Uint8Array; fault?: string } = {
    retval: Number(BigInt.asIntN(32, res.r0)),
    dataOut: skbTestRunDataOut(res.skb, c.kind),
    fault: res.fault?.message,
  };
  if (c.ctx) out.ctxOut = skbTestRunCtxOut(res.skb);
  return out;
}
