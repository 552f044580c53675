// Builds the synthetic capture fixtures under fixtures/pcap/: edge cases of the file formats
// (byte orders, resolutions, damaged files) and of the protocols (VLAN, VXLAN, Geneve, IPv6
// extension headers, bad checksums). Bytes are assembled here by hand, independently of
// src/pcap and src/packet, so the tests do not check the code against itself.
// Run by scripts/gen-pcap-fixtures.sh (which also captures real traffic); usage:
//   node scripts/gen-pcap-fixtures.mjs OUTDIR
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2] ?? 'fixtures/pcap';
mkdirSync(out, { recursive: true });

// ---------- bytes ----------
const cat = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))));
const u8 = (v) => Buffer.from([v & 0xff]);
const u16 = (v) => { const b = Buffer.alloc(2); b.writeUInt16BE(v & 0xffff); return b; };
const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32BE(v >>> 0); return b; };
const mac = (s) => Buffer.from(s.split(':').map((h) => parseInt(h, 16)));
const ip4 = (s) => Buffer.from(s.split('.').map(Number));
function ip6(s) {
  const [head, tail = ''] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = s.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = s.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.concat(groups.map((g) => u16(parseInt(g, 16))));
}

// RFC 1071
function csum(buf, initial = 0) {
  let sum = initial;
  for (let i = 0; i + 1 < buf.length; i += 2) sum += buf.readUInt16BE(i);
  if (buf.length % 2) sum += buf[buf.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
const pseudoSum = (src, dst, proto, len) => {
  let s = 0;
  const b = cat(src, dst);
  for (let i = 0; i < b.length; i += 2) s += b.readUInt16BE(i);
  return s + proto + (len >>> 16) + (len & 0xffff);
};

// ---------- protocol builders ----------
const eth = (dst, src, type, payload) => cat(mac(dst), mac(src), u16(type), payload);
const vlanTag = (tpid, vid, pcp, payloadType) => cat(u16(tpid), u16((pcp << 13) | vid), u16(payloadType));

function ipv4({ src, dst, proto, payload, ttl = 64, id = 0x1234, df = true, mf = false, fragOffset = 0, options = Buffer.alloc(0), badChecksum = false, tos = 0 }) {
  const ihl = 5 + options.length / 4;
  const h = cat(u8(0x40 | ihl), u8(tos), u16(ihl * 4 + payload.length), u16(id), u16((df ? 0x4000 : 0) | (mf ? 0x2000 : 0) | (fragOffset / 8)), u8(ttl), u8(proto), u16(0), ip4(src), ip4(dst), options);
  let c = csum(h);
  if (badChecksum) c ^= 0x5a5a;
  h.writeUInt16BE(c, 10);
  return cat(h, payload);
}

function ipv6({ src, dst, next, payload, hlim = 64, ext = Buffer.alloc(0) }) {
  return cat(u32(0x60000000 | (0x12 << 20) | 0xabcde), u16(ext.length + payload.length), u8(next), u8(hlim), ip6(src), ip6(dst), ext, payload);
}

function tcp({ sport, dport, seq, ack = 0, flags, win = 64240, options = Buffer.alloc(0), data = Buffer.alloc(0), src, dst, bad = false }) {
  const hl = 20 + options.length;
  const h = cat(u16(sport), u16(dport), u32(seq), u32(ack), u16(((hl / 4) << 12) | flags), u16(win), u16(0), u16(0), options, data);
  let c = csum(h, pseudoSum(src, dst, 6, h.length));
  if (bad) c ^= 0x0101;
  h.writeUInt16BE(c, 16);
  return h;
}

function udp({ sport, dport, data, src, dst, zero = false, bad = false }) {
  const h = cat(u16(sport), u16(dport), u16(8 + data.length), u16(0), data);
  if (!zero) {
    let c = csum(h, pseudoSum(src, dst, 17, h.length)) || 0xffff;
    if (bad) c ^= 0x0f0f;
    h.writeUInt16BE(c, 6);
  }
  return h;
}

function icmp({ type, code = 0, id, seq, data = Buffer.alloc(8, 0x61), bad = false }) {
  const h = cat(u8(type), u8(code), u16(0), u16(id), u16(seq), data);
  let c = csum(h);
  if (bad) c ^= 0x1111;
  h.writeUInt16BE(c, 2);
  return h;
}

function icmp6({ type, code = 0, body, src, dst }) {
  const h = cat(u8(type), u8(code), u16(0), body);
  h.writeUInt16BE(csum(h, pseudoSum(src, dst, 58, h.length)), 2);
  return h;
}

const TCP_SYN = 0x002;
const TCP_ACK = 0x010;
const TCP_PSH = 0x008;
const MAC_A = '02:00:0a:00:00:01';
const MAC_B = '02:00:0a:00:00:02';
const synOptions = cat([2, 4], u16(1460), [4, 2], [8, 10], u32(1000), u32(0), [1], [3, 3, 7]);

// ---------- file writers ----------
/** Classic pcap; `records` = [{ tsSec, tsFrac, data, caplen?, origlen? }] */
function pcap({ le = true, nano = false, snaplen = 262144, linkType = 1, records }) {
  const w32 = (v) => { const b = Buffer.alloc(4); le ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0); return b; };
  const w16 = (v) => { const b = Buffer.alloc(2); le ? b.writeUInt16LE(v) : b.writeUInt16BE(v); return b; };
  const parts = [w32(nano ? 0xa1b23c4d : 0xa1b2c3d4), w16(2), w16(4), w32(0), w32(0), w32(snaplen), w32(linkType)];
  records.forEach((r, i) => {
    const data = r.data;
    parts.push(w32(r.tsSec ?? 1700000000 + i), w32(r.tsFrac ?? 1000 * i + 7), w32(r.caplen ?? data.length), w32(r.origlen ?? data.length), data);
  });
  return cat(...parts);
}

/** pcapng block with the section's byte order. */
function block(le, type, body) {
  const w32 = (v) => { const b = Buffer.alloc(4); le ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0); return b; };
  const padded = cat(body, Buffer.alloc((4 - (body.length % 4)) % 4));
  const total = 12 + padded.length;
  return cat(w32(type), w32(total), padded, w32(total));
}
function ngHelpers(le) {
  const w32 = (v) => { const b = Buffer.alloc(4); le ? b.writeUInt32LE(v >>> 0) : b.writeUInt32BE(v >>> 0); return b; };
  const w16 = (v) => { const b = Buffer.alloc(2); le ? b.writeUInt16LE(v) : b.writeUInt16BE(v); return b; };
  const opt = (code, value) => cat(w16(code), w16(value.length), value, Buffer.alloc((4 - (value.length % 4)) % 4));
  const endopt = cat(w16(0), w16(0));
  return {
    w32,
    w16,
    opt,
    shb: (options = Buffer.alloc(0)) => block(le, 0x0a0d0d0a, cat(w32(0x1a2b3c4d), w16(1), w16(0), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), options)),
    idb: (linkType, snaplen, options) => block(le, 1, cat(w16(linkType), w16(0), w32(snaplen), options ?? Buffer.alloc(0), options ? endopt : Buffer.alloc(0))),
    epb: (iface, ts, data, options = Buffer.alloc(0), origlen = data.length) =>
      block(le, 6, cat(w32(iface), w32(Number(ts >> 32n)), w32(Number(ts & 0xffffffffn)), w32(data.length), w32(origlen), data, Buffer.alloc((4 - (data.length % 4)) % 4), options)),
    spb: (data, origlen = data.length) => block(le, 3, cat(w32(origlen), data)),
    pb: (iface, ts, data) => block(le, 2, cat(w16(iface), w16(0), w32(Number(ts >> 32n)), w32(Number(ts & 0xffffffffn)), w32(data.length), w32(data.length), data)),
    endopt,
  };
}

