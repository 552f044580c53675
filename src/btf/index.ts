// Public surface of the BTF reader.
export { Btf, BtfError, parseBtf, type MemberLookup } from './btf.js';
export { parseBtfExt, type BtfExt, type CoreReloRecord, type FuncInfoRecord, type LineInfoRecord } from './ext.js';
export { decodeValue, encodeValue } from './value.js';
export * from './types.js';
