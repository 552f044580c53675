// toEthernetFrame: what a tc or XDP program would see for a packet of each supported link type.
import { describe, expect, it } from 'vitest';
import { decodePacket, getField } from '../../src/packet/decode.js';
import { LinkTypeError, SYNTHETIC_DST_MAC, SYNTHETIC_SRC_MAC, toEthernetFrame } from '../../src/pcap/ethernet.js';
import { readCapture } from '../../src/pcap/read.js';
import { readFixture } from '../packet/tshark.js';

const packets = (file: string) => readCapture(readFixture(file)).packets;

describe('toEthernetFrame', () => {
  it('returns an Ethernet frame unchanged, as a copy', () => {
    const [pkt] = packets('le-micro.pcap');
    const frame = toEthernetFrame(pkt);
    expect([...frame]).toEqual([...pkt.data]);
    frame[0] = 0xff;
    expect(pkt.data[0]).not.toBe(0xff);
  });

  it('puts a synthetic header with the right EtherType in front of raw IPv4 and IPv6', () => {
    const [v4, v6] = packets('raw-ip.pcap');
    const f4 = toEthernetFrame(v4);
    const f6 = toEthernetFrame(v6);
    expect([...f4.subarray(0, 6)]).toEqual([...SYNTHETIC_DST_MAC]);
    expect([...f4.subarray(6, 12)]).toEqual([...SYNTHETIC_SRC_MAC]);
    expect([...f4.subarray(12, 14)]).toEqual([0x08, 0x00]);
    expect([...f6.subarray(12, 14)]).toEqual([0x86, 0xdd]);
    expect([...f4.subarray(14)]).toEqual([...v4.data]);
    expect(getField(decodePacket(f6), 'ipv6.dst')?.value).toBe('fd00::2');
    // The synthetic MACs are locally administered unicast addresses.
    expect(SYNTHETIC_SRC_MAC[0] & 0x03).toBe(0x02);
    expect(SYNTHETIC_DST_MAC[0] & 0x03).toBe(0x02);
  });

  it('handles the IPv4-only link type, BSD loopback and Linux cooked capture', () => {
    const [v4] = packets('ipv4-linktype.pcap');
    expect(getField(decodePacket(toEthernetFrame(v4)), 'ip.dst')?.value).toBe('10.96.0.10');
    const [loop4, loop6] = packets('null-loopback.pcap');
    expect(getField(decodePacket(toEthernetFrame(loop4)), 'tcp.dstport')?.value).toBe(80);
    expect(getField(decodePacket(toEthernetFrame(loop6)), 'icmpv6.type')?.value).toBe(128); // AF_INET6 30 (Darwin)
    const [sll] = packets('linux-sll.pcap');
    const frame = toEthernetFrame(sll);
    expect(getField(decodePacket(frame), 'eth.src')?.value).toBe('02:00:0a:00:00:01'); // the cooked header's address
    expect(getField(decodePacket(frame), 'ip.src')?.value).toBe('10.0.0.1');
  });

  it('takes the EtherType and source MAC from a cooked v2 header (tcpdump -i any)', () => {
    const [request, reply] = packets('linux-sll2.pcap');
    const out = decodePacket(toEthernetFrame(request));
    expect(out.malformed).toBeUndefined();
    expect(getField(out, 'udp.dstport')?.value).toBe(9997);
    expect(getField(out, 'udp.checksum')?.status).toBe('good');
    // The request came from 10.231.0.1 on the veth whose MAC the script set.
    expect(getField(out, 'eth.src')?.value).toBe('02:00:0a:e7:00:01');
    expect(getField(decodePacket(toEthernetFrame(reply)), 'ip.src')?.value).toBe('10.231.0.2');
  });

  it('turns both interfaces of a two-link-type pcapng into the same frame but for the MACs', () => {
    const all = packets('two-interfaces.pcapng');
    const eth = toEthernetFrame(all.find((p) => p.linkType === 1)!);
    const sll = toEthernetFrame(all.find((p) => p.linkType === 113)!);
    expect(sll.length).toBe(eth.length);
    expect([...sll.subarray(12)]).toEqual([...eth.subarray(12)]);
  });

  it('refuses link types and packets it cannot convert, naming the packet', () => {
    expect(() => toEthernetFrame({ index: 4, linkType: 105, data: new Uint8Array(30) })).toThrow(LinkTypeError);
    expect(() => toEthernetFrame({ index: 4, linkType: 105, data: new Uint8Array(30) })).toThrow(
      'packet 4 (IEEE802_11 (105)): this link type cannot be turned into an Ethernet frame',
    );
    expect(() => toEthernetFrame({ index: 2, linkType: 101, data: Uint8Array.of(0x50, 0) })).toThrow('raw IP packet has IP version 5, expected 4 or 6');
    expect(() => toEthernetFrame({ linkType: 113, data: new Uint8Array(8) })).toThrow('8 bytes, shorter than its 16-byte link header');
  });
});
