// The emulated BPF maps: one module per family, created through createMap().
export * from './types.js';
export * from './uapi.js';
export * from './errno.js';
export { MapBase, MapDefinitionError, type MapContext } from './base.js';
export { ArrayMap, innerMapMatches, type FdResolver } from './array.js';
export { FdArrayMap } from './fd-array.js';
export { HashMap } from './hash.js';
export { LpmTrieMap } from './lpm-trie.js';
export { QueueStackMap } from './queue-stack.js';
export { PerfEventArrayMap, type PerfRecord } from './perf-event-array.js';
export { RingbufMap, type RingbufRecord } from './ringbuf.js';
export { DevMap, type DevmapTarget, type DevmapResolver } from './devmap.js';
export { CpuMap, type CpumapTarget } from './cpumap.js';
export { XskMap, type XskmapTarget } from './xskmap.js';
export { BpfLru } from './lru-list.js';
export { createMap, MapRegistry, MAP_HANDLE_BASE, MAP_HANDLE_STRIDE, type CreateMapOptions } from './registry.js';
export { u32Key, hashBytes } from './bytes.js';
export type { MapState } from './state.js';
