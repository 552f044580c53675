// The decoder against Wireshark: every fixture under fixtures/pcap/ was decoded by tshark into
// fixtures/pcap/expected/<file>.tsv (scripts/gen-pcap-fixtures.sh); bpfbed must decode the same
// value for every field tshark reports, in the same order (outer layers before inner ones).
// Where tshark is installed, the committed tables are also checked against tshark itself.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePacket, type DecodedPacket } from '../../src/packet/decode.js';
import { depthPrefix } from '../../src/packet/fields.js';
import { readCapture } from '../../src/pcap/read.js';
import { EXPECTED, FIXTURES, HAS_TSHARK, NO_TSHARK_REASON, parseTsv, readFixture, tsharkFields } from './tshark.js';

const TABLES = readdirSync(EXPECTED).filter((f) => f.endsWith('.tsv')).sort();

/** Columns whose meaning differs: ip.version is also filled in for IPv6 by tshark. */
const SKIPPED = new Set(['frame.number', 'ip.version']);

// tshark's checksum status values (epan/proto.h: PROTO_CHECKSUM_E_BAD 0, GOOD 1, UNVERIFIED 2,
// NOT_PRESENT 3); a missing checksum (UDP zero over IPv4) is 'unverified' for us.
const STATUS: Record<string, string> = { '0': 'bad', '1': 'good', '2': 'unverified', '3': 'unverified' };

/** Our values for a tshark column, all tunnel depths, in layer order, as tshark would print. */
function ours(decoded: DecodedPacket, column: string): string[] {
  const values: string[] = [];
  const status = column.endsWith('.checksum.status');
  const name = status ? column.slice(0, -'.status'.length) : column;
  for (const layer of decoded.layers) {
    for (const f of layer.fields) {
      if (f.name !== depthPrefix(layer.depth) + name) continue;
      values.push(status ? String(f.status) : String(f.value));
    }
  }
  return values;
}

function theirs(cell: string, column: string): string[] {
  if (cell === '') return [];
  return cell.split(',').map((v) => {
    if (column.endsWith('.checksum.status')) return STATUS[v] ?? `status ${v}`;
    return /^(0x[0-9a-f]+|[0-9]+)$/.test(v) ? String(Number(v)) : v;
  });
}

describe('decodePacket agrees with tshark', () => {
  it('has expectations to check', () => {
    expect(TABLES.length).toBeGreaterThanOrEqual(15);
  });

  it.each(TABLES)('%s: every field tshark decodes has the same value', (table) => {
    const capture = readCapture(readFixture(table.replace(/\.tsv$/, '')));
    expect(capture.error).toBeUndefined();
    const expected = parseTsv(readFileSync(join(EXPECTED, table), 'utf8'));
    expect(capture.packets.length).toBe(expected.rows.length);
    let compared = 0;
    capture.packets.forEach((pkt, i) => {
      const decoded = decodePacket(pkt.data, pkt.linkType, { originalLength: pkt.originalLength });
      expected.columns.forEach((column, c) => {
        if (SKIPPED.has(column)) return;
        const want = theirs(expected.rows[i][c] ?? '', column);
        expect(ours(decoded, column), `packet ${pkt.index} ${column}`).toEqual(want);
        compared += want.length;
      });
    });
    expect(compared).toBeGreaterThan(0);
  });
});

describe.skipIf(!HAS_TSHARK)(`committed expectations are what tshark says${HAS_TSHARK ? '' : ` (skipped: ${NO_TSHARK_REASON})`}`, () => {
  it.each(TABLES)('%s matches a fresh tshark run', (table) => {
    const expected = parseTsv(readFileSync(join(EXPECTED, table), 'utf8'));
    const fresh = tsharkFields(join(FIXTURES, table.replace(/\.tsv$/, '')), expected.columns);
    expect(fresh.rows).toEqual(expected.rows);
  });
});
