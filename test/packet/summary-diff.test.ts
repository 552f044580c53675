// One-line summaries and input/output diffs, on the fixtures and on packets rewritten the way a
// datapath program rewrites them (DNAT, SNAT, VLAN push, VXLAN encapsulation).
import { describe, expect, it } from 'vitest';
import { decodePacket, getField, type DecodedPacket } from '../../src/packet/decode.js';
import { diffPackets, formatDiff } from '../../src/packet/diff.js';
import { summarizePacket } from '../../src/packet/summary.js';
import { parseIPv4 } from '../../src/packet/addr.js';
import { readCapture } from '../../src/pcap/read.js';
import { readFixture } from './tshark.js';

const frames = (file: string) => readCapture(readFixture(file)).packets.map((p) => p.data);
const summaries = (file: string) =>
  readCapture(readFixture(file)).packets.map((p) => summarizePacket(decodePacket(p.data, p.linkType, { originalLength: p.originalLength })));

/** Writes each checksum field's expected value into the frame (what bpf_l3/l4_csum_replace do). */
function fixChecksums(frame: Uint8Array): Uint8Array {
  for (let round = 0; round < 3; round++) {
    for (const layer of decodePacket(frame).layers) {
      for (const f of layer.fields) {
        if (f.status === 'bad' && f.expected !== undefined) {
          frame[f.offset] = f.expected >> 8;
          frame[f.offset + 1] = f.expected & 0xff;
        }
      }
    }
  }
  return frame;
}

const hex4 = (d: DecodedPacket, name: string) => `0x${(getField(d, name)!.value as number).toString(16).padStart(4, '0')}`;

describe('summarizePacket', () => {
  it('summarizes TCP, UDP, ICMP and ICMPv6 like tshark Info lines', () => {
    expect(summaries('le-micro.pcap')).toEqual([
      '10.0.0.1:51234 → 10.96.0.10:80 TCP [SYN] seq=1000 win=64240',
      '10.0.0.1:40001 → 10.96.0.10:5000 UDP len=7',
      '10.0.0.1 → 10.0.0.2 ICMP echo request id=1 seq=1',
    ]);
    const session = summaries('tcp-session.pcap');
    expect(session[1]).toMatch(/^10\.231\.0\.2:8080 → 10\.231\.0\.1:\d+ TCP \[SYN, ACK\] seq=\d+ ack=\d+ win=65160$/);
    expect(session[3]).toMatch(/TCP \[PSH, ACK\] seq=\d+ ack=\d+ win=\d+ len=4$/);
    expect(summaries('icmp-echo.pcap')[4]).toMatch(/^fd00:231::1 → fd00:231::2 ICMPv6 echo request id=\d+ seq=1$/);
    expect(summaries('ipv6-ext.pcap')[0]).toBe('[fd00::1]:40000 → [fd00::2]:443 TCP [SYN] seq=7 win=64240');
  });

  it('summarizes ARP, VLAN, DNS and tunnels with their inner packet', () => {
    expect(summaries('arp.pcap')).toEqual(['ARP who-has 10.0.0.1 tell 10.0.0.2', 'ARP 10.0.0.1 is-at 02:00:0a:00:00:02']);
    expect(summaries('vlan.pcap')).toEqual([
      '[vlan 100] 10.0.0.1:51234 → 10.96.0.10:80 TCP [SYN] seq=1000 win=64240',
      '[vlan 200.100] ARP who-has 10.0.0.2 tell 10.0.0.1',
    ]);
    expect(summaries('dns.pcap')).toEqual(['10.0.0.1:33333 → 10.96.0.10:53 DNS query 0xbeef A example.com']);
    expect(summaries('vxlan.pcap')).toEqual([
      '192.168.1.1:54321 → 192.168.1.2:4789 VXLAN vni=42 [inner: 10.0.0.1:51234 → 10.96.0.10:80 TCP [SYN] seq=1000 win=64240]',
    ]);
    expect(summaries('geneve.pcap')[0]).toBe('192.168.1.1:50000 → 192.168.1.2:6081 Geneve vni=4660 [inner: 10.0.0.1 → 10.0.0.2 ICMP echo request id=1 seq=1]');
  });

  it('summarizes ICMP errors with the packet they quote', () => {
    expect(summaries('icmp-errors.pcap')).toEqual([
      '10.0.0.254 → 10.0.0.1 ICMP destination unreachable code=4 mtu=1400 [quoted: 10.0.0.1:51234 → 10.96.0.10:80 TCP seq=1000]',
      '10.0.0.254 → 10.0.0.1 ICMP time exceeded code=0 [quoted: 10.0.0.1:40001 → 10.96.0.10:5000 UDP len=7]',
      'fd00::fe → fd00::1 ICMPv6 packet too big mtu=1280 [quoted: [fd00::1]:40000 → [fd00::2]:443 TCP [SYN] seq=7 win=64240]',
    ]);
  });

  it('says which fragment a packet is', () => {
    expect(summaries('ipv4-fragments.pcap')).toEqual(['10.0.0.1:7000 → 10.96.0.10:7001 UDP len=40', '10.0.0.1 → 10.96.0.10 IPv4 fragment offset=24']);
    expect(summaries('ipv6-ext.pcap')[1]).toBe('[fd00::1]:5000 → [fd00::2]:6000 UDP len=24');
  });

  it('notes bad checksums and malformed packets', () => {
    expect(summaries('bad-checksums.pcap').slice(0, 4)).toEqual([
      '10.0.0.1:51234 → 10.96.0.10:80 TCP [SYN] seq=1000 win=64240 (bad ip checksum)',
      '10.0.0.1:51234 → 10.96.0.10:80 TCP [PSH, ACK] seq=1001 ack=5 win=64240 len=18 (bad tcp checksum)',
      '10.0.0.1:1 → 10.96.0.10:2 UDP len=1 (bad udp checksum)',
      '10.0.0.1 → 10.0.0.2 ICMP echo request id=9 seq=9 (bad icmp checksum)',
    ]);
    const cut = summarizePacket(decodePacket(frames('le-micro.pcap')[0].subarray(0, 20)));
    expect(cut).toBe('02:00:0a:00:00:01 → 02:00:0a:00:00:02 IPv4 [malformed: ip: header truncated: 6 of 20 bytes at byte 14]');
    expect(summarizePacket(decodePacket(new Uint8Array(0)))).toBe('Ethernet [malformed: eth: header truncated: 0 of 14 bytes at byte 0]');
  });
});

