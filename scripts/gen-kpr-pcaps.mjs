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
if (client.length !== 7 || backend.length !== 5) throw new Error(`expected 7 client and 5 backend packets, found ${client.length} and ${backend.length}: rerun scripts/gen-kpr-pcaps.sh`);

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
console.log(`wrote ${dir}/remote-flow.pcap (${order.length} packets), second-client.pcap (4 packets)`);
