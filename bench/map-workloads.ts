// The map-heavy workloads of `npm run bench`: tc programs in bpf/bench/maps.c (compiled to
// fixtures/obj/bench/maps.o) that spend their time in bpf_map_lookup_elem / update_elem. Both
// engines get the same map contents: `mapFill()` lists every entry, which bpfbed writes through
// its host API and the kernel column through bench/kernel/maprun.c.

export interface MapWorkload {
  /** Also the program's name in the object. */
  name: string;
  /** One line for the table's legend. */
  what: string;
  /** Map helper calls per run (lookups and updates), for calls/s. */
  mapCallsPerRun: number;
}

export const MAPS_SOURCE = 'bpf/bench/maps.c';
export const MAPS_OBJECT = 'fixtures/obj/bench/maps.o';

/** Entries filled into each map: a quarter of max_entries, so LRU updates never evict. */
export const FILLED_FLOWS = 256;

export const MAP_WORKLOADS: readonly MapWorkload[] = [
  { name: 'hash_lookups', what: '16 lookups of a 16-byte key in a 1024-entry HASH map', mapCallsPerRun: 16 },
  { name: 'lru_lookups', what: '16 lookups of a 16-byte key in a 1024-entry LRU_HASH map', mapCallsPerRun: 16 },
  { name: 'array_lookups', what: '16 lookups in a 1024-entry ARRAY map', mapCallsPerRun: 16 },
  { name: 'hash_update', what: 'update (BPF_ANY, existing key) then lookup of a flow in a HASH map', mapCallsPerRun: 2 },
  { name: 'per_packet', what: 'a packet: 2 HASH lookups, 1 ARRAY lookup, 1 LRU_HASH update', mapCallsPerRun: 4 },
];

export interface MapFillEntry {
  map: string;
  key: Uint8Array;
  value: Uint8Array;
}

/** struct flow_key of flow i, as flow_key_of() in bpf/bench/maps.c builds it (little-endian host). */
export function flowKey(i: number): Uint8Array {
  const key = new Uint8Array(16);
  const dv = new DataView(key.buffer);
  dv.setUint32(0, 0x0a00_0001 + i, true);
  dv.setUint32(4, 0xc0a8_0001, true);
  dv.setUint16(8, 1024 + i, true);
  dv.setUint16(10, 80, true);
  dv.setUint32(12, 6, true);
  return key;
}

/** struct flow_stats { __u64 packets; __u64 bytes; } */
function flowStats(packets: number, bytes: number): Uint8Array {
  const value = new Uint8Array(16);
  const dv = new DataView(value.buffer);
  dv.setBigUint64(0, BigInt(packets), true);
  dv.setBigUint64(8, BigInt(bytes), true);
  return value;
}

function u32Key(i: number): Uint8Array {
  const key = new Uint8Array(4);
  new DataView(key.buffer).setUint32(0, i, true);
  return key;
}

/** Every map entry the workloads expect, in one fixed order (see the header of maps.c). */
export function mapFill(): MapFillEntry[] {
  const entries: MapFillEntry[] = [];
  for (let i = 0; i < FILLED_FLOWS; i++) {
    entries.push({ map: 'flows', key: flowKey(i), value: flowStats(i * 7 + 1, i) });
    entries.push({ map: 'lru_flows', key: flowKey(i), value: flowStats(i * 7 + 1, i) });
    entries.push({ map: 'backends', key: u32Key(i), value: flowStats(i + 100, 0) });
  }
  return entries;
}
