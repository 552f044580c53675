#!/usr/bin/env node
// Builds the NodePort scenario inputs of fixtures/kpr/pcap/ from the real captures that
// scripts/gen-kpr-pcaps.sh takes (client.pcap, backend.pcap), plus synthetic cases:
//
//   remote-flow.pcap     the client's TCP connection and UDP request and the remote backend's
//                        answers, interleaved in the order a conversation through the node has
//                        them (the two captures are separate conversations: sequence numbers of
//                        one side do not acknowledge the other's; the datapath does not look)
//   second-client.pcap   SYNs to 10.0.0.2:30080: 10.0.0.1:40000, the same SYN again (a
//                        retransmission: same tuple), 10.0.0.7:40000 (another client, same source
//                        port), 10.0.0.1:40002
//
//   icmp-flow.pcap       a client's UDP datagram to 10.0.0.2:30081 from port 40003 (synthetic),
//                        then the remote node's real ICMP port unreachable about the translated
//                        datagram (icmp.pcap)
//   edge.pcap            packets the datapath must not translate, each for the stack as it came:
//                        a truncated TCP header, a VLAN-tagged SYN, GRE, an IPv4 header with
//                        options, a first fragment, an ICMP echo; and a SYN whose IPv4 checksum
//                        is wrong (translated all the same, the error carried along: the datapath
//                        does not verify, the receiver's stack drops it)
//
//   remote-flow6.pcap    the same over IPv6 (client6.pcap, backend6.pcap): the TCP connection, the
//                        DNS query and its answer interleaved, then the client's datagram to
//                        [fd00::2]:30081 and node2's real ICMPv6 port unreachable about its
//                        translation (icmp6.pcap); last a synthetic ICMPv6 Packet Too Big (MTU
//                        1280) from the router fd00::5 about a 1300-byte segment of the TCP
//                        connection as the node sent it (from [fd00::2] and its SNAT port)
//   edge6.pcap           IPv6 SYNs to [fd00::2]:30080 behind extension headers: hop-by-hop +
//                        destination options (translated), a routing header (translated), a
//                        first fragment (translated: it holds the TCP header), a later fragment
//                        of the same datagram (to the stack: no ports in it), NEXTHDR_NONE after
//                        the header (to the stack)
//   local-flow6.pcap     client6.pcap, then edge6.pcap
//   frag-flow.pcap       frag.pcap (three real IPv4 fragments of one UDP datagram to
//                        10.0.0.2:30053), then its second fragment alone again
//
//   affinity.pcap        SYNs to 10.0.0.2:30080 for kpr-affinity.yaml: 10.0.0.1 from ports 40000,
//                        40001, 40002, then 10.0.0.7 from 40000 and 40001 (with two backends the
//                        hash alone would send each client's connections to both)
//
//   node scripts/gen-kpr-pcaps.mjs      (after npm run build:ts)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../dist/src/pcap/read.js';
import { PcapWriter } from '../dist/src/pcap/write.js';
import { ipv4Frame, ipv6Frame, TCP_ACK, TCP_SYN } from '../dist/src/kpr/frames.js';
import { firstSnatPort6 } from '../dist/src/kpr/snat-port.js';
import { parseIPv6 } from '../dist/src/env/addr.js';

const dir = join(import.meta.dirname, '../fixtures/kpr/pcap');
const load = (name) => readCapture(new Uint8Array(readFileSync(join(dir, name)))).packets;
const client = load('client.pcap');
const backend = load('backend.pcap');
const icmp = load('icmp.pcap');
if (client.length !== 7 || backend.length !== 5 || icmp.length !== 1) throw new Error(`expected 7 client, 5 backend and 1 ICMP packets, found ${client.length}, ${backend.length}, ${icmp.length}: rerun scripts/gen-kpr-pcaps.sh`);

// c1 SYN, b1 SYN-ACK, c2 ACK, c3 data, b2 ACK, b3 data, c4 ACK, c5 FIN, b4 FIN, c6 ACK, c7 UDP, b5 UDP
const order = [['c', 0], ['b', 0], ['c', 1], ['c', 2], ['b', 1], ['b', 2], ['c', 3], ['c', 4], ['b', 3], ['c', 5], ['c', 6], ['b', 4]];
const flow = new PcapWriter();
const t0 = client[0].timestampNs;
order.forEach(([side, i], n) => flow.add((side === 'c' ? client : backend)[i].data, t0 + BigInt(n) * 100_000n));
writeFileSync(join(dir, 'remote-flow.pcap'), flow.bytes());

