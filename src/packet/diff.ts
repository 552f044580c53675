// Field-by-field differences between a program's input and output packet, e.g.
//   ip.dst 10.96.0.10 -> 10.0.1.5
//   tcp.srcport 51234 -> 40001
//   ip.checksum 0x1c46 -> 0x2a1f (good)
//   + vxlan (8 bytes at byte 42): vxlan.vni=42
// Layers are paired by an alignment of the two layer stacks (same protocol, in order, preferring
// pairs whose fields agree), so an added encapsulation shows up as added outer layers while the
// original headers, now inner, are compared with themselves.

import { type DecodedLayer, type DecodedPacket, depthPrefix, hex, type PacketField } from './fields.js';

export type FieldChange =
  | { kind: 'length'; before: number; after: number }
  | { kind: 'layer-added'; layer: DecodedLayer }
  | { kind: 'layer-removed'; layer: DecodedLayer }
  | { kind: 'field-changed'; name: string; before: PacketField; after: PacketField }
  | { kind: 'field-added'; name: string; after: PacketField }
  | { kind: 'field-removed'; name: string; before: PacketField }
  | { kind: 'malformed'; before?: string; after?: string };

/** A field's name without its tunnel prefix, with its occurrence number in the layer (options
 *  repeat: the second `tcp.option_kind` is `tcp.option_kind#2`). */
function fieldKeys(layer: DecodedLayer): Map<string, PacketField> {
  const prefixLength = depthPrefix(layer.depth).length;
  const keys = new Map<string, PacketField>();
  let seen: Map<string, number> | undefined;
  for (const f of layer.fields) {
    const base = prefixLength ? f.name.slice(prefixLength) : f.name;
    if (!keys.has(base)) {
      keys.set(base, f);
      continue;
    }
    seen ??= new Map();
    const n = (seen.get(base) ?? 1) + 1;
    seen.set(base, n);
    keys.set(`${base}#${n}`, f);
  }
  return keys;
}

function sameField(a: PacketField, b: PacketField): boolean {
  return a.value === b.value && a.display === b.display && a.status === b.status;
}

/** How well two layers pair up: 0 if they cannot (different protocols), else 1 plus the share
 *  of fields that are equal, plus a little for staying at the same tunnel depth. */
function pairScore(a: DecodedLayer, b: DecodedLayer, ka: Map<string, PacketField>, kb: Map<string, PacketField>): number {
  if (a.protocol !== b.protocol) return 0;
  let equal = 0;
  for (const [key, f] of ka) {
    const g = kb.get(key);
    if (g && sameField(f, g)) equal++;
  }
  return 1 + equal / Math.max(1, ka.size, kb.size) + (a.depth === b.depth ? 0.1 : 0);
}

type Step = { pair: [number, number] } | { removed: number } | { added: number };

/** Best order-preserving pairing of the two layer lists (a weighted longest common subsequence). */
function alignLayers(a: DecodedLayer[], b: DecodedLayer[]): Step[] {
  const n = a.length;
  const m = b.length;
  // The common case (a rewrite that keeps the headers): the same protocols in the same order.
  if (n === m && a.every((layer, i) => layer.protocol === b[i].protocol && layer.depth === b[i].depth)) {
    return a.map((_, i) => ({ pair: [i, i] }));
  }
  const best: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  const keysA = a.map(fieldKeys);
  const keysB = b.map(fieldKeys);
  const score: number[][] = Array.from({ length: n }, (_, i) => b.map((_, j) => pairScore(a[i], b[j], keysA[i], keysB[j])));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      const pair = score[i][j] > 0 ? score[i][j] + best[i + 1][j + 1] : -1;
      best[i][j] = Math.max(pair, best[i + 1][j], best[i][j + 1]);
    }
  }
  const steps: Step[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (score[i][j] > 0 && best[i][j] === score[i][j] + best[i + 1][j + 1]) steps.push({ pair: [i++, j++] });
    else if (best[i][j] === best[i + 1][j]) steps.push({ removed: i++ });
    else steps.push({ added: j++ });
  }
  while (i < n) steps.push({ removed: i++ });
  while (j < m) steps.push({ added: j++ });
  return steps;
}

