// Reading pcap and pcapng: every format variant, and every kind of damage reported with the
// packet number and byte offset while the packets before it are still returned.
import { describe, expect, it } from 'vitest';
import { CaptureError, iterateCapture, openCapture, readCapture } from '../../src/pcap/read.js';
import { readFixture } from '../packet/tshark.js';

// The synthetic fixtures (scripts/gen-pcap-fixtures.mjs) hold these three frames, in order.
const THREE_LENGTHS = [74, 49, 50];

describe('classic pcap', () => {
  it.each([
    ['le-micro.pcap', 'little', 'micro'],
    ['be-micro.pcap', 'big', 'micro'],
    ['le-nano.pcap', 'little', 'nano'],
    ['be-nano.pcap', 'big', 'nano'],
  ])('%s (%s-endian, %sseconds) reads every packet with its timestamp', (file, _order, resolution) => {
    const result = readCapture(readFixture(file));
    expect(result.error).toBeUndefined();
    expect(result.format).toBe('pcap');
    expect(result.interfaces).toHaveLength(1);
    expect(result.interfaces[0].linkType).toBe(1);
    expect(result.interfaces[0].unitsPerSecond).toBe(resolution === 'nano' ? 1_000_000_000n : 1_000_000n);
    expect(result.packets.map((p) => p.index)).toEqual([1, 2, 3]);
    expect(result.packets.map((p) => p.data.length)).toEqual(THREE_LENGTHS);
    expect(result.packets.every((p) => p.linkType === 1 && p.originalLength === p.data.length)).toBe(true);
    // Seconds 1700000000 + i; the fraction is 1000*i + 7 microseconds, or 123456789 + i ns.
    const expectedNs = [0, 1, 2].map((i) =>
      resolution === 'nano' ? BigInt(1700000000 + i) * 1_000_000_000n + BigInt(123456789 + i) : BigInt(1700000000 + i) * 1_000_000_000n + BigInt((1000 * i + 7) * 1000),
    );
    expect(result.packets.map((p) => p.timestampNs)).toEqual(expectedNs);
    // The first packet starts with the destination MAC 02:00:0a:00:00:02.
    expect([...result.packets[0].data.subarray(0, 6)]).toEqual([2, 0, 10, 0, 0, 2]);
  });

  it('keeps the original length of a packet cut by the snapshot length', () => {
    const result = readCapture(readFixture('snaplen-cut.pcap'));
    expect(result.error).toBeUndefined();
    expect(result.packets[0].data.length).toBe(54);
    expect(result.packets[0].originalLength).toBe(74);
  });

  it.each([
    ['raw-ip.pcap', 101],
    ['ipv4-linktype.pcap', 228],
    ['null-loopback.pcap', 0],
    ['linux-sll.pcap', 113],
    ['linux-sll2.pcap', 276],
  ])('%s carries link type %i on every packet', (file, linkType) => {
    const result = readCapture(readFixture(file));
    expect(result.error).toBeUndefined();
    expect(result.packets.length).toBeGreaterThan(0);
    expect(result.packets.every((p) => p.linkType === linkType)).toBe(true);
  });

  it('reads a real tcpdump capture of a TCP session', () => {
    const result = readCapture(readFixture('tcp-session.pcap'));
    expect(result.error).toBeUndefined();
    expect(result.packets).toHaveLength(10);
    const times = result.packets.map((p) => p.timestampNs);
    expect(times.every((t, i) => i === 0 || t >= times[i - 1])).toBe(true);
  });
});