// ---------- packets ----------
const A = '10.0.0.1';
const B = '10.96.0.10';
const synData = tcp({ sport: 51234, dport: 80, seq: 1000, flags: TCP_SYN, options: synOptions, src: ip4(A), dst: ip4(B) });
const syn = eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 6, payload: synData }));
const udpPkt = (i) => eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 17, id: 0x100 + i, payload: udp({ sport: 40000 + i, dport: 5000, data: Buffer.from(`hello ${i}`), src: ip4(A), dst: ip4(B) }) }));
const echo = eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: '10.0.0.2', proto: 1, payload: icmp({ type: 8, id: 1, seq: 1 }) }));
const v6src = 'fd00::1';
const v6dst = 'fd00::2';
const echo6 = eth(MAC_B, MAC_A, 0x86dd, ipv6({ src: v6src, dst: v6dst, next: 58, payload: icmp6({ type: 128, body: cat(u16(0x77), u16(3), Buffer.alloc(8, 0x62)), src: ip6(v6src), dst: ip6(v6dst) }) }));

const files = {};

// Formats: byte orders and resolutions, same three packets each.
const three = [syn, udpPkt(1), echo];
files['le-micro.pcap'] = pcap({ le: true, nano: false, records: three.map((data) => ({ data })) });
files['be-micro.pcap'] = pcap({ le: false, nano: false, records: three.map((data) => ({ data })) });
files['le-nano.pcap'] = pcap({ le: true, nano: true, records: three.map((data, i) => ({ data, tsFrac: 123456789 + i })) });
files['be-nano.pcap'] = pcap({ le: false, nano: true, records: three.map((data, i) => ({ data, tsFrac: 123456789 + i })) });

