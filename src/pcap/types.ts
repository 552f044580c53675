// What the capture readers hand out. Plain data, shared with the writers and the run command.

export type CaptureFormat = 'pcap' | 'pcapng';

export interface CapturedPacket {
  /** 1-based, as Wireshark numbers frames. */
  index: number;
  /** Capture time in nanoseconds since the epoch, after the interface's resolution and offset. */
  timestampNs: bigint;
  /** LINKTYPE_* of the interface the packet was captured on (see linktype.ts). */
  linkType: number;
  /** pcapng only: the interface's index in the reader's `interfaces`, i.e. among all interfaces
   *  of the file counting across sections in order. (Wireshark 4.0's `frame.interface_id` is the
   *  same in a file's first section but restarts at 0 in each later one.) */
  interfaceIndex?: number;
  /** pcapng only: the interface's `if_name` option, when the file has one. */
  interfaceName?: string;
  /** The captured bytes. A view into the file's buffer, not a copy: copy before changing it. */
  data: Uint8Array;
  /** Length of the packet on the wire; larger than `data.length` when the capture cut it. */
  originalLength: number;
}

/** One capture interface: pcap files have exactly one, pcapng files one per IDB. */
export interface CaptureInterface {
  linkType: number;
  /** 0 means no limit (pcapng) */
  snapLength: number;
  name?: string;
  description?: string;
  /** Timestamp units per second (pcap: 1e6 or 1e9; pcapng: from if_tsresol, default 1e6). */
  unitsPerSecond: bigint;
  /** pcapng: 0-based section this interface belongs to. */
  section: number;
}

/** A problem in the file. Everything read before it is still returned by readCapture. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    /** What is wrong, without the position. */
    readonly reason: string,
    /** Byte offset in the file of the record or block (or field) that is wrong. */
    readonly offset: number,
    /** 1-based number of the packet being read when the problem was found (the number it would
     *  have had); undefined for problems in the file header. */
    readonly packetNumber?: number,
  ) {
    super(packetNumber === undefined ? `at byte ${offset}: ${reason}` : `packet ${packetNumber} at byte ${offset}: ${reason}`);
  }
}

export interface CaptureReadResult {
  /** 'unknown' only when the file's first bytes are neither pcap nor pcapng magic. */
  format: CaptureFormat | 'unknown';
  interfaces: CaptureInterface[];
  packets: CapturedPacket[];
  error?: CaptureError;
}