describe('damaged pcap files', () => {
  const header = 24;
  const record = (len: number) => 16 + len;
  // Two good UDP packets of 49 bytes each (14 Ethernet + 20 IPv4 + 8 UDP + "hello N").
  const afterTwo = header + 2 * record(49);

  it('a truncated record header names the packet and offset and keeps the packets before it', () => {
    const result = readCapture(readFixture('truncated-record-header.pcap'));
    expect(result.packets).toHaveLength(2);
    expect(result.error).toBeInstanceOf(CaptureError);
    expect(result.error?.packetNumber).toBe(3);
    expect(result.error?.offset).toBe(afterTwo);
    expect(result.error?.message).toBe(`packet 3 at byte ${afterTwo}: truncated record header: 10 of 16 bytes`);
  });

  it('truncated packet data says how much the record claims and how much is left', () => {
    const result = readCapture(readFixture('truncated-data.pcap'));
    expect(result.packets).toHaveLength(2);
    expect(result.error?.packetNumber).toBe(3);
    expect(result.error?.offset).toBe(afterTwo);
    expect(result.error?.reason).toBe('truncated packet data: the record says 49 bytes, 20 remain in the file');
  });

  it('a captured length above the snapshot length is an error at that packet', () => {
    const result = readCapture(readFixture('over-snaplen.pcap'));
    expect(result.packets.map((p) => p.index)).toEqual([1, 2]);
    expect(result.error?.message).toBe(`packet 3 at byte ${afterTwo}: captured length 200 exceeds the snapshot length 128`);
  });

  it('a file too short for its header, an empty file and an unknown magic are errors at byte 0', () => {
    const short = readCapture(readFixture('le-micro.pcap').subarray(0, 10));
    expect(short.format).toBe('pcap');
    expect(short.error?.message).toBe('at byte 0: file is 10 bytes, too short for the 24-byte pcap file header');
    expect(readCapture(new Uint8Array(0)).error?.message).toBe('at byte 0: file is empty');
    const junk = readCapture(Uint8Array.of(0x7f, 0x45, 0x4c, 0x46, 1, 2, 3, 4));
    expect(junk.format).toBe('unknown');
    expect(junk.error?.message).toBe('at byte 0: not a pcap or pcapng file: it starts with 7f 45 4c 46');
    expect(junk.packets).toEqual([]);
  });

  it('an unsupported version is refused', () => {
    const bytes = readFixture('le-micro.pcap').slice();
    bytes[4] = 1; // version 1.4
    expect(readCapture(bytes).error?.message).toBe('at byte 4: pcap version 1.4 is not supported (expected 2.x)');
  });

  it('the iterator yields the good packets, then throws the error', () => {
    const seen: number[] = [];
    expect(() => {
      for (const pkt of iterateCapture(readFixture('over-snaplen.pcap'))) seen.push(pkt.index);
    }).toThrow(/^packet 3 at byte 154: captured length 200 exceeds the snapshot length 128$/);
    expect(seen).toEqual([1, 2]);
  });
});