// Damaged files: the packets before the damage must still be read.
const good = pcap({ records: [{ data: udpPkt(1) }, { data: udpPkt(2) }] });
files['truncated-record-header.pcap'] = cat(good, Buffer.alloc(10, 0xee));
files['truncated-data.pcap'] = cat(good, pcap({ records: [{ data: udpPkt(3), caplen: udpPkt(3).length }] }).subarray(24, 24 + 16 + 20));
files['over-snaplen.pcap'] = pcap({ snaplen: 128, records: [{ data: udpPkt(1) }, { data: udpPkt(2) }, { data: Buffer.alloc(200, 0xab) }, { data: udpPkt(4) }] });
// A capture cut by a small snapshot length: the record is shorter than the packet on the wire.
files['snaplen-cut.pcap'] = pcap({ snaplen: 54, records: [{ data: syn.subarray(0, 54), caplen: 54, origlen: syn.length }] });

// Link types.
const rawV4 = ipv4({ src: A, dst: B, proto: 6, payload: synData });
const rawV6 = echo6.subarray(14);
files['raw-ip.pcap'] = pcap({ linkType: 101, records: [{ data: rawV4 }, { data: rawV6 }] });
files['ipv4-linktype.pcap'] = pcap({ linkType: 228, records: [{ data: rawV4 }] });
files['null-loopback.pcap'] = pcap({ linkType: 0, records: [{ data: cat(Buffer.from([2, 0, 0, 0]), rawV4) }, { data: cat(Buffer.from([30, 0, 0, 0]), rawV6) }] });
const sll = (pkttype, proto, payload) => cat(u16(pkttype), u16(1), u16(6), mac(MAC_A), Buffer.alloc(2), u16(proto), payload);
files['linux-sll.pcap'] = pcap({ linkType: 113, records: [{ data: sll(4, 0x0800, rawV4) }] });

