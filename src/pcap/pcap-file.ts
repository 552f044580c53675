// Classic pcap (libpcap savefile), as specified in draft-ietf-opsawg-pcap (section 4: file
// header, section 5: packet record) and read by libpcap's sf-pcap.c.

import { CaptureError, type CapturedPacket, type CaptureInterface } from './types.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** Alexey Kuznetsov's patched format (extra fields per record); libpcap reads it, we do not. */
const PCAP_MAGIC_KUZNETZOV = 0xa1b2cd34;

export const PCAP_FILE_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** True when the first 4 bytes are any pcap magic, in either byte order. */
export function isPcapMagic(bytes: Uint8Array): boolean {
  if (bytes.length < 4) return false;
  const le = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  return [PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO, PCAP_MAGIC_KUZNETZOV].some((m) => le === m || le === swap32(m));
}

export class PcapFileReader {
  readonly format = 'pcap' as const;
  readonly interfaces: CaptureInterface[];
  private readonly view: DataView;
  private readonly little: boolean;
  private readonly nano: boolean;

  /** Reads the file header; throws CaptureError if it is not a pcap file we can read. */
  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < PCAP_FILE_HEADER_LEN) {
      throw new CaptureError(`file is ${bytes.length} bytes, too short for the ${PCAP_FILE_HEADER_LEN}-byte pcap file header`, 0);
    }
    const magic = this.view.getUint32(0, true);
    if (magic === PCAP_MAGIC_MICRO || magic === PCAP_MAGIC_NANO) this.little = true;
    else if (swap32(magic) === PCAP_MAGIC_MICRO || swap32(magic) === PCAP_MAGIC_NANO) this.little = false;
    else if (magic === PCAP_MAGIC_KUZNETZOV || swap32(magic) === PCAP_MAGIC_KUZNETZOV) {
      throw new CaptureError('pcap variant with magic 0xa1b2cd34 (Kuznetzov patched format) is not supported', 0);
    } else {
      throw new CaptureError(`not a pcap file: magic 0x${magic.toString(16).padStart(8, '0')}`, 0);
    }
    const hostMagic = this.little ? magic : swap32(magic);
    this.nano = hostMagic === PCAP_MAGIC_NANO;
    const major = this.view.getUint16(4, this.little);
    const minor = this.view.getUint16(6, this.little);
    // libpcap sf-pcap.c refuses major versions other than 2 (1.x is "archaic").
    if (major !== 2) throw new CaptureError(`pcap version ${major}.${minor} is not supported (expected 2.x)`, 4);
    const snapLength = this.view.getUint32(16, this.little);
    // LinkType field (draft-ietf-opsawg-pcap 4): low 16 bits the link type, upper bits FCS info.
    const linkType = this.view.getUint32(20, this.little) & 0xffff;
    this.interfaces = [
      { linkType, snapLength, unitsPerSecond: this.nano ? 1_000_000_000n : 1_000_000n, section: 0 },
    ];
  }

  /** Big-endian files come from big-endian writers; useful for tests and reports. */
  get littleEndian(): boolean {
    return this.little;
  }

  get nanosecond(): boolean {
    return this.nano;
  }

  *packets(): Generator<CapturedPacket, void, undefined> {
    const { bytes, view, little } = this;
    const { linkType, snapLength } = this.interfaces[0];
    let offset = PCAP_FILE_HEADER_LEN;
    let index = 0;
    while (offset < bytes.length) {
      index++;
      const left = bytes.length - offset;
      if (left < PCAP_RECORD_HEADER_LEN) {
        throw new CaptureError(`truncated record header: ${left} of ${PCAP_RECORD_HEADER_LEN} bytes`, offset, index);
      }
      const seconds = view.getUint32(offset, little);
      const fraction = view.getUint32(offset + 4, little);
      const capturedLength = view.getUint32(offset + 8, little);
      const originalLength = view.getUint32(offset + 12, little);
      // libpcap only refuses lengths above its per-link-type maximum and silently trims to the
      // snapshot length; a record longer than the file's own snapshot length means the file is
      // damaged, so we stop there (the packets before are kept).
      if (snapLength !== 0 && capturedLength > snapLength) {
        throw new CaptureError(`captured length ${capturedLength} exceeds the snapshot length ${snapLength}`, offset, index);
      }
      const dataStart = offset + PCAP_RECORD_HEADER_LEN;
      if (capturedLength > bytes.length - dataStart) {
        throw new CaptureError(
          `truncated packet data: the record says ${capturedLength} bytes, ${bytes.length - dataStart} remain in the file`,
          offset,
          index,
        );
      }
      const timestampNs = BigInt(seconds) * 1_000_000_000n + BigInt(fraction) * (this.nano ? 1n : 1000n);
      yield {
        index,
        timestampNs,
        linkType,
        data: bytes.subarray(dataStart, dataStart + capturedLength),
        originalLength,
      };
      offset = dataStart + capturedLength;
    }
  }
}
