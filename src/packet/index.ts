// Packets decoded for people: the public surface of src/packet.
export { decodePacket, getField } from './decode.js';
export type { ChecksumStatus, DecodedLayer, DecodedPacket, DecodeOptions, PacketField } from './decode.js';
export { summarizePacket } from './summary.js';
export { diffPackets, formatDiff } from './diff.js';
export type { FieldChange } from './diff.js';
export * from './addr.js';
export { computeChecksum, foldChecksum, pseudoHeaderSum, sumWords } from './checksum.js';
