// Comparing what came out of a run with an expected capture, packet by packet: the first
// difference of each packet as decoded fields (ip.dst 10.0.1.5 -> 10.0.1.6), so a mismatch reads
// as a network engineer would describe it, not as a byte offset.
import { decodePacket } from '../packet/decode.js';
import { diffPackets, formatDiff } from '../packet/diff.js';
import type { CapturedPacket } from '../pcap/read.js';
import type { OutputPacket } from './outputs.js';

export interface OutputMismatch {
  output: string;
  /** Position in the output capture (1-based). */
  position: number;
  /** Input packet it came from, when there is an actual packet at that position. */
  packet?: number;
  problem: string;
  /** Field differences, expected -> actual. */
  changes: string[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compareOutput(output: string, expected: readonly CapturedPacket[], actual: readonly OutputPacket[]): OutputMismatch[] {
  const problems: OutputMismatch[] = [];
  const n = Math.max(expected.length, actual.length);
  for (let i = 0; i < n; i++) {
    const want = expected[i];
    const got = actual[i];
    if (!want) {
      problems.push({ output, position: i + 1, packet: got.packet, problem: `unexpected packet (from input packet ${got.packet})`, changes: [] });
      continue;
    }
    if (!got) {
      problems.push({ output, position: i + 1, problem: 'expected packet missing', changes: [] });
      continue;
    }
    if (sameBytes(want.data, got.data)) continue;
    const changes = formatDiff(diffPackets(decodePacket(want.data, want.linkType), decodePacket(got.data)));
    problems.push({
      output,
      position: i + 1,
      packet: got.packet,
      problem: changes.length > 0 ? 'differs' : `differs in bytes not decoded (${want.data.length} vs ${got.data.length} bytes)`,
      changes,
    });
  }
  return problems;
}
