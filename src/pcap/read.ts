// Reading capture files: detect pcap or pcapng from the magic, then hand out packets one at a
// time. Packets are views into the input buffer, so a long file is never copied.

import { isPcapMagic, PcapFileReader } from './pcap-file.js';
import { isPcapngMagic, PcapngFileReader } from './pcapng-file.js';
import { CaptureError, type CapturedPacket, type CaptureInterface, type CaptureReadResult, type CaptureFormat } from './types.js';

export { CaptureError } from './types.js';
export type { CapturedPacket, CaptureInterface, CaptureReadResult, CaptureFormat } from './types.js';

/** An open capture: its format, its interfaces (pcapng: grows as blocks are read) and packets. */
export interface CaptureReader {
  readonly format: CaptureFormat;
  readonly interfaces: readonly CaptureInterface[];
  /** Yields packets in file order; throws a CaptureError at the first problem. */
  packets(): Generator<CapturedPacket, void, undefined>;
}

export function detectCaptureFormat(bytes: Uint8Array): CaptureFormat | undefined {
  if (isPcapngMagic(bytes)) return 'pcapng';
  if (isPcapMagic(bytes)) return 'pcap';
  return undefined;
}

/** Reads the file header. Throws a CaptureError if the bytes are not a readable capture. */
export function openCapture(bytes: Uint8Array): CaptureReader {
  if (bytes.length === 0) throw new CaptureError('file is empty', 0);
  const format = detectCaptureFormat(bytes);
  if (format === 'pcapng') return new PcapngFileReader(bytes);
  if (format === 'pcap') return new PcapFileReader(bytes);
  const head = [...bytes.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new CaptureError(`not a pcap or pcapng file: it starts with ${head}`, 0);
}

/** Packets one at a time, for long files. After the last good packet, a problem in the file is
 *  thrown as a CaptureError (so a `for...of` loop processes every packet before it, then stops
 *  with the error rather than losing it). */
export function* iterateCapture(bytes: Uint8Array): Generator<CapturedPacket, void, undefined> {
  yield* openCapture(bytes).packets();
}

/** Every packet of the file. On a damaged file, `error` says where and what, and `packets` holds
 *  every packet read before the problem. Never throws. */
export function readCapture(bytes: Uint8Array): CaptureReadResult {
  const packets: CapturedPacket[] = [];
  let reader: CaptureReader;
  try {
    reader = openCapture(bytes);
  } catch (err) {
    return { format: detectCaptureFormat(bytes) ?? 'unknown', interfaces: [], packets, error: asCaptureError(err, 0, undefined) };
  }
  try {
    for (const pkt of reader.packets()) packets.push(pkt);
  } catch (err) {
    return { format: reader.format, interfaces: [...reader.interfaces], packets, error: asCaptureError(err, 0, packets.length + 1) };
  }
  return { format: reader.format, interfaces: [...reader.interfaces], packets };
}

/** Our readers only throw CaptureError; anything else is a bug, still reported with a position. */
function asCaptureError(err: unknown, offset: number, packetNumber: number | undefined): CaptureError {
  if (err instanceof CaptureError) return err;
  return new CaptureError(`internal error while reading: ${err instanceof Error ? err.message : String(err)}`, offset, packetNumber);
}