/** What differs between `before` and `after`, outermost layer first. */
export function diffPackets(before: DecodedPacket, after: DecodedPacket): FieldChange[] {
  const changes: FieldChange[] = [];
  if (before.length !== after.length) changes.push({ kind: 'length', before: before.length, after: after.length });
  for (const step of alignLayers(before.layers, after.layers)) {
    if ('removed' in step) changes.push({ kind: 'layer-removed', layer: before.layers[step.removed] });
    else if ('added' in step) changes.push({ kind: 'layer-added', layer: after.layers[step.added] });
    else {
      const lb = before.layers[step.pair[0]];
      const la = after.layers[step.pair[1]];
      const kb = fieldKeys(lb);
      const ka = fieldKeys(la);
      // Changes are named as in the output packet, with the occurrence for repeated fields.
      for (const [key, f] of kb) {
        const g = ka.get(key);
        if (!g) changes.push({ kind: 'field-removed', name: depthPrefix(lb.depth) + key, before: f });
        else if (!sameField(f, g)) changes.push({ kind: 'field-changed', name: depthPrefix(la.depth) + key, before: f, after: g });
      }
      for (const [key, g] of ka) if (!kb.has(key)) changes.push({ kind: 'field-added', name: depthPrefix(la.depth) + key, after: g });
    }
  }
  if (before.malformed !== after.malformed) {
    const change: FieldChange = { kind: 'malformed' };
    if (before.malformed !== undefined) change.before = before.malformed;
    if (after.malformed !== undefined) change.after = after.malformed;
    changes.push(change);
  }
  return changes;
}

/** Fields worth naming when a whole layer comes or goes. */
const KEY_FIELDS = new Set([
  'eth.src',
  'eth.dst',
  'eth.type',
  'vlan.id',
  'ieee8021ad.id',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'vxlan.vni',
  'geneve.vni',
  'icmp.type',
  'icmpv6.type',
  'arp.opcode',
]);

function describeLayer(layer: DecodedLayer): string {
  const prefix = depthPrefix(layer.depth);
  const keys = layer.fields.filter((f) => KEY_FIELDS.has(f.name.slice(prefix.length))).map((f) => `${f.name}=${f.display}`);
  const head = `${prefix}${layer.protocol} (${layer.length} bytes at byte ${layer.offset})`;
  return keys.length ? `${head}: ${keys.join(' ')}` : head;
}

function checksumNote(f: PacketField): string {
  if (f.status === 'bad') return f.expected !== undefined ? ` (bad, expected ${hex(f.expected, 4)})` : ' (bad)';
  return f.status ? ` (${f.status})` : '';
}

/** One line per change. */
export function formatDiff(changes: FieldChange[]): string[] {
  return changes.map((c) => {
    switch (c.kind) {
      case 'length': {
        const delta = c.after - c.before;
        return `length ${c.before} -> ${c.after} (${delta > 0 ? '+' : ''}${delta})`;
      }
      case 'layer-added':
        return `+ ${describeLayer(c.layer)}`;
      case 'layer-removed':
        return `- ${describeLayer(c.layer)}`;
      case 'field-changed': {
        // A header that moved into a tunnel keeps its key but changes prefix: show both names.
        const name = c.before.name === c.after.name ? c.name : `${c.before.name} -> ${c.name}`;
        if (c.after.status !== undefined && c.before.display === c.after.display) {
          const expected = c.after.status === 'bad' && c.after.expected !== undefined ? `, expected ${hex(c.after.expected, 4)}` : '';
          return `${name} ${c.after.display} (${c.before.status} -> ${c.after.status}${expected})`;
        }
        return `${name} ${c.before.display} -> ${c.after.display}${checksumNote(c.after)}`;
      }
      case 'field-added':
        return `+ ${c.name} ${c.after.display}`;
      case 'field-removed':
        return `- ${c.name} ${c.before.display}`;
      case 'malformed':
        return `malformed: ${c.before ?? 'no'} -> ${c.after ?? 'no'}`;
    }
  });
}
