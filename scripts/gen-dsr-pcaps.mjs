#!/usr/bin/env node
// Builds the DSR scenario inputs of fixtures/kpr/pcap/ from the real captures of remote-flow.pcap
// (scripts/gen-kpr-pcaps.mjs) and the kernel's output of the load-balancing node:
//
//   dsr-client.pcap    the client's packets of remote-flow.pcap alone (its TCP connection to
//                      10.0.0.2:30080 and UDP request to :30053), as captured: with DSR the
//                      backend's answers never come back through the load-balancing node
//   dsr-backend.pcap   what the backend's node (node2) sees, in the conversation's order: the
//                      client's packets as the load-balancing node sent them
//                      (kpr-dsr/expected/eth0.pcap, written by the kernel: DNATed, the DSR option
//                      on the SYN and the UDP request), arriving on node2's eth0; and the pod's
//                      real answers of remote-flow.pcap as the pod sends them with DSR — to the
//                      client's own address and port (it saw no SNAT), from the pod's MAC to its
//                      lxc0 — every checksum recomputed (RFC 791, RFC 793 / RFC 768)
//
//   dsr6-client.pcap, dsr6-backend.pcap   the same over IPv6 from remote-flow6.pcap and
//                      kpr-dsr6/expected/eth0.pcap (the pod's ICMPv6 error is left out)
//
//   node scripts/gen-dsr-pcaps.mjs client|client6     (after npm run build:ts)
//   node scripts/gen-dsr-pcaps.mjs backend|backend6   (after kpr-dsr[6]'s expected outputs exist)
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCapture } from '../dist/src/pcap/read.js';
import { PcapWriter } from '../dist/src/pcap/write.js';

const root = join(import.meta.dirname, '..');
const dir = join(root, 'fixtures/kpr/pcap');
const load = (path) => readCapture(new Uint8Array(readFileSync(path))).packets;
const POD_MAC = [0x02, 0, 0, 0, 0x0f, 0x05];
const LXC0_MAC = [0x02, 0, 0, 0, 0x0f, 0x01];

// Where the fields are in an Ethernet frame of each family (no IPv4 options, no IPv6 extension
// headers in the captures read here).
const FAMILY = {
  4: { flow: 'remote-flow.pcap', lb: 'kpr-dsr', out: 'dsr', etherType: 0x0800, client: [10, 0, 0, 1], src: 26, dst: 30, alen: 4, proto: 23, l4: 34 },
  6: { flow: 'remote-flow6.pcap', lb: 'kpr-dsr6', out: 'dsr6', etherType: 0x86dd, client: [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], src: 22, dst: 38, alen: 16, proto: 20, l4: 54 },
};

const [mode, fam] = (process.argv[2] ?? '').match(/^(client|backend)(6?)$/)?.slice(1) ?? [];
if (!mode) {
  console.error('usage: node scripts/gen-dsr-pcaps.mjs client|backend|client6|backend6');
  process.exit(2);
}
const F = FAMILY[fam ? 6 : 4];
const etherType = (d) => (d[12] << 8) | d[13];
const isFromClient = (d) => etherType(d) === F.etherType && F.client.every((b, i) => d[F.src + i] === b);
const l4Proto = (d) => d[F.proto];

function onesSum(bytes, init = 0) {
  let s = init;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Recomputes the IPv4 header checksum and the TCP/UDP checksum (RFC 791, RFC 793 / RFC 768, RFC 8200 section 8.1). */
function fixChecksums(frame) {
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  let l4;
  if (F.alen === 4) {
    const totLen = v.getUint16(16);
    v.setUint16(24, 0);
    v.setUint16(24, ~onesSum(frame.subarray(14, F.l4)) & 0xffff);
    l4 = frame.subarray(F.l4, 14 + totLen);
  } else {
    l4 = frame.subarray(F.l4, F.l4 + v.getUint16(18));
  }
  const pseudo = new Uint8Array(2 * F.alen + 8);
  pseudo.set(frame.subarray(F.src, F.dst + F.alen), 0);
  new DataView(pseudo.buffer).setUint32(2 * F.alen, l4.length);
  pseudo[2 * F.alen + 7] = l4Proto(frame);
  const at = F.l4 + (l4Proto(frame) === 6 ? 16 : 6);
  v.setUint16(at, 0);
  const c = ~onesSum(l4, onesSum(pseudo)) & 0xffff;
  v.setUint16(at, l4Proto(frame) === 17 && c === 0 ? 0xffff : c);
}

const flow = load(join(dir, F.flow));
if (mode === 'client') {
  const w = new PcapWriter();
  for (const p of flow.filter((p) => isFromClient(p.data))) w.add(p.data, p.timestampNs);
  writeFileSync(join(dir, `${F.out}-client.pcap`), w.bytes());
  console.log(`wrote ${F.out}-client.pcap`);
} else {
  const sent = load(join(root, `fixtures/scenarios/${F.lb}/expected/eth0.pcap`));
  // the client's port per (protocol, backend port), from what the load-balancing node sent
  // with DSR (the client's address kept); the pod answers from that backend port
  const clientPort = new Map();
  for (const { data: d } of sent.filter((p) => isFromClient(p.data))) {
    const ext = F.alen === 16 && d[20] === 60; // the DSR destination options header
    const proto = F.alen === 4 ? d[23] : ext ? d[54] : d[20];
    const l4 = F.alen === 4 ? 14 + (d[14] & 0x0f) * 4 : 54 + (ext ? 24 : 0);
    clientPort.set(`${proto}:${(d[l4 + 2] << 8) | d[l4 + 3]}`, (d[l4] << 8) | d[l4 + 1]);
  }
  const w = new PcapWriter();
  const lxc0 = [];
  let next = 0;
  let index = 0;
  for (const p of flow) {
    if (isFromClient(p.data)) {
      w.add(sent[next++].data, p.timestampNs);
      index++;
      continue;
    }
    const proto = l4Proto(p.data);
    if (proto !== 6 && proto !== 17) continue; // the pod's ICMP errors: not part of this flow
    const frame = p.data.slice();
    frame.set(LXC0_MAC, 0);
    frame.set(POD_MAC, 6);
    frame.set(F.client, F.dst);
    const port = clientPort.get(`${proto}:${(frame[F.l4] << 8) | frame[F.l4 + 1]}`);
    if (port === undefined) throw new Error(`no DSR connection of the client for the pod's packet ${p.index} (${proto}:${(frame[F.l4] << 8) | frame[F.l4 + 1]}; known: ${[...clientPort.keys()].join(", ")})`);
    frame[F.l4 + 2] = port >> 8;
    frame[F.l4 + 3] = port & 0xff;
    fixChecksums(frame);
    w.add(frame, p.timestampNs);
    lxc0.push(++index);
  }
  if (next !== sent.length) throw new Error(`${F.lb} sent ${sent.length} packets, the flow has ${next} from the client`);
  writeFileSync(join(dir, `${F.out}-backend.pcap`), w.bytes());
  console.log(`wrote ${F.out}-backend.pcap; the pod's packets (device lxc0): ${lxc0.join(', ')}`);
}