// Protocols.
files['vlan.pcap'] = pcap({
  records: [
    { data: cat(mac(MAC_B), mac(MAC_A), vlanTag(0x8100, 100, 3, 0x0800), ipv4({ src: A, dst: B, proto: 6, payload: synData })) },
    { data: cat(mac(MAC_B), mac(MAC_A), vlanTag(0x88a8, 200, 0, 0x8100), u16(0x0064), u16(0x0806), cat(u16(1), u16(0x0800), [6, 4], u16(1), mac(MAC_A), ip4(A), Buffer.alloc(6), ip4('10.0.0.2'))) },
  ],
});
const arpReq = eth('ff:ff:ff:ff:ff:ff', MAC_A, 0x0806, cat(u16(1), u16(0x0800), [6, 4], u16(1), mac(MAC_A), ip4('10.0.0.2'), Buffer.alloc(6), ip4(A), Buffer.alloc(18)));
const arpRep = eth(MAC_A, MAC_B, 0x0806, cat(u16(1), u16(0x0800), [6, 4], u16(2), mac(MAC_B), ip4(A), mac(MAC_A), ip4('10.0.0.2'), Buffer.alloc(18)));
files['arp.pcap'] = pcap({ records: [{ data: arpReq }, { data: arpRep }] });

const OUT_A = '192.168.1.1';
const OUT_B = '192.168.1.2';
const vxlanPayload = cat(u16(0x0800), u16(0), u32(42 << 8), syn);
files['vxlan.pcap'] = pcap({
  records: [{ data: eth('02:00:c0:a8:01:02', '02:00:c0:a8:01:01', 0x0800, ipv4({ src: OUT_A, dst: OUT_B, proto: 17, payload: udp({ sport: 54321, dport: 4789, data: vxlanPayload, src: ip4(OUT_A), dst: ip4(OUT_B) }) })) }],
});
const geneveOpt = cat(u16(0x0102), u8(0x80), u8(1), u32(0xdeadbeef)); // class 0x0102, type 0x80, 1 word
const genevePayload = cat(u8(geneveOpt.length / 4), u8(0), u16(0x6558), u32(0x1234 << 8), geneveOpt, echo);
files['geneve.pcap'] = pcap({
  records: [{ data: eth('02:00:c0:a8:01:02', '02:00:c0:a8:01:01', 0x0800, ipv4({ src: OUT_A, dst: OUT_B, proto: 17, payload: udp({ sport: 50000, dport: 6081, data: genevePayload, src: ip4(OUT_A), dst: ip4(OUT_B) }) })) }],
});

// IPv6 extension headers: hop-by-hop (PadN), destination options, an SRH with one segment left
// (the TCP checksum then uses the final destination, RFC 8200 8.1), a first fragment, and AH.
const finalDst = 'fd00::99';
const hbh = (next) => cat(u8(next), u8(0), [1, 4, 0, 0, 0, 0]);
const dstopts = (next) => cat(u8(next), u8(0), [1, 4, 0, 0, 0, 0]);
const srh = (next) => cat(u8(next), u8(4), u8(4), u8(1), u8(1), u8(0), u16(0), ip6(finalDst), ip6(v6dst));
const tcp6 = tcp({ sport: 40000, dport: 443, seq: 7, flags: TCP_SYN, src: ip6(v6src), dst: ip6(finalDst) });
const ext1 = cat(hbh(60), dstopts(43), srh(6));
const frag = (next, off, more, id) => cat(u8(next), u8(0), u16((off / 8) << 3 | (more ? 1 : 0)), u32(id));
const udp6 = udp({ sport: 5000, dport: 6000, data: Buffer.alloc(24, 0x33), src: ip6(v6src), dst: ip6(v6dst) });
const ah = (next) => cat(u8(next), u8(4), u16(0), u32(0x1001), u32(5), Buffer.alloc(12, 0xaa)); // (4+2)*4 = 24 bytes
const icmp6echo = icmp6({ type: 129, body: cat(u16(0x77), u16(4), Buffer.alloc(8, 0x62)), src: ip6(v6src), dst: ip6(v6dst) });
files['ipv6-ext.pcap'] = pcap({
  records: [
    { data: eth(MAC_B, MAC_A, 0x86dd, ipv6({ src: v6src, dst: v6dst, next: 0, ext: ext1, payload: tcp6 })) },
    { data: eth(MAC_B, MAC_A, 0x86dd, ipv6({ src: v6src, dst: v6dst, next: 44, ext: frag(17, 0, true, 0xcafe), payload: udp6.subarray(0, 16) })) },
    { data: eth(MAC_B, MAC_A, 0x86dd, ipv6({ src: v6src, dst: v6dst, next: 51, ext: ah(58), payload: icmp6echo })) },
    { data: echo6 },
  ],
});