describe('diffPackets and formatDiff', () => {
  const syn = frames('le-micro.pcap')[0];

  it('lists a DNAT and SNAT rewrite field by field, with the fixed checksums', () => {
    const out = syn.slice();
    out.set(parseIPv4('10.0.1.5'), 30); // ip.dst
    out[34] = 40001 >> 8; // tcp.srcport
    out[35] = 40001 & 0xff;
    fixChecksums(out);
    const before = decodePacket(syn);
    const after = decodePacket(out);
    expect(formatDiff(diffPackets(before, after))).toEqual([
      `ip.checksum ${hex4(before, 'ip.checksum')} -> ${hex4(after, 'ip.checksum')} (good)`,
      'ip.dst 10.96.0.10 -> 10.0.1.5',
      'tcp.srcport 51234 -> 40001',
      `tcp.checksum ${hex4(before, 'tcp.checksum')} -> ${hex4(after, 'tcp.checksum')} (good)`,
    ]);
  });

  it('says when a rewrite left a checksum wrong, and what it should be', () => {
    const out = syn.slice();
    out[37] = 81; // tcp.dstport 80 -> 81 without fixing the checksum
    const after = decodePacket(out);
    const expected = getField(after, 'tcp.checksum')!.expected!;
    expect(formatDiff(diffPackets(decodePacket(syn), after))).toEqual([
      'tcp.dstport 80 -> 81',
      `tcp.checksum ${hex4(after, 'tcp.checksum')} (good -> bad, expected 0x${expected.toString(16).padStart(4, '0')})`,
    ]);
  });

  it('shows an added VXLAN encapsulation as added outer layers, the original now inner and unchanged', () => {
    const vxlan = frames('vxlan.pcap')[0];
    const changes = diffPackets(decodePacket(syn), decodePacket(vxlan));
    expect(changes.map((c) => c.kind)).toEqual(['length', 'layer-added', 'layer-added', 'layer-added', 'layer-added']);
    expect(formatDiff(changes)).toEqual([
      'length 74 -> 124 (+50)',
      '+ eth (14 bytes at byte 0): eth.dst=02:00:c0:a8:01:02 eth.src=02:00:c0:a8:01:01 eth.type=0x0800 (IPv4)',
      '+ ip (20 bytes at byte 14): ip.src=192.168.1.1 ip.dst=192.168.1.2',
      '+ udp (8 bytes at byte 34): udp.srcport=54321 udp.dstport=4789',
      '+ vxlan (8 bytes at byte 42): vxlan.vni=42',
    ]);
    // And the other way round: decapsulation removes them.
    expect(formatDiff(diffPackets(decodePacket(vxlan), decodePacket(syn)))[1]).toBe(
      '- eth (14 bytes at byte 0): eth.dst=02:00:c0:a8:01:02 eth.src=02:00:c0:a8:01:01 eth.type=0x0800 (IPv4)',
    );
  });

  it('shows a pushed VLAN tag as the EtherType change and an added layer', () => {
    const tagged = frames('vlan.pcap')[0];
    expect(formatDiff(diffPackets(decodePacket(syn), decodePacket(tagged)))).toEqual([
      'length 74 -> 78 (+4)',
      'eth.type 0x0800 (IPv4) -> 0x8100 (802.1Q)',
      '+ vlan (4 bytes at byte 14): vlan.id=100',
    ]);
  });

  it('reports nothing for identical packets, and options that appear or disappear', () => {
    expect(diffPackets(decodePacket(syn), decodePacket(syn.slice()))).toEqual([]);
    const out = syn.slice();
    // Options: MSS, SACK permitted, timestamps, NOP, window scale (3 bytes at 71..73). Turn the
    // window scale into three NOPs: the 5th option kind changes, a 6th and 7th appear.
    out.fill(1, 70, 74);
    fixChecksums(out);
    const lines = formatDiff(diffPackets(decodePacket(syn), decodePacket(out)));
    expect(lines).toContain('- tcp.options.wscale.shift 7');
    expect(lines.filter((l) => l.startsWith('tcp.option_kind'))).toEqual(['tcp.option_kind#5 3 -> 1']);
    expect(lines).toContain('+ tcp.option_kind#6 1');
    expect(lines).toContain('+ tcp.option_kind#7 1');
  });
});
