// Map contents after a run, kernel against bpfbed: every map the kernel dumped, entry by entry.
// A map a parity rule names (src/scenario/parity.ts) is compared decoded, with the rule checked
// on each side's entries and the fields it covers replaced; any other map byte for byte.
import type { Testbed } from '../../testbed/testbed.js';
import { applyParity, mapHasParityRules, type AppliedEntry, type ParityContext } from '../../scenario/parity.js';
import type { ParityRule } from '../../scenario/types.js';

export interface RawEntry {
  key: Uint8Array;
  value: Uint8Array;
}

/**
 * The rule test/kernel/scenario-parity.test.ts used to hard-code for conntrack maps of
 * bpf/kpr/ct.h (ct_lifetime), for scenarios that do not declare their own `parity:` yet.
 */
export const LEGACY_PARITY_RULES: readonly ParityRule[] = ['ct4', 'ct6'].map((map) => ({
  rule: 'clock-deadline',
  map,
  field: 'expires_ns',
  since: 'created_ns',
  lifetimes: [
    { when: { proto: 6 }, bits: { flags: 2 }, seconds: 10 },
    { when: { proto: 6 }, bits: { flags: 1 }, seconds: 21600 },
    { seconds: 60 },
  ],
  slackSeconds: 60,
}));

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const json = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x instanceof Uint8Array ? hex(x) : x));

export type PacketLink = AppliedEntry['links'][number];

export interface MapComparison {
  /** Entries compared: per map, the larger side's count. */
  entries: number;
  maps: number;
  /** The scenario's rules that were applied. */
  rulesApplied: number;
  /** LEGACY_PARITY_RULES applied to maps the scenario declares nothing for. */
  legacyApplied: number;
  mismatches: string[];
  /** Output packet fields `same-in-both` rules linked to entries, per side: the value and the first packet carrying it. */
  links: { kernel: PacketLink[]; bpfbed: PacketLink[] };
}

/** The rules for `map`: the scenario's when it declares any for it, else the legacy table's. */
function rulesFor(map: string, rules: readonly ParityRule[] | undefined): readonly ParityRule[] {
  if (mapHasParityRules(rules, map)) return rules!;
  return LEGACY_PARITY_RULES.filter((r) => 'map' in r && r.map === map);
}

/**
 * Compares every map of `kernel` (global data sections excluded: `skipGlobals`) with the same map
 * of `bed`. `ctx` gives each side's sockets and output packets for `same-in-both`.
 */
export function compareMaps(
  bed: Testbed,
  kernel: Record<string, RawEntry[]>,
  rules: readonly ParityRule[] | undefined,
  ctx: { kernel?: ParityContext; bpfbed?: ParityContext } = {},
): MapComparison {
  const out: MapComparison = { entries: 0, maps: 0, rulesApplied: 0, legacyApplied: 0, mismatches: [], links: { kernel: [], bpfbed: [] } };
  for (const [name, theirs] of Object.entries(kernel)) {
    if (name.includes('.')) continue; // global data: compared after load, not as run state
    const mine = bed.map(name).dump().entries;
    out.maps++;
    out.entries += Math.max(mine.length, theirs.length);
    const applicable = rulesFor(name, rules);
    let render: (e: RawEntry, side: 'kernel' | 'bpfbed') => string;
    if (applicable.length > 0) {
      const n = applicable.filter((r) => 'map' in r && r.map === name).length;
      if (mapHasParityRules(rules, name)) out.rulesApplied += n;
      else out.legacyApplied += n;
      const typed = bed.typedMap(name);
      render = (e, side) => {
        const applied = applyParity(applicable, name, { key: typed.decodeKey(e.key), value: typed.decodeValue(e.value) }, ctx[side]);
        for (const p of applied.problems) out.mismatches.push(`${side}: ${p} (entry ${json(typed.decodeKey(e.key))})`);
        out.links[side].push(...applied.links);
        return json({ key: applied.key, value: applied.value });
      };
    } else {
      let typed: ReturnType<Testbed['typedMap']> | undefined;
      try {
        typed = bed.typedMap(name);
      } catch {
        typed = undefined;
      }
      // byte for byte; shown decoded when the map has BTF, so a mismatch reads as fields
      render = (e) => `${hex(e.key)}=${hex(e.value)}`;
      const show = (text: string) => {
        if (!typed) return text;
        const [k, v] = text.split('=');
        const bytes = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));
        try {
          return `${json(typed.decodeKey(bytes(k)))} = ${json(typed.decodeValue(bytes(v)))}`;
        } catch {
          return text;
        }
      };
      const a = mine.map((e) => render(e, 'bpfbed')).sort();
      const b = theirs.map((e) => render(e, 'kernel')).sort();
      diffSets(name, a, b, show, out.mismatches);
      continue;
    }
    const a = mine.map((e) => render(e, 'bpfbed')).sort();
    const b = theirs.map((e) => render(e, 'kernel')).sort();
    diffSets(name, a, b, (t) => t, out.mismatches);
  }
  return out;
}

function diffSets(map: string, bpfbed: string[], kernel: string[], show: (t: string) => string, into: string[]): void {
  const count = (xs: string[]) => xs.reduce((m, x) => m.set(x, (m.get(x) ?? 0) + 1), new Map<string, number>());
  const a = count(bpfbed);
  const b = count(kernel);
  for (const [x, n] of a) if ((b.get(x) ?? 0) < n) into.push(`map ${map}: only in bpfbed: ${show(x)}`);
  for (const [x, n] of b) if ((a.get(x) ?? 0) < n) into.push(`map ${map}: only in the kernel: ${show(x)}`);
}
