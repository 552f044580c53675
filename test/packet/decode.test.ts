// decodePacket beyond what tshark's field values show: layer structure, field offsets, inner
// prefixes after tunnels, checksum expectations, and malformed or truncated input.
import { describe, expect, it } from 'vitest';
import { decodePacket, getField, type DecodedPacket } from '../../src/packet/decode.js';
import { readCapture } from '../../src/pcap/read.js';
import { readFixture } from './tshark.js';

const decoded = (file: string): DecodedPacket[] =>
  readCapture(readFixture(file)).packets.map((p) => decodePacket(p.data, p.linkType, { originalLength: p.originalLength }));
const protocols = (d: DecodedPacket) => d.layers.map((l) => (l.depth ? `${l.depth}:${l.protocol}` : l.protocol));
const field = (d: DecodedPacket, name: string) => {
  const f = getField(d, name);
  if (!f) throw new Error(`no field ${name} in ${protocols(d).join('/')}`);
  return f;
};

describe('layers and fields', () => {
  it('gives every field its byte offset and length in the frame', () => {
    const [syn] = decoded('le-micro.pcap');
    expect(protocols(syn)).toEqual(['eth', 'ip', 'tcp']);
    expect(field(syn, 'eth.src')).toMatchObject({ offset: 6, length: 6, display: '02:00:0a:00:00:01' });
    expect(field(syn, 'ip.dst')).toMatchObject({ offset: 30, length: 4, value: '10.96.0.10' });
    expect(field(syn, 'ip.ttl')).toMatchObject({ offset: 22, length: 1, value: 64 });
    expect(field(syn, 'tcp.dstport')).toMatchObject({ offset: 36, length: 2, value: 80 });
    expect(field(syn, 'tcp.flags')).toMatchObject({ value: 0x002, display: '0x002 (SYN)' });
    expect(field(syn, 'tcp.options.mss_val')).toMatchObject({ offset: 56, value: 1460 });
    expect(field(syn, 'tcp.options.wscale.shift').value).toBe(7);
    expect(syn.layers.map((l) => [l.offset, l.length])).toEqual([
      [0, 14],
      [14, 20],
      [34, 40],
    ]);
    expect(syn.malformed).toBeUndefined();
  });

  it('names both flags of a SYN-ACK as Wireshark orders them', () => {
    const synAck = decoded('tcp-session.pcap')[1];
    expect(field(synAck, 'tcp.flags').display).toBe('0x012 (SYN,ACK)');
  });

  it('decodes the inner frame of VXLAN and Geneve with an inner. prefix', () => {
    const [vx] = decoded('vxlan.pcap');
    expect(protocols(vx)).toEqual(['eth', 'ip', 'udp', 'vxlan', '1:eth', '1:ip', '1:tcp']);
    expect(field(vx, 'vxlan.vni').value).toBe(42);
    expect(field(vx, 'ip.src').value).toBe('192.168.1.1');
    expect(field(vx, 'inner.ip.src').value).toBe('10.0.0.1');
    expect(field(vx, 'inner.tcp.dstport').value).toBe(80);
    expect(field(vx, 'inner.tcp.checksum').status).toBe('good');
    const [gn] = decoded('geneve.pcap');
    expect(protocols(gn)).toEqual(['eth', 'ip', 'udp', 'geneve', '1:eth', '1:ip', '1:icmp']);
    expect(field(gn, 'geneve.option.class').value).toBe(0x0102);
    expect(field(gn, 'geneve.opt_len').value).toBe(8);
    expect(field(gn, 'inner.icmp.ident').value).toBe(1);
  });

  it('walks IPv6 extension headers and verifies TCP against the routing header final destination', () => {
    const [srh, frag, ah, plain] = decoded('ipv6-ext.pcap');
    expect(protocols(srh)).toEqual(['eth', 'ipv6', 'ipv6.hopopts', 'ipv6.dstopts', 'ipv6.routing', 'tcp']);
    expect(field(srh, 'ipv6.routing.type').value).toBe(4);
    expect(field(srh, 'tcp.checksum').status).toBe('good');
    // A first fragment: the UDP header is there, but not all the bytes its checksum covers.
    expect(protocols(frag)).toEqual(['eth', 'ipv6', 'ipv6.fraghdr', 'udp']);
    expect(field(frag, 'ipv6.fraghdr.more').value).toBe(1);
    expect(field(frag, 'udp.checksum').status).toBe('unverified');
    expect(protocols(ah)).toEqual(['eth', 'ipv6', 'ah', 'icmpv6']);
    expect(field(ah, 'ah.spi').value).toBe(0x1001);
    expect(ah.layers[2].length).toBe(24);
    expect(field(ah, 'icmpv6.checksum').status).toBe('good');
    expect(field(plain, 'icmpv6.echo.sequence_number').value).toBe(3);
  });

  it('decodes the packet an ICMP error quotes, one level in, without calling its short length malformed', () => {
    const [fragNeeded, , tooBig] = decoded('icmp-errors.pcap');
    expect(protocols(fragNeeded)).toEqual(['eth', 'ip', 'icmp', '1:ip', '1:tcp']);
    expect(fragNeeded.malformed).toBeUndefined();
    expect(field(fragNeeded, 'icmp.mtu').value).toBe(1400);
    expect(field(fragNeeded, 'inner.ip.dst').value).toBe('10.96.0.10');
    expect(field(fragNeeded, 'inner.ip.checksum').status).toBe('good');
    expect(fragNeeded.layers[4].fields.map((f) => f.name)).toEqual(['inner.tcp.srcport', 'inner.tcp.dstport', 'inner.tcp.seq']);
    expect(field(tooBig, 'inner.tcp.checksum').status).toBe('good');
  });

  it('decodes VLAN tags, 802.1ad S-tags, ARP and a DNS question', () => {
    const [tagged, qinq] = decoded('vlan.pcap');
    expect(protocols(tagged)).toEqual(['eth', 'vlan', 'ip', 'tcp']);
    expect(field(tagged, 'vlan.id').value).toBe(100);
    expect(field(tagged, 'vlan.priority').value).toBe(3);
    expect(protocols(qinq)).toEqual(['eth', 'ieee8021ad', 'vlan', 'arp']);
    expect(field(qinq, 'ieee8021ad.id').value).toBe(200);
    const [dns] = decoded('dns.pcap');
    expect(field(dns, 'dns.qry.name').value).toBe('example.com');
    expect(field(dns, 'dns.qry.type').display).toBe('1 (A)');
  });

  it('gives the checksum a correct sender would have written when one is bad', () => {
    const [badIp, badTcp, badUdp, badIcmp, zeroUdp] = decoded('bad-checksums.pcap');
    for (const [d, name] of [
      [badIp, 'ip.checksum'],
      [badTcp, 'tcp.checksum'],
      [badUdp, 'udp.checksum'],
      [badIcmp, 'icmp.checksum'],
    ] as const) {
      const f = field(d, name);
      expect(f.status, name).toBe('bad');
      // Writing the expected value into the frame makes it good.
      const frame = readCapture(readFixture('bad-checksums.pcap')).packets[[badIp, badTcp, badUdp, badIcmp].indexOf(d)].data.slice();
      frame[f.offset] = f.expected! >> 8;
      frame[f.offset + 1] = f.expected! & 0xff;
      expect(getField(decodePacket(frame), name)?.status, name).toBe('good');
    }
    expect(field(zeroUdp, 'udp.checksum')).toMatchObject({ status: 'unverified', display: '0x0000 (none)' });
  });

  it('stops at the IP total length, ignoring Ethernet padding, and reads IPv4 options', () => {
    const padded = decoded('bad-checksums.pcap')[5];
    expect(padded.length).toBe(60);
    expect(field(padded, 'ip.len').value).toBe(32);
    expect(field(padded, 'ip.hdr_len').value).toBe(24);
    expect(field(padded, 'ip.opt.type').value).toBe(0x94);
    expect(field(padded, 'icmp.checksum').status).toBe('good');
  });
});

