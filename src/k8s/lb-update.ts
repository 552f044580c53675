// Keeping the maps in step with a changing cluster: the writes and deletes that take one set of
// map entries to the next, in an order the datapath can run through at any point without
// finding a slot that names a missing backend, and a controller that holds the objects and the
// ids between changes (Cilium's agent: pkg/service/service.go upsertService/deleteServiceLocked
// over pkg/maps/lbmap/lbmap.go).
import type { TypedValue } from '../typed/typed-value.js';
import { buildLbMaps, LB_MAP_NAMES, type LbMapEntries, type LbMapName, type LbMapTarget, type LbPlan, type NodeInfo } from './lb-maps.js';
import { LbIds } from './lb-ids.js';
import type { ClusterObjects, EndpointSlice, Service } from './objects.js';

export type LbMapOp =
  | { op: 'set'; map: LbMapName; key: TypedValue; value: TypedValue }
  | { op: 'delete'; map: LbMapName; key: TypedValue };

const keyText = (key: unknown) => JSON.stringify(key);
const isSlotZero = (key: unknown) => typeof key === 'object' && key !== null && (key as { backend_slot?: number }).backend_slot === 0;

/**
 * The operations that turn maps holding `before` into maps holding `after`, ordered as Cilium
 * orders them: new backends first; then reverse NAT; then a frontend's backend slots before its
 * slot 0 (so a new count never points past written slots); then removals: slot 0 of a removed
 * frontend before its other slots, slots beyond a shrunk count after the new slot 0 (slot
 * compaction: the remaining backends were already moved down into slots 1..count), and backends
 * last, once no slot names them.
 */
export function diffLbEntries(before: LbMapEntries, after: LbMapEntries): LbMapOp[] {
  const sets: Record<'backends' | 'revnat' | 'slots' | 'slot0', LbMapOp[]> = { backends: [], revnat: [], slots: [], slot0: [] };
  const deletes: Record<'slot0' | 'slots' | 'revnat' | 'backends', LbMapOp[]> = { slot0: [], slots: [], revnat: [], backends: [] };
  for (const map of LB_MAP_NAMES) {
    const old = new Map((before[map] as { key: unknown; value: unknown }[]).map((e) => [keyText(e.key), e]));
    const now = new Map((after[map] as { key: unknown; value: unknown }[]).map((e) => [keyText(e.key), e]));
    const kind = map.endsWith('_backends') ? 'backends' : map.endsWith('_reverse_nat') ? 'revnat' : undefined;
    for (const [k, e] of now) {
      const prev = old.get(k);
      if (prev && keyText(prev.value) === keyText(e.value)) continue;
      const op: LbMapOp = { op: 'set', map, key: e.key as TypedValue, value: e.value as TypedValue };
      sets[kind ?? (isSlotZero(e.key) ? 'slot0' : 'slots')].push(op);
    }
    for (const [k, e] of old) {
      if (now.has(k)) continue;
      deletes[kind ?? (isSlotZero(e.key) ? 'slot0' : 'slots')].push({ op: 'delete', map, key: e.key as TypedValue });
    }
  }
  return [...sets.backends, ...sets.revnat, ...sets.slots, ...sets.slot0, ...deletes.slot0, ...deletes.slots, ...deletes.revnat, ...deletes.backends];
}

/** Runs `ops` against a testbed's maps; maps it lacks are skipped, deletes of absent keys ignored. */
export function applyOpsToTestbed(bed: LbMapTarget, ops: readonly LbMapOp[]): void {
  const present = new Set(bed.maps.map((m) => m.name));
  for (const op of ops) {
    if (!present.has(op.map)) continue;
    const map = bed.typedMap(op.map);
    const rc = op.op === 'set' ? map.set(op.key, op.value) : map.delete(op.key);
    if (rc === -2 && op.op === 'delete') continue; // ENOENT: already gone
    if (rc !== 0) throw new Error(`${op.map}: ${op.op} of ${keyText(op.key)} failed with ${rc}`);
  }
}

/**
 * The cluster as one node's agent sees it: Services and EndpointSlices come and go, and each
 * change gives the map operations to apply. Ids stay with their frontend and backend for as
 * long as these exist.
 */
export class LbController {
  private readonly services = new Map<string, Service>();
  private readonly slices = new Map<string, EndpointSlice>();
  private readonly ids = new LbIds();
  private current: LbPlan;

  constructor(
    readonly node: NodeInfo,
    initial?: ClusterObjects,
  ) {
    for (const s of initial?.services ?? []) this.services.set(`${s.namespace}/${s.name}`, s);
    for (const s of initial?.endpointSlices ?? []) this.slices.set(`${s.namespace}/${s.name}`, s);
    this.current = buildLbMaps(this.objects(), node, this.ids);
  }

  /** The frontends, backends and entries as they are now. */
  get plan(): LbPlan {
    return this.current;
  }

  get entries(): LbMapEntries {
    return this.current.entries;
  }

  objects(): ClusterObjects {
    return { services: [...this.services.values()], endpointSlices: [...this.slices.values()], ignored: [] };
  }

  upsertService(service: Service): LbMapOp[] {
    this.services.set(`${service.namespace}/${service.name}`, service);
    return this.rebuild();
  }

  deleteService(namespace: string, name: string): LbMapOp[] {
    this.services.delete(`${namespace}/${name}`);
    return this.rebuild();
  }

  upsertEndpointSlice(slice: EndpointSlice): LbMapOp[] {
    this.slices.set(`${slice.namespace}/${slice.name}`, slice);
    return this.rebuild();
  }

  deleteEndpointSlice(namespace: string, name: string): LbMapOp[] {
    this.slices.delete(`${namespace}/${name}`);
    return this.rebuild();
  }

  /** Replaces every object (a re-read cluster file); ids of what remains are kept. */
  replaceAll(cluster: ClusterObjects): LbMapOp[] {
    this.services.clear();
    this.slices.clear();
    for (const s of cluster.services) this.services.set(`${s.namespace}/${s.name}`, s);
    for (const s of cluster.endpointSlices) this.slices.set(`${s.namespace}/${s.name}`, s);
    return this.rebuild();
  }

  private rebuild(): LbMapOp[] {
    const next = buildLbMaps(this.objects(), this.node, this.ids);
    const ops = diffLbEntries(this.current.entries, next.entries);
    this.current = next;
    return ops;
  }
}
