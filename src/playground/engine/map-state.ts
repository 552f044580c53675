// Map contents at two moments and what changed between them. A dump keeps raw bytes (cheap to
// take and compare); only the entries shown are decoded, through Testbed#typedMap so keys and
// values look as the scenario's `maps:` entries write them.
import type { Testbed } from '../../testbed/testbed.js';
import type { TypedMap } from '../../typed/typed-map.js';
import type { MapChange, MapView } from '../protocol.js';

interface RawEntry {
  key: Uint8Array;
  value: Uint8Array;
  perCpu?: Uint8Array[];
}

/** Every map's entries by key (hex), in the map's own order. */
export type MapsDump = Map<string, Map<string, RawEntry>>;

/** Entries sent per map in a MapView; the rest is counted in `truncated`. */
export const MAX_VIEW_ENTRIES = 1000;

const hexOf = (bytes: Uint8Array): string => {
  let s = '';
  for (const b of bytes) s += (b < 16 ? '0' : '') + b.toString(16);
  return s;
};

const sameEntry = (a: RawEntry, b: RawEntry): boolean =>
  a.perCpu || b.perCpu ? (a.perCpu ?? []).map(hexOf).join() === (b.perCpu ?? []).map(hexOf).join() : hexOf(a.value) === hexOf(b.value);

/** Raw copies of every map's entries (maps that cannot list entries, like perf event arrays, are empty). */
export function dumpMaps(bed: Testbed): MapsDump {
  const out: MapsDump = new Map();
  for (const map of bed.maps) {
    const entries = new Map<string, RawEntry>();
    try {
      for (const e of map.entries()) {
        entries.set(hexOf(e.key), { key: e.key.slice(), value: e.value.slice(), ...(e.perCpu ? { perCpu: e.perCpu.map((v) => v.slice()) } : {}) });
      }
    } catch {
      // A map kind without host-visible entries (perf event array, ring buffer): nothing to show.
    }
    out.set(map.name, entries);
  }
  return out;
}

/** How a map shows one entry's value: per-CPU maps every CPU's value, others the value. */
function shownValue(typed: TypedMap, e: RawEntry): unknown {
  return e.perCpu ? e.perCpu.map((v) => typed.decodeValue(v)) : typed.decodeValue(e.value);
}

function decodeKey(typed: TypedMap, key: Uint8Array): unknown {
  try {
    return typed.decodeKey(key);
  } catch {
    return hexOf(key);
  }
}

function decodeValue(typed: TypedMap, e: RawEntry): unknown {
  try {
    return shownValue(typed, e);
  } catch {
    return hexOf(e.value);
  }
}

/** The maps after a run against the maps before it: every entry with its status, and what was removed. */
export function mapViews(bed: Testbed, before: MapsDump, after: MapsDump = dumpMaps(bed)): MapView[] {
  return bed.maps.map((map) => {
    const typed = bed.typedMap(map.name);
    const was = before.get(map.name) ?? new Map<string, RawEntry>();
    const now = after.get(map.name) ?? new Map<string, RawEntry>();
    const type = bed.spec.maps.find((m) => m.name === map.name)?.typeName ?? String(map.type);
    const view: MapView = { name: map.name, type, entries: [], removed: [] };
    let shown = 0;
    for (const [k, e] of now) {
      if (shown++ >= MAX_VIEW_ENTRIES) continue;
      const old = was.get(k);
      view.entries.push({ key: decodeKey(typed, e.key), value: decodeValue(typed, e), status: !old ? 'added' : sameEntry(old, e) ? 'same' : 'changed' });
    }
    if (now.size > MAX_VIEW_ENTRIES) view.truncated = now.size - MAX_VIEW_ENTRIES;
    for (const [k, e] of was) {
      if (!now.has(k) && view.removed.length < MAX_VIEW_ENTRIES) view.removed.push({ key: decodeKey(typed, e.key), value: decodeValue(typed, e) });
    }
    return view;
  });
}

/** Entries that differ between two dumps of the same Testbed's maps (one packet's changes). */
export function mapChanges(bed: Testbed, before: MapsDump, after: MapsDump): MapChange[] {
  const changes: MapChange[] = [];
  for (const map of bed.maps) {
    const typed = bed.typedMap(map.name);
    const was = before.get(map.name) ?? new Map<string, RawEntry>();
    const now = after.get(map.name) ?? new Map<string, RawEntry>();
    for (const [k, e] of now) {
      const old = was.get(k);
      if (!old) changes.push({ map: map.name, key: decodeKey(typed, e.key), after: decodeValue(typed, e), kind: 'added' });
      else if (!sameEntry(old, e)) changes.push({ map: map.name, key: decodeKey(typed, e.key), before: decodeValue(typed, old), after: decodeValue(typed, e), kind: 'changed' });
    }
    for (const [k, e] of was) {
      if (!now.has(k)) changes.push({ map: map.name, key: decodeKey(typed, e.key), before: decodeValue(typed, e), kind: 'removed' });
    }
  }
  return changes;
}