describe('truncated and malformed input', () => {
  const syn = readCapture(readFixture('le-micro.pcap')).packets[0].data;

  it('a header cut short is malformed, naming the layer and byte offset, after the layers before it', () => {
    const d = decodePacket(syn.subarray(0, 40));
    expect(protocols(d)).toEqual(['eth', 'ip', 'tcp']);
    expect(d.malformed).toBe('ip: total length 60 runs past the 26 bytes the frame holds at byte 16');
    expect(d.layers[2].malformed).toBe('tcp: header truncated: 6 of 20 bytes at byte 34');
    expect(field(d, 'ip.src').value).toBe('10.0.0.1');
  });

  it('a packet cut by the capture is not malformed in IP, and its checksums are unverified', () => {
    const [cut] = decoded('snaplen-cut.pcap');
    expect(cut.layers[1].malformed).toBeUndefined();
    expect(field(cut, 'ip.checksum').status).toBe('good');
    expect(field(cut, 'tcp.checksum').status).toBe('unverified');
    expect(field(cut, 'tcp.len').value).toBe(0);
    expect(cut.malformed).toBe('tcp: options truncated: 20 of 40 bytes (the capture cut the packet short) at byte 34');
  });

  it('reports impossible header values', () => {
    const badIhl = syn.slice();
    badIhl[14] = 0x43;
    expect(decodePacket(badIhl).malformed).toBe('ip: header length 12 is below the minimum 20 at byte 14');
    const badVersion = syn.slice();
    badVersion[14] = 0x65;
    expect(decodePacket(badVersion).malformed).toBe('ip: version 6 in an IPv4 header at byte 14');
    const badTcpOption = syn.slice();
    badTcpOption[54 + 1] = 40; // MSS option claims 40 bytes
    expect(decodePacket(badTcpOption).malformed).toBe('tcp: option kind 2 has length 40, which does not fit the 20 bytes left at byte 54');
  });

  it('a malformed inner frame is named with its tunnel prefix', () => {
    const vx = readCapture(readFixture('vxlan.pcap')).packets[0].data;
    const d = decodePacket(vx.slice(0, vx.length - 30), 1, { originalLength: vx.length });
    expect(d.malformed).toMatch(/^inner\.tcp: header truncated/);
  });

  it('never throws on random bytes or on any prefix of any fixture', () => {
    let seed = 99;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let round = 0; round < 3000; round++) {
      const base = [syn, readCapture(readFixture('vxlan.pcap')).packets[0].data, readCapture(readFixture('ipv6-ext.pcap')).packets[0].data][round % 3];
      const bytes = base.slice(0, Math.floor(random() * (base.length + 1)));
      for (let k = 0; k < 4 && bytes.length; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const d = decodePacket(bytes, [1, 1, 1, 101, 113, 276, 0][round % 7]);
      expect(d.malformed ?? '').not.toMatch(/decoder error/);
    }
  });
});