// Checksums: a bad IPv4 header, TCP, UDP and ICMP checksum, and a UDP checksum of zero (none).
files['bad-checksums.pcap'] = pcap({
  records: [
    { data: eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 6, payload: synData, badChecksum: true })) },
    { data: eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 6, payload: tcp({ sport: 51234, dport: 80, seq: 1001, ack: 5, flags: TCP_ACK | TCP_PSH, data: Buffer.from('GET / HTTP/1.0\r\n\r\n'), src: ip4(A), dst: ip4(B), bad: true }) })) },
    { data: eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 17, payload: udp({ sport: 1, dport: 2, data: Buffer.from('x'), src: ip4(A), dst: ip4(B), bad: true }) })) },
    { data: eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: '10.0.0.2', proto: 1, payload: icmp({ type: 8, id: 9, seq: 9, bad: true }) })) },
    { data: eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 17, payload: udp({ sport: 3, dport: 4, data: Buffer.from('zero'), src: ip4(A), dst: ip4(B), zero: true }) })) },
    // IPv4 with options (router alert, RFC 2113) and a padded Ethernet frame (60 bytes minimum).
    { data: cat(eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 1, options: Buffer.from([0x94, 4, 0, 0]), payload: icmp({ type: 0, id: 2, seq: 3, data: Buffer.alloc(0) }) })), Buffer.alloc(14)) },
  ],
});

// IPv4 fragments of one UDP datagram (RFC 791 2.3): the first carries the UDP header, the
// second starts 24 bytes in (fragment offset 3 in 8-byte units).
{
  const whole = udp({ sport: 7000, dport: 7001, data: Buffer.alloc(40, 0x44), src: ip4(A), dst: ip4(B) });
  files['ipv4-fragments.pcap'] = pcap({
    records: [
      { data: eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 17, id: 0x4242, df: false, mf: true, payload: whole.subarray(0, 24) })) },
      { data: eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 17, id: 0x4242, df: false, fragOffset: 24, payload: whole.subarray(24) })) },
    ],
  });
}

// ICMP errors quoting the packet that caused them (RFC 792: IP header + 8 bytes; RFC 4443 2.4:
// as much as fits): IPv4 "fragmentation needed" (RFC 1191) for the TCP SYN, "time exceeded" for
// a UDP datagram, and ICMPv6 "packet too big" quoting a whole IPv6 TCP SYN.
{
  const synIp = ipv4({ src: A, dst: B, proto: 6, payload: synData });
  const udpIp = ipv4({ src: A, dst: B, proto: 17, id: 0x101, payload: udp({ sport: 40001, dport: 5000, data: Buffer.from('hello 1'), src: ip4(A), dst: ip4(B) }) });
  const icmpError = (type, code, rest, quoted) => {
    const h = cat(u8(type), u8(code), u16(0), rest, quoted);
    h.writeUInt16BE(csum(h), 2);
    return h;
  };
  const router = '10.0.0.254';
  const tcp6 = tcp({ sport: 40000, dport: 443, seq: 7, flags: TCP_SYN, src: ip6(v6src), dst: ip6(v6dst) });
  const big6 = ipv6({ src: v6src, dst: v6dst, next: 6, payload: tcp6 });
  files['icmp-errors.pcap'] = pcap({
    records: [
      { data: eth(MAC_A, MAC_B, 0x0800, ipv4({ src: router, dst: A, proto: 1, payload: icmpError(3, 4, cat(u16(0), u16(1400)), synIp.subarray(0, 28)) })) },
      { data: eth(MAC_A, MAC_B, 0x0800, ipv4({ src: router, dst: A, proto: 1, payload: icmpError(11, 0, u32(0), udpIp.subarray(0, 28)) })) },
      { data: eth(MAC_A, MAC_B, 0x86dd, ipv6({ src: 'fd00::fe', dst: v6src, next: 58, payload: icmp6({ type: 2, body: cat(u32(1280), big6), src: ip6('fd00::fe'), dst: ip6(v6src) }) })) },
    ],
  });
}

