// bpfbed example (what `npm start` runs): load the bundled example object, run each of its
// programs on every packet of the bundled capture, and print what they computed.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { decodePacket } from '../../packet/decode.js';
import { summarizePacket } from '../../packet/summary.js';
import { readCapture } from '../../pcap/read.js';
import { toEthernetFrame } from '../../pcap/ethernet.js';
import { Testbed } from '../../testbed/testbed.js';
import { hex64 } from '../io.js';
import { packageRoot } from '../paths.js';
import { formatTable } from '../table.js';

const OBJECT = 'fixtures/obj/examples/packet_summary.o';
const CAPTURE = 'fixtures/examples/packets.pcap';
/** struct packet in bpf/examples/packet_summary.c: __u32 len; __u8 bytes[128]. */
const PACKET_BYTES = 128;

export function registerExample(program: Command): void {
  program
    .command('example')
    .description('run the bundled example object on the bundled capture and print the results')
    .option('--json', 'print JSON for machines')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await runExample(opts);
    });
}

async function runExample(opts: { json?: boolean }): Promise<number> {
  const root = packageRoot();
  const bed = await Testbed.fromObject(new Uint8Array(readFileSync(join(root, OBJECT))), { name: 'packet_summary.o' });
  const capture = readCapture(new Uint8Array(readFileSync(join(root, CAPTURE))));
  const rows = [];
  let faults = 0;
  for (const pkt of capture.packets) {
    const frame = toEthernetFrame(pkt);
    const ctx = new Uint8Array(4 + PACKET_BYTES);
    new DataView(ctx.buffer).setUint32(0, Math.min(frame.length, PACKET_BYTES), true);
    ctx.set(frame.subarray(0, PACKET_BYTES), 4);
    const results = bed.programs.map((p) => {
      const r = bed.runWithMemory(p.name, ctx);
      if (r.fault) faults++;
      return { program: p.name, r0: r.fault ? undefined : hex64(BigInt.asUintN(32, r.r0)), insns: r.insnCount, fault: r.fault?.message };
    });
    rows.push({ packet: pkt.index, summary: summarizePacket(decodePacket(frame)), checksumInPacket: ipv4ChecksumField(frame), results });
  }
  const counters = bed.maps.map((m) => ({ map: m.name, entries: m.dump().entries.length, firstValue: firstValueHex(m.dump().entries[0]?.value) }));

  if (opts.json) {
    console.log(JSON.stringify({ object: OBJECT, capture: CAPTURE, packets: rows, maps: counters }, null, 2));
  } else {
    console.log(`bpfbed example: ${OBJECT} on ${relative(root, join(root, CAPTURE))} (${capture.packets.length} packets)\n`);
    console.log(
      formatTable(
        ['#', 'packet', ...bed.programs.map((p) => p.name), 'ip.checksum', 'insns'],
        rows.map((r) => [
          String(r.packet),
          r.summary,
          ...r.results.map((x) => x.r0 ?? 'fault'),
          r.checksumInPacket ?? '-',
          r.results.map((x) => x.insns).join('/'),
        ]),
        { right: [0] },
      ),
    );
    console.log('\nmaps after the run:');
    for (const m of bed.maps) {
      const [entry] = m.dump().entries;
      console.log(`  ${m.name.padEnd(24)} ${entry ? hexBytes(entry.value) : '(empty)'}`);
    }
    for (const r of rows) for (const x of r.results) if (x.fault) console.log(`\npacket ${r.packet}, ${x.program}: ${x.fault}`);
  }
  if (capture.error) console.error(`bpfbed example: ${capture.error.message}`);
  return faults > 0 || capture.error ? 1 : 0;
}

function ipv4ChecksumField(frame: Uint8Array): string | undefined {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return undefined;
  return '0x' + ((frame[24] << 8) | frame[25]).toString(16);
}

const hexBytes = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
const firstValueHex = (b: Uint8Array | undefined): string | undefined => (b ? hexBytes(b) : undefined);
