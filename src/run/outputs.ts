// What leaves the run: one capture per output (a device the packet leaves on, 'stack' for what
// is passed up to the local stack, 'drop' for what a program dropped), in packet order.
import { PcapWriter } from '../pcap/write.js';

export interface OutputPacket {
  /** 1-based number of the input packet it came from. */
  packet: number;
  data: Uint8Array;
  timestampNs: bigint;
}

export class OutputSet {
  private readonly byName = new Map<string, OutputPacket[]>();

  add(output: string, pkt: OutputPacket): void {
    let list = this.byName.get(output);
    if (!list) this.byName.set(output, (list = []));
    list.push(pkt);
  }

  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  packets(output: string): readonly OutputPacket[] {
    return this.byName.get(output) ?? [];
  }

  /** A nanosecond pcap of one output (Ethernet link type). */
  pcap(output: string): Uint8Array {
    const w = new PcapWriter();
    for (const p of this.packets(output)) w.add(p.data, p.timestampNs);
    return w.bytes();
  }
}