// DNS query over UDP.
const dnsQuery = cat(u16(0xbeef), u16(0x0100), u16(1), u16(0), u16(0), u16(0), [7], Buffer.from('example'), [3], Buffer.from('com'), [0], u16(1), u16(1));
files['dns.pcap'] = pcap({ records: [{ data: eth(MAC_B, MAC_A, 0x0800, ipv4({ src: A, dst: B, proto: 17, payload: udp({ sport: 33333, dport: 53, data: dnsQuery, src: ip4(A), dst: ip4(B) }) })) }] });

// pcapng: two sections (little then big endian); the first has an Ethernet and a raw-IP
// interface with names and different resolutions, EPB/SPB/PB, an unknown block and an NRB to
// skip, EPB options; the second has one interface with a binary resolution (2^-20 s) and an
// if_tsoffset of 1000 seconds.
{
  const L = ngHelpers(true);
  const B2 = ngHelpers(false);
  const utf = (s) => Buffer.from(s);
  const s1 = cat(
    L.shb(cat(L.opt(4, utf('bpfbed gen-pcap-fixtures')), L.endopt)),
    L.idb(1, 0, cat(L.opt(2, utf('eth0')), L.opt(9, Buffer.from([9])))),
    L.idb(101, 65535, cat(L.opt(2, utf('tun0')), L.opt(3, utf('a tunnel')))),
    L.epb(0, 1700000000123456789n, syn, cat(L.opt(1, utf('a comment')), L.endopt)),
    block(true, 0x80001234, cat(Buffer.from([1, 2, 3, 4]), Buffer.alloc(7, 9))), // local-use block type, skipped
    block(true, 4, cat(L.w16(1), L.w16(8), ip4(A), utf('a.b'), [0], L.w16(0), L.w16(0))), // NRB, skipped
    L.epb(1, 1700000001000000n, rawV4), // microseconds (default if_tsresol)
    L.spb(udpPkt(7)),
    L.pb(0, 1700000002000000000n, echo),
  );
  const s2 = cat(B2.shb(), B2.idb(229, 0, cat(B2.opt(2, utf('v6only')), B2.opt(9, Buffer.from([0x80 | 20])), B2.opt(14, Buffer.from([0, 0, 0, 0, 0, 0, 0x03, 0xe8])))), B2.epb(0, 3n << 20n, rawV6));
  files['multi-section.pcapng'] = cat(s1, s2);

  // Damaged pcapng files.
  const head = cat(L.shb(), L.idb(1, 0));
  files['bad-trailer.pcapng'] = (() => {
    const third = L.epb(0, 3n, udpPkt(3));
    third.writeUInt32LE(third.length + 4, third.length - 4);
    return cat(head, L.epb(0, 1n, udpPkt(1)), L.epb(0, 2n, udpPkt(2)), third, L.epb(0, 4n, udpPkt(4)));
  })();
  files['undefined-interface.pcapng'] = cat(head, L.epb(0, 1n, udpPkt(1)), L.epb(3, 2n, udpPkt(2)));
  files['truncated-block.pcapng'] = (() => {
    const whole = cat(head, L.epb(0, 1n, udpPkt(1)), L.epb(0, 2n, udpPkt(2)));
    return whole.subarray(0, whole.length - 10);
  })();
}

for (const [name, bytes] of Object.entries(files)) writeFileSync(join(out, name), bytes);
console.log(`wrote ${Object.keys(files).length} synthetic captures to ${out}`);