describe('pcapng', () => {
  it('reads two sections of opposite byte order with their interfaces, resolutions and block types', () => {
    const result = readCapture(readFixture('multi-section.pcapng'));
    expect(result.error).toBeUndefined();
    expect(result.format).toBe('pcapng');
    expect(result.interfaces.map((i) => [i.linkType, i.name, i.section, i.unitsPerSecond])).toEqual([
      [1, 'eth0', 0, 1_000_000_000n],
      [101, 'tun0', 0, 1_000_000n],
      [229, 'v6only', 1, 1n << 20n],
    ]);
    expect(result.interfaces[1].description).toBe('a tunnel');
    const p = result.packets;
    // EPB (ns), [skipped local-use block and NRB], EPB (us), SPB, PB, then section 2's EPB.
    expect(p.map((x) => x.index)).toEqual([1, 2, 3, 4, 5]);
    expect(p.map((x) => x.linkType)).toEqual([1, 101, 1, 1, 229]);
    expect(p.map((x) => x.interfaceIndex)).toEqual([0, 1, 0, 0, 2]);
    expect(p.map((x) => x.interfaceName)).toEqual(['eth0', 'tun0', 'eth0', 'eth0', 'v6only']);
    expect(p.map((x) => x.data.length)).toEqual([74, 60, 49, 50, 56]);
    expect(p[0].timestampNs).toBe(1700000000123456789n);
    expect(p[1].timestampNs).toBe(1700000001000000000n); // 1700000001000000 microseconds
    expect(p[2].timestampNs).toBe(0n); // an SPB has no timestamp
    expect(p[3].timestampNs).toBe(1700000002000000000n);
    expect(p[4].timestampNs).toBe(1003_000_000_000n); // 3 << 20 units of 2^-20 s, plus if_tsoffset 1000 s
  });

  it('reads a dumpcap capture on two interfaces of different link types', () => {
    const result = readCapture(readFixture('two-interfaces.pcapng'));
    expect(result.error).toBeUndefined();
    expect(result.interfaces.map((i) => [i.name, i.linkType])).toEqual([
      ['vb', 1],
      ['any', 113],
    ]);
    expect(result.packets).toHaveLength(6);
    expect(new Set(result.packets.map((p) => p.linkType))).toEqual(new Set([1, 113]));
    // The same datagram seen on both interfaces: 14-byte Ethernet vs 16-byte cooked header.
    const eth = result.packets.find((p) => p.linkType === 1)!;
    const sll = result.packets.find((p) => p.linkType === 113)!;
    expect(sll.data.length - eth.data.length).toBe(2);
  });

  it('a block whose trailing length differs is an error at that packet, after the good ones', () => {
    const result = readCapture(readFixture('bad-trailer.pcapng'));
    expect(result.packets.map((p) => p.index)).toEqual([1, 2]);
    expect(result.error?.packetNumber).toBe(3);
    // SHB 28 + IDB 20 + two EPBs of 32 + 49 bytes padded to 52 each.
    expect(result.error?.offset).toBe(28 + 20 + 2 * 84);
    expect(result.error?.reason).toBe('block of type 0x6 has total length 84 at its start but 88 at its end');
  });

  it('a packet on an interface the section never described is an error', () => {
    const result = readCapture(readFixture('undefined-interface.pcapng'));
    expect(result.packets).toHaveLength(1);
    expect(result.error?.message).toBe(`packet 2 at byte ${28 + 20 + 84}: enhanced packet block names interface 3, but the section has defined only 1`);
  });

  it('a block cut off by the end of the file is an error naming both lengths', () => {
    const result = readCapture(readFixture('truncated-block.pcapng'));
    expect(result.packets).toHaveLength(1);
    expect(result.error?.message).toBe(`packet 2 at byte ${28 + 20 + 84}: truncated block: block of type 0x6 says 84 bytes, 74 remain in the file`);
  });

  it('a file not starting with a section header block is refused', () => {
    const bytes = readFixture('multi-section.pcapng');
    const reader = openCapture(bytes);
    expect(reader.format).toBe('pcapng');
    // Cut the SHB off: the file now starts with an IDB, which is not pcapng magic.
    expect(readCapture(bytes.subarray(28 + 8)).error?.offset).toBe(0);
  });

  it('an option running past its block is an error', () => {
    const bytes = readFixture('multi-section.pcapng').slice();
    // The first IDB starts after the SHB; its first option (if_name, 4 bytes) is at +16.
    const shbLength = new DataView(bytes.buffer).getUint32(4, true);
    new DataView(bytes.buffer).setUint16(shbLength + 16 + 2, 200, true);
    const result = readCapture(bytes);
    expect(result.packets).toHaveLength(0);
    expect(result.error?.reason).toMatch(/^option 2 at byte \d+ runs \d+ bytes past the end of its block$/);
  });
});

describe('robustness', () => {
  it('never throws and never hangs on damaged bytes: every prefix of every fixture', () => {
    for (const file of ['multi-section.pcapng', 'le-nano.pcap', 'two-interfaces.pcapng']) {
      const bytes = readFixture(file);
      for (let len = 0; len <= bytes.length; len++) {
        const result = readCapture(bytes.subarray(0, len));
        if (result.error) expect(result.error).toBeInstanceOf(CaptureError);
      }
    }
  });

  it('never throws on random byte flips of a valid file', () => {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const original = readFixture('multi-section.pcapng');
    for (let round = 0; round < 2000; round++) {
      const bytes = original.slice();
      for (let k = 0; k < 3; k++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      const result = readCapture(bytes);
      expect(result.error === undefined || result.error instanceof CaptureError).toBe(true);
      expect(result.error?.message ?? '').not.toMatch(/internal error/);
    }
  });
});
