// Writing captures: what PcapWriter / PcapngWriter produce reads back identically, and tshark
// (where installed) reads every packet of it with the right link type and timestamps.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture } from '../../src/pcap/read.js';
import { PcapngWriter, PcapWriter } from '../../src/pcap/write.js';
import { HAS_TSHARK, NO_TSHARK_REASON, readFixture, tsharkCount, tsharkFields } from '../packet/tshark.js';

const source = readCapture(readFixture('tcp-session.pcap')).packets;
const dir = mkdtempSync(join(tmpdir(), 'bpfbed-pcap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writtenPcap(): Uint8Array {
  const writer = new PcapWriter();
  for (const p of source) writer.add(p.data, p.timestampNs, p.originalLength);
  expect(writer.packetCount).toBe(source.length);
  return writer.bytes();
}

describe('PcapWriter', () => {
  it('round-trips packets, timestamps to the nanosecond and original lengths', () => {
    const writer = new PcapWriter();
    writer.add(Uint8Array.of(1, 2, 3), 1_700_000_000_123_456_789n);
    writer.add(new Uint8Array(60).fill(7), 5n, 1514);
    const back = readCapture(writer.bytes());
    expect(back.error).toBeUndefined();
    expect(back.format).toBe('pcap');
    expect(back.interfaces[0]).toMatchObject({ linkType: 1, unitsPerSecond: 1_000_000_000n, snapLength: 262144 });
    expect(back.packets.map((p) => [p.timestampNs, [...p.data.subarray(0, 3)], p.originalLength])).toEqual([
      [1_700_000_000_123_456_789n, [1, 2, 3], 3],
      [5n, [7, 7, 7], 1514],
    ]);
  });

  it('rewrites a real capture byte for byte in its packets', () => {
    const back = readCapture(writtenPcap());
    expect(back.packets.map((p) => [...p.data])).toEqual(source.map((p) => [...p.data]));
    expect(back.packets.map((p) => p.timestampNs)).toEqual(source.map((p) => p.timestampNs));
  });

  it('uses the configured link type and cuts packets to the snapshot length', () => {
    const writer = new PcapWriter({ linkType: 101, snapLength: 40 });
    writer.add(new Uint8Array(100), 0n);
    const back = readCapture(writer.bytes());
    expect(back.packets[0]).toMatchObject({ linkType: 101, originalLength: 100 });
    expect(back.packets[0].data.length).toBe(40);
  });

  it('refuses timestamps and lengths the format cannot hold', () => {
    const writer = new PcapWriter();
    expect(() => writer.add(new Uint8Array(4), -1n)).toThrow(RangeError);
    expect(() => writer.add(new Uint8Array(4), 2n ** 32n * 1_000_000_000n)).toThrow(/outside what the file format can hold/);
    expect(() => writer.add(new Uint8Array(4), 0n, 3)).toThrow(/original length 3 must be/);
    expect(readCapture(writer.bytes()).packets).toHaveLength(0);
  });
});

describe('PcapngWriter', () => {
  it('writes interfaces of different link types and reads back every packet on its interface', () => {
    const writer = new PcapngWriter();
    const eth = writer.addInterface({ name: 'eth0' });
    const raw = writer.addInterface({ linkType: 101, name: 'tun0', snapLength: 0 });
    writer.add(eth, source[0].data, 1_700_000_000_000_000_001n);
    writer.add(raw, source[1].data.subarray(14), 1_700_000_000_000_000_002n);
    const back = readCapture(writer.bytes());
    expect(back.error).toBeUndefined();
    expect(back.interfaces.map((i) => [i.name, i.linkType, i.unitsPerSecond])).toEqual([
      ['eth0', 1, 1_000_000_000n],
      ['tun0', 101, 1_000_000_000n],
    ]);
    expect(back.packets.map((p) => [p.interfaceIndex, p.timestampNs, p.data.length])).toEqual([
      [0, 1_700_000_000_000_000_001n, source[0].data.length],
      [1, 1_700_000_000_000_000_002n, source[1].data.length - 14],
    ]);
    expect(() => writer.add(7, new Uint8Array(1), 0n)).toThrow(/interface 7 was not added/);
  });
});

describe.skipIf(!HAS_TSHARK)(`written files open in tshark${HAS_TSHARK ? '' : ` (skipped: ${NO_TSHARK_REASON})`}`, () => {
  it('tshark reads every packet of a written pcap, with the same timestamps and valid checksums', () => {
    const file = join(dir, 'out.pcap');
    writeFileSync(file, writtenPcap());
    expect(tsharkCount(file)).toBe(source.length);
    const fields = tsharkFields(file, ['frame.time_epoch', 'frame.cap_len', 'ip.checksum.status', 'tcp.checksum.status']);
    expect(fields.rows.map((r) => r[1])).toEqual(source.map((p) => String(p.data.length)));
    const epoch = (ns: bigint) => `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
    expect(fields.rows.map((r) => r[0])).toEqual(source.map((p) => epoch(p.timestampNs)));
    expect(fields.rows.every((r) => r[2] === '1' && r[3] === '1')).toBe(true);
  });

  it('tshark reads every packet of a written pcapng with two link types', () => {
    const writer = new PcapngWriter();
    const eth = writer.addInterface({ name: 'eth0' });
    const raw = writer.addInterface({ linkType: 101, name: 'raw0' });
    for (const p of source) {
      writer.add(eth, p.data, p.timestampNs);
      writer.add(raw, p.data.subarray(14), p.timestampNs);
    }
    const file = join(dir, 'out.pcapng');
    writeFileSync(file, writer.bytes());
    const fields = tsharkFields(file, ['frame.interface_name', 'frame.encap_type', 'ip.src', 'tcp.checksum.status']);
    expect(fields.rows).toHaveLength(2 * source.length);
    expect(new Set(fields.rows.map((r) => `${r[0]} ${r[1]}`))).toEqual(new Set(['eth0 1', 'raw0 7']));
    expect(fields.rows.every((r) => r[2].startsWith('10.231.0.') && r[3] === '1')).toBe(true);
  });
});
