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
//   node scripts/gen-kpr-pcaps.mjs      (after npm run build:ts)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../dist/src/pcap/read.js';
import { PcapWriter } from '../dist/src/pcap/write.js';
import { ipv4Frame, TCP_SYN } from '../dist/src/kpr/frames.js';

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
console.log(`wrote ${dir}/remote-flow.pcap (${order.length} packets), second-client.pcap (4 packets), edge.pcap (7 packets), icmp-flow.pcap (2 packets)`);