const syn = (src, sport) => ipv4Frame({ srcMac: src === '10.0.0.1' ? '02:00:00:00:0a:01' : '02:00:00:00:0a:07', dstMac: '02:00:00:00:0b:01', src, dst: '10.0.0.2', proto: 'tcp', sport, dport: 30080, flags: TCP_SYN, seq: 1000 });
const second = new PcapWriter();
[syn('10.0.0.1', 40000), syn('10.0.0.1', 40000), syn('10.0.0.7', 40000), syn('10.0.0.1', 40002)].forEach((f, n) => second.add(f, t0 + BigInt(n) * 1_000_000n));
writeFileSync(join(dir, 'second-client.pcap'), second.bytes());

const affinity = new PcapWriter();
[syn('10.0.0.1', 40000), syn('10.0.0.1', 40001), syn('10.0.0.1', 40002), syn('10.0.0.7', 40000), syn('10.0.0.7', 40001)].forEach((f, n) => affinity.add(f, t0 + BigInt(n) * 1_000_000n));
writeFileSync(join(dir, 'affinity.pcap'), affinity.bytes());

const base = () => syn('10.0.0.1', 40100);
const refreshIpCsum = (f) => {
  f[24] = f[25] = 0;
  let sum = 0;
  const ihl = (f[14] & 15) * 4;
  for (let i = 14; i < 14 + ihl; i += 2) sum += (f[i] << 8) | f[i + 1];
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff;
  f[24] = c >> 8;
  f[25] = c & 0xff;
  return f;
};
const truncated = base().subarray(0, 14 + 20 + 10); // IPv4 says 40 bytes, 30 arrive
const vlan = (() => {
  const f = base();
  const out = new Uint8Array(f.length + 4);
  out.set(f.subarray(0, 12), 0);
  out.set([0x81, 0x00, 0x00, 0x64], 12); // 802.1Q, VLAN 100
  out.set(f.subarray(12), 16);
  return out;
})();
const gre = (() => {
  const f = base();
  f[23] = 47;
  return refreshIpCsum(f);
})();
const options = (() => {
  const f = base();
  const out = new Uint8Array(f.length + 4);
  out.set(f.subarray(0, 34), 0);
  out.set([0x01, 0x01, 0x01, 0x00], 34); // NOP NOP NOP EOL
  out.set(f.subarray(34), 38);
  out[14] = 0x46;
  out[17] += 4;
  return refreshIpCsum(out);
})();
const fragment = (() => {
  const f = base();
  f[20] = 0x20; // MF, offset 0
  f[21] = 0;
  return refreshIpCsum(f);
})();
const echo = (() => {
  const f = base().subarray(0, 14 + 20 + 8);
  f[17] = 28;
  f[23] = 1;
  f.set([8, 0, 0, 0, 0, 1, 0, 1], 34);
  const c = ~((0x0800 + 0x0001 + 0x0001) & 0xffff) & 0xffff;
  f[36] = c >> 8;
  f[37] = c & 0xff;
  return refreshIpCsum(f);
})();
const badCsum = (() => {
  const f = syn('10.0.0.1', 40101);
  f[24] ^= 0xff;
  return f;
})();
const icmpFlow = new PcapWriter();
icmpFlow.add(ipv4Frame({ srcMac: '02:00:00:00:0a:01', dstMac: '02:00:00:00:0b:01', src: '10.0.0.1', dst: '10.0.0.2', proto: 'udp', sport: 40003, dport: 30081, payload: new TextEncoder().encode('query') }), t0);
icmpFlow.add(icmp[0].data, t0 + 1_000_000n);
writeFileSync(join(dir, 'icmp-flow.pcap'), icmpFlow.bytes());
const edge = new PcapWriter();
[truncated, vlan, gre, options, fragment, echo, badCsum].forEach((f, n) => edge.add(f, t0 + BigInt(n) * 1_000_000n));
writeFileSync(join(dir, 'edge.pcap'), edge.bytes());
console.log(`wrote ${dir}/remote-flow.pcap (${order.length} packets), second-client.pcap (4 packets), edge.pcap (7 packets), icmp-flow.pcap (2 packets), affinity.pcap (5 packets)`);

/** RFC 4443 section 3.2: Packet Too Big (MTU 1280) from fd00::5 to fd00::2, quoting as much of a
 * 1300-byte segment [fd00::2]:<SNAT port> -> [fd00:244:1::5]:8080 as fits in 1280 bytes. */
