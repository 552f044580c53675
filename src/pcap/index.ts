// Capture files in and out: the public surface of src/pcap.
export { CaptureError, detectCaptureFormat, iterateCapture, openCapture, readCapture } from './read.js';
export type { CaptureFormat, CaptureInterface, CaptureReader, CaptureReadResult, CapturedPacket } from './read.js';
export { DEFAULT_SNAPLEN, PcapngWriter, PcapWriter } from './write.js';
export type { PcapngInterfaceOptions, PcapWriterOptions } from './write.js';
export { ETH_P_IP, ETH_P_IPV6, LinkTypeError, SYNTHETIC_DST_MAC, SYNTHETIC_SRC_MAC, toEthernetFrame } from './ethernet.js';
export * from './linktype.js';
