import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as bpfbed from '../../src/index.js';

describe('the library entry point', () => {
  it('loads an object, makes it live and runs a program, as the README shows', async () => {
    const bytes = new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/obj/examples/packet_summary.o')));
    const spec = bpfbed.loadObject(bytes, { name: 'packet_summary.o' });
    expect(bpfbed.describeObject(spec).programs.map((p) => p.name)).toEqual(['ipv4_checksum', 'flow_hash']);
    const bed = await bpfbed.Testbed.create(spec);
    const ctx = new Uint8Array(132); // struct packet with len 0: not IPv4
    expect(bed.runWithMemory('ipv4_checksum', ctx).r0).toBe(0n);
    expect(bed.typedMap('packet_s.bss').entries()).toEqual([{ key: 0, value: { packets_seen: 1n } }]);
  });

  it('exports the pieces a test or tool needs by name', () => {
    for (const name of ['loadObject', 'Testbed', 'Machine', 'execRaw', 'disassemble', 'assemble', 'readCapture', 'PcapWriter', 'decodePacket', 'parseScenario', 'Environment']) {
      expect(typeof (bpfbed as Record<string, unknown>)[name], name).toBe('function');
    }
  });
});
