// Writing Maglev tables (lb-maps.ts MaglevTableEntry) into a testbed, the way Cilium's agent
// writes them (pkg/maps/lbmap/maglev.go updateMaglevTable): for each service a fresh inner array
// map from the outer map's inner-map template (one element, key 0, the M backend ids as its
// value), then the outer map's entry for the service's rev_nat_index set to it. A replaced
// inner map is released once the outer entry no longer names it.
import { createMap } from '../maps/registry.js';
import type { MapDefinition } from '../maps/types.js';
import type { Testbed } from '../testbed/testbed.js';
import type { MaglevTableEntry } from './lb-maps.js';

/** The outer maps of bpf/kpr/maglev.h. */
export const LB_MAGLEV_MAPS = { IPv4: 'lb4_maglev', IPv6: 'lb6_maglev' } as const;

/** What a testbed must offer (a Testbed, or a stand-in). */
export type MaglevTarget = Pick<Testbed, 'maps' | 'map' | 'spec' | 'machine' | 'registry'>;

export interface MaglevApplySummary {
  /** Tables written per outer map. */
  written: Partial<Record<(typeof LB_MAGLEV_MAPS)[keyof typeof LB_MAGLEV_MAPS], number>>;
  /** The inner maps created, by rev_nat_index and family: what a kernel runner must recreate. */
  inner: { outer: string; revNatIndex: number; mapId: number }[];
}

const u32 = (n: number) => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  return b;
};

/**
 * Writes every table into lb4_maglev / lb6_maglev. An object without the outer map of a family
 * skips that family's tables. Throws when the object's inner map does not hold M ids (its
 * LB_MAGLEV_LUT_SIZE differs from the control plane's table size).
 */
export function applyMaglevToTestbed(bed: MaglevTarget, tables: readonly MaglevTableEntry[]): MaglevApplySummary {
  const summary: MaglevApplySummary = { written: {}, inner: [] };
  const present = new Set(bed.maps.map((m) => m.name));
  for (const t of tables) {
    const outerName = LB_MAGLEV_MAPS[t.family];
    if (!present.has(outerName)) continue;
    const outer = bed.map(outerName);
    const template = bed.spec.maps.find((m) => m.name === outerName)?.innerMap;
    if (!template) throw new Error(`${outerName}: the object gives no inner map template (a map of maps needs __array(values, ...))`);
    if (template.valueSize !== t.table.length * 4 || template.keySize !== 4) {
      throw new Error(
        `${outerName}: the inner map holds ${template.valueSize / 4} backend ids (LB_MAGLEV_LUT_SIZE of the object), the table of service ${t.revNatIndex} has ${t.table.length} (node.maglevTableSize): they must agree`,
      );
    }
    const def: MapDefinition = { name: `${outerName}_inner`, type: template.type, keySize: template.keySize, valueSize: template.valueSize, maxEntries: template.maxEntries, flags: template.flags };
    const inner = createMap(bed.machine, def, { registry: bed.registry });
    const value = new Uint8Array(t.table.length * 4);
    const view = new DataView(value.buffer);
    t.table.forEach((id, i) => view.setUint32(i * 4, id, true));
    let rc = inner.update(u32(0), value, 0);
    if (rc !== 0) throw new Error(`${outerName}: writing the table of service ${t.revNatIndex} into its inner map failed with ${rc}`);
    const key = u32(t.revNatIndex);
    const before = outer.read(key);
    rc = outer.update(key, u32(inner.id), 0);
    if (rc !== 0) throw new Error(`${outerName}: setting service ${t.revNatIndex} to inner map ${inner.id} failed with ${rc}${rc === -7 ? ' (E2BIG: the map is full)' : ''}`);
    if (before) {
      const old = bed.registry.byId(new DataView(before.buffer, before.byteOffset).getUint32(0, true));
      if (old) bed.registry.remove(old);
    }
    summary.written[outerName] = (summary.written[outerName] ?? 0) + 1;
    summary.inner.push({ outer: outerName, revNatIndex: t.revNatIndex, mapId: inner.id });
  }
  return summary;
}