describe('checksum zeros', () => {
  const [echo] = readCapture(readFixture('le-micro.pcap')).packets.slice(2).map((p) => p.data.slice());

  it('accepts 0xffff where 0x0000 is expected and the other way round (both are zero)', () => {
    const checksumAt = 14 + 20 + 2;
    const expected = getField(decodePacket(echo), 'icmp.checksum')!;
    expect(expected.status).toBe('good');
    // Adding the checksum C = ~S into the data makes the sum S + ~S = 0xffff: the correct
    // checksum becomes 0x0000, and 0xffff must be accepted as well.
    const frame = echo.slice();
    const last = frame.length - 2;
    const word = ((frame[last] << 8) | frame[last + 1]) + (expected.value as number);
    const folded = (word & 0xffff) + (word >> 16);
    frame[last] = folded >> 8;
    frame[last + 1] = folded & 0xff;
    frame[checksumAt] = 0;
    frame[checksumAt + 1] = 0;
    const zero = getField(decodePacket(frame), 'icmp.checksum')!;
    expect(zero.expected).toBe(0);
    frame[checksumAt] = 0xff;
    frame[checksumAt + 1] = 0xff;
    expect(getField(decodePacket(frame), 'icmp.checksum')!.status).toBe('good');
    frame[checksumAt] = 0;
    frame[checksumAt + 1] = 0;
    expect(getField(decodePacket(frame), 'icmp.checksum')!.status).toBe('good');
  });

  it('a zero UDP checksum is bad over IPv6 (RFC 8200 8.1)', () => {
    const [plain] = readCapture(readFixture('ipv6-ext.pcap')).packets.slice(3).map((p) => p.data.slice());
    // Turn the ICMPv6 echo into UDP with a zero checksum: next header 17, UDP header at 54.
    plain[20] = 17;
    const udpLength = plain.length - 54;
    plain.set([0x13, 0x88, 0x17, 0x70, udpLength >> 8, udpLength & 0xff, 0, 0], 54);
    const f = getField(decodePacket(plain), 'udp.checksum')!;
    expect(f.status).toBe('bad');
    expect(f.display).toBe('0x0000 (zero, not allowed over IPv6)');
  });
});