function packetTooBig() {
  const port = firstSnatPort6({ saddr: 'fd00::1', daddr: 'fd00:244:1::5', sport: 40000, dport: 8080, proto: 6 }, 32768, 60999);
  const segment = ipv6Frame({ srcMac: '02:00:00:00:0b:01', dstMac: '02:00:00:00:0e:01', src: 'fd00::2', dst: 'fd00:244:1::5', proto: 'tcp', sport: port, dport: 8080, flags: TCP_ACK, seq: 5000, ack: 7000, payload: new Uint8Array(1300 - 40 - 20).fill(0x61) }).subarray(14);
  const quoted = segment.subarray(0, 1280 - 40 - 8);
  const body = new Uint8Array(8 + quoted.length);
  body[0] = 2;
  new DataView(body.buffer).setUint32(4, 1280);
  body.set(quoted, 8);
  const frame = new Uint8Array(54 + body.length);
  frame.set([2, 0, 0, 0, 0x0b, 1, 2, 0, 0, 0, 0x0e, 1, 0x86, 0xdd]);
  const v = new DataView(frame.buffer);
  v.setUint32(14, 0x60000000);
  v.setUint16(18, body.length);
  frame[20] = 58;
  frame[21] = 64;
  frame.set(parseIPv6('fd00::5'), 22);
  frame.set(parseIPv6('fd00::2'), 38);
  frame.set(body, 54);
  let sum = body.length + 58;
  for (let i = 22; i < frame.length; i += 2) sum += (frame[i] << 8) | (frame[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(56, ~sum & 0xffff);
  return frame;
}

// IPv6 (skipped, saying so, until scripts/gen-kpr-pcaps.sh v6 has captured them)
const have = (name) => { try { readFileSync(join(dir, name)); return true; } catch { return false; } };
if (have('client6.pcap') && have('backend6.pcap') && have('icmp6.pcap')) {
  const client6 = load('client6.pcap');
  const backend6 = load('backend6.pcap');
  const icmp6 = load('icmp6.pcap');
  if (client6.length !== 8 || backend6.length !== 5 || icmp6.length !== 1) throw new Error(`expected 8 client6, 5 backend6 and 1 icmp6 packets, found ${client6.length}, ${backend6.length}, ${icmp6.length}: rerun scripts/gen-kpr-pcaps.sh v6`);
  const order6 = [...order, ['c', 7], ['i', 0]];
  const flow6 = new PcapWriter();
  const t6 = client6[0].timestampNs;
  order6.forEach(([side, i], n) => flow6.add((side === 'c' ? client6 : side === 'b' ? backend6 : icmp6)[i].data, t6 + BigInt(n) * 100_000n));
  flow6.add(packetTooBig(), t6 + BigInt(order6.length) * 100_000n);
  writeFileSync(join(dir, 'remote-flow6.pcap'), flow6.bytes());

  const syn6 = (sport, ext, more = {}) => ipv6Frame({ srcMac: '02:00:00:00:0a:01', dstMac: '02:00:00:00:0b:01', src: 'fd00::1', dst: 'fd00::2', proto: 'tcp', sport, dport: 30080, flags: TCP_SYN, seq: 1000, ext, ...more });
  const none6 = (() => {
    const f = syn6(40204, []);
    f[20] = 59; // NEXTHDR_NONE: nothing follows (RFC 8200 section 4.7)
    return f;
  })();
  const edge6 = new PcapWriter();
  [
    syn6(40200, [{ type: 'hop' }, { type: 'dest' }]),
    syn6(40201, [{ type: 'routing' }]),
    syn6(40202, [{ type: 'fragment', offset: 0, more: true, id: 7 }]),
    syn6(40202, [{ type: 'fragment', offset: 24, more: false, id: 7 }], { noL4: true, payload: new Uint8Array(16).fill(0xab) }),
    none6,
  ].forEach((f, n) => edge6.add(f, t6 + BigInt(n) * 1_000_000n));
  writeFileSync(join(dir, 'edge6.pcap'), edge6.bytes());
  // kpr-v6-local.yaml: the real client capture, then the extension-header cases
  const local6 = new PcapWriter();
  client6.forEach((p, n) => local6.add(p.data, t6 + BigInt(n) * 100_000n));
  readCapture(edge6.bytes()).packets.forEach((p, n) => local6.add(p.data, t6 + BigInt(client6.length + n) * 100_000n));
  writeFileSync(join(dir, 'local-flow6.pcap'), local6.bytes());
  console.log(`wrote ${dir}/remote-flow6.pcap (${order6.length + 1} packets), edge6.pcap (5 packets), local-flow6.pcap (13 packets)`);
} else console.log('no IPv6 captures yet (scripts/gen-kpr-pcaps.sh v6): remote-flow6.pcap and edge6.pcap not written');

if (have('frag.pcap')) {
  const frag = load('frag.pcap');
  if (frag.length !== 3) throw new Error(`expected 3 fragments in frag.pcap, found ${frag.length}: rerun scripts/gen-kpr-pcaps.sh frag`);
  const fragFlow = new PcapWriter();
  const tf = frag[0].timestampNs;
  [frag[0], frag[1], frag[2], frag[1]].forEach((p, n) => fragFlow.add(p.data, tf + BigInt(n) * 100_000n));
  writeFileSync(join(dir, 'frag-flow.pcap'), fragFlow.bytes());
  console.log(`wrote ${dir}/frag-flow.pcap (4 packets)`);
}
