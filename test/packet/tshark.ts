// Shared by the tests that compare with tshark: where the fixtures are, whether tshark is here,
// and how the committed expectations (fixtures/pcap/expected/*.tsv) were made, so a test can
// re-run tshark and check they are still what tshark says.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '../../fixtures/pcap');
export const EXPECTED = join(FIXTURES, 'expected');

export const HAS_TSHARK = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
export const NO_TSHARK_REASON = 'tshark is not installed (Debian package tshark)';

/** The preferences scripts/gen-pcap-fixtures.sh gives tshark: checksums verified, raw TCP
 *  sequence numbers, no reassembly. */
export const TSHARK_PREFS = [
  '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE',
  '-o', 'tcp.relative_sequence_numbers:FALSE', '-o', 'tcp.analyze_sequence_numbers:FALSE',
  '-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE', '-o', 'tcp.desegment_tcp_streams:FALSE',
];

export function readFixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURES, name)));
}

export interface FieldTable {
  columns: string[];
  rows: string[][];
}

export function parseTsv(text: string): FieldTable {
  const lines = text.split('\n').filter((line) => line.length > 0);
  const columns = lines[0].split('\t');
  return { columns, rows: lines.slice(1).map((line) => line.split('\t')) };
}

/** tshark -T fields output for `file` with the given columns, one row per packet. */
export function tsharkFields(file: string, columns: string[]): FieldTable {
  const args = ['-n', '-r', file, ...TSHARK_PREFS, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const c of columns) args.push('-e', c);
  const out = execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return { columns, rows: out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\t')) };
}

/** Number of packets tshark reads from `file` (throws if tshark cannot read it). */
export function tsharkCount(file: string): number {
  const out = execFileSync('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => l.length > 0).length;
}
