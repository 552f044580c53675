// Services and EndpointSlices turned into the entries of the load-balancer maps of
// bpf/kpr/lb.h, the way Cilium's agent fills its lb4/lb6 maps (pkg/service/service.go
// upsertService, pkg/maps/lbmap/lbmap.go UpsertService):
//   - one service entry per frontend (address, port, protocol): each ClusterIP, each node
//     address with the nodePort, the "any local address" (0.0.0.0 / ::) with the nodePort,
//     each externalIP and each status.loadBalancer ingress IP;
//   - slot 0 of a frontend holds count, rev_nat_index, flags and, with ClientIP affinity, the
//     affinity timeout in backend_id; slots 1..count hold backend ids;
//   - backends shared by (address, port, protocol), with ids that stay stable (lb-ids.ts);
//   - one reverse-NAT entry per frontend, keyed by its rev_nat_index.
// Endpoint selection follows kube-proxy (pkg/proxy/topology.go CategorizeEndpoints, KEP-1669):
// ready endpoints, or, when none is ready, the serving terminating ones.
import type { Testbed } from '../testbed/testbed.js';
import type { TypedValue } from '../typed/typed-value.js';
import { parseIPv4, parseIPv6 } from '../env/addr.js';
import { canonicalIP, familyOf, K8sObjectError, type ClusterObjects, type EndpointSlice, type IPFamily, type Protocol, type Service, type ServicePort } from './objects.js';
import { LbIds } from './lb-ids.js';
import { checkTableSize, MAGLEV_DEFAULT_TABLE_SIZE, maglevTable } from './maglev.js';

/** lb4_service.flags (bpf/kpr/lb.h SVC_FLAG_*). */
export const SVC_FLAG_EXTERNAL_IP = 1 << 0;
export const SVC_FLAG_NODEPORT = 1 << 1;
export const SVC_FLAG_LOCAL_SCOPE = 1 << 2;
export const SVC_FLAG_HOSTPORT = 1 << 3;
export const SVC_FLAG_AFFINITY = 1 << 4;
export const SVC_FLAG_LOADBALANCER = 1 << 5;
export const SVC_FLAG_ROUTABLE = 1 << 6;
export const SVC_FLAG_DSR = 1 << 7;
/** lb4_service.flags2 (bpf/kpr/lb.h SVC_FLAG2_*). */
export const SVC_FLAG2_MAGLEV = 1 << 0;
/** lb4_key.scope (bpf/kpr/lb.h LB_LOOKUP_SCOPE_*). */
export const LB_LOOKUP_SCOPE_EXT = 0;
export const LB_LOOKUP_SCOPE_INT = 1;
/** lb4_backend.flags (bpf/kpr/lb.h BE_STATE_*). */
export const BE_STATE_ACTIVE = 0;
export const BE_STATE_TERMINATING = 1;
/** include/uapi/linux/in.h */
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

const PROTO_NUMBER: Record<Protocol, number> = { TCP: IPPROTO_TCP, UDP: IPPROTO_UDP };

/** The node the maps are for. */
export interface NodeInfo {
  /** Matched against EndpointSlice endpoints' nodeName. */
  name: string;
  /** The node's own addresses: NodePort frontends, one per address (plus the any-address one). */
  addresses: string[];
  /** Backend (pod) addresses on this node and the ifindex of each one's device. */
  podDevices?: Record<string, number>;
  /**
   * How the datapath picks a new connection's backend (Cilium's --bpf-lb-algorithm): 'random'
   * (default; this datapath: a hash of the tuple over the backend slots) or 'maglev' (the
   * frontend's Maglev table, bpf/kpr/maglev.h, for the frontends Cilium gives one: see maglevFor).
   */
  lbAlgorithm?: 'random' | 'maglev';
  /** M, the Maglev table size (Cilium's --bpf-lb-maglev-table-size): a prime; default 251. */
  maglevTableSize?: number;
}

/** struct lb4_key / lb6_key in typed form (pad omitted: zero). */
export interface LbKey {
  address: string;
  dport: number;
  backend_slot: number;
  proto: number;
  scope: number;
}

/** struct lb4_service / lb6_service. */
export interface LbServiceValue {
  backend_id: number;
  count: number;
  rev_nat_index: number;
  flags: number;
  flags2: number;
}

/** struct lb4_backend / lb6_backend. */
export interface LbBackendValue {
  address: string;
  port: number;
  proto: number;
  flags: number;
  ifindex: number;
}

/** struct lb4_reverse_nat / lb6_reverse_nat. */
export interface LbRevNatValue {
  address: string;
  port: number;
}

export interface LbEntry<K, V> {
  key: K;
  value: V;
}

/** Every entry of the six maps, each list sorted (see sortEntries). */
export interface LbMapEntries {
  lb4_services: LbEntry<LbKey, LbServiceValue>[];
  lb4_backends: LbEntry<number, LbBackendValue>[];
  lb4_reverse_nat: LbEntry<number, LbRevNatValue>[];
  lb6_services: LbEntry<LbKey, LbServiceValue>[];
  lb6_backends: LbEntry<number, LbBackendValue>[];
  lb6_reverse_nat: LbEntry<number, LbRevNatValue>[];
}

export type LbMapName = keyof LbMapEntries;
export const LB_MAP_NAMES: readonly LbMapName[] = ['lb4_services', 'lb4_backends', 'lb4_reverse_nat', 'lb6_services', 'lb6_backends', 'lb6_reverse_nat'];

export type FrontendKind = 'ClusterIP' | 'NodePort' | 'ExternalIP' | 'LoadBalancer';

/** One service entry (slot 0) and what it stands for: for tests, the CLI and the playground. */
export interface Frontend {
  /** namespace/name */
  service: string;
  /** The Service port's name ('' when unnamed). */
  portName: string;
  kind: FrontendKind;
  family: IPFamily;
  address: string;
  port: number;
  proto: number;
  flags: number;
  revNatIndex: number;
  /** Slot 1..count, in order. */
  backendIds: number[];
}

export interface Backend {
  id: number;
  family: IPFamily;
  address: string;
  port: number;
  proto: number;
  state: 'active' | 'terminating';
  /** The pod's device on this node; 0 for a backend elsewhere. */
  ifindex: number;
}

/** A frontend's Maglev lookup table: what lb4_maglev / lb6_maglev hold under its rev_nat_index. */
export interface MaglevTableEntry {
  family: IPFamily;
  revNatIndex: number;
  /** M backend ids (src/k8s/maglev.ts maglevTable). */
  table: number[];
}

export interface LbPlan {
  frontends: Frontend[];
  backends: Backend[];
  entries: LbMapEntries;
  /** With lbAlgorithm 'maglev': one table per frontend that uses Maglev and has backends. */
  maglev: MaglevTableEntry[];
  /** Things that were skipped or looked wrong, one sentence each. */
  warnings: string[];
}

/** A backend as one Service port sees it. */
interface Candidate {
  address: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  local: boolean;
  ifindex: number;
}

const ANY_ADDRESS: Record<IPFamily, string> = { IPv4: '0.0.0.0', IPv6: '::' };
const frontendKey = (address: string, port: number, proto: number) => `${address}|${port}|${proto}`;
const backendKey = (address: string, port: number, proto: number) => `${address}|${port}|${proto}`;

/**
 * The port a slice serves a Service port on. The EndpointSlice controller names slice ports
 * after the Service port and writes the resolved target port number
 * (pkg/controller/endpointslice/util.go getEndpointPorts), and kube-proxy matches on that name
 * (pkg/proxy/endpointslicecache.go); hand-written slices may instead name the port after a
 * named targetPort, or list no ports, in which case a numeric targetPort is used.
 */
function slicePort(svcPort: ServicePort, slice: EndpointSlice): number | undefined {
  const byName = (name: string) => slice.ports.find((p) => p.name === name && p.protocol === svcPort.protocol && p.port !== undefined)?.port;
  const named = byName(svcPort.name);
  if (named !== undefined) return named;
  if (typeof svcPort.targetPort === 'string') return byName(svcPort.targetPort);
  return slice.ports.length === 0 ? svcPort.targetPort : undefined;
}

/** kube-proxy's choice (pkg/proxy/topology.go CategorizeEndpoints): ready ones, else serving terminating ones. */
function usable(cands: Candidate[]): Candidate[] {
  const ready = cands.filter((c) => c.ready);
  return ready.length > 0 ? ready : cands.filter((c) => c.serving && c.terminating);
}

function addressBytes(address: string): Uint8Array {
  return address.includes(':') ? parseIPv6(address) : parseIPv4(address);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

const compareAddress = (a: string, b: string) => compareBytes(addressBytes(a), addressBytes(b));
/** Code-unit order: the same in every locale, unlike localeCompare. */
const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function compareKeys(a: LbKey, b: LbKey): number {
  return compareAddress(a.address, b.address) || a.dport - b.dport || a.proto - b.proto || a.scope - b.scope || a.backend_slot - b.backend_slot;
}

function checkNode(node: NodeInfo): NodeInfo {
  if (!node || typeof node.name !== 'string' || node.name === '') throw new K8sObjectError('node.name: must be a non-empty string');
  if (!Array.isArray(node.addresses)) throw new K8sObjectError('node.addresses: must be a list of IP addresses');
  const canon = (text: unknown, path: string) => {
    try {
      if (typeof text !== 'string') throw new Error(`must be an IP address, got ${JSON.stringify(text)}`);
      return canonicalIP(text);
    } catch (err) {
      throw new K8sObjectError(`${path}: ${(err as Error).message}`);
    }
  };
  const podDevices: Record<string, number> = {};
  for (const [ip, ifindex] of Object.entries(node.podDevices ?? {})) {
    if (!Number.isInteger(ifindex) || ifindex < 1 || ifindex > 0xffffffff) throw new K8sObjectError(`node.podDevices['${ip}']: must be an ifindex (a positive integer), got ${JSON.stringify(ifindex)}`);
    podDevices[canon(ip, `node.podDevices['${ip}']`)] = ifindex;
  }
  if (node.lbAlgorithm !== undefined && node.lbAlgorithm !== 'random' && node.lbAlgorithm !== 'maglev') {
    throw new K8sObjectError(`node.lbAlgorithm: must be 'random' or 'maglev', got ${JSON.stringify(node.lbAlgorithm)}`);
  }
  let maglevTableSize = MAGLEV_DEFAULT_TABLE_SIZE;
  if (node.maglevTableSize !== undefined) {
    try {
      maglevTableSize = checkTableSize(node.maglevTableSize, 'node.maglevTableSize');
    } catch (err) {
      throw new K8sObjectError((err as Error).message);
    }
  }
  return {
    name: node.name,
    addresses: node.addresses.map((a, i) => canon(a, `node.addresses[${i}]`)),
    podDevices,
    lbAlgorithm: node.lbAlgorithm ?? 'random',
    maglevTableSize,
  };
}

/**
 * The map entries for `cluster` on `node`. Pass the same `ids` to successive calls to keep
 * service and backend ids stable across updates (ids of frontends and backends that are gone
 * are released). Output is sorted, so equal input gives equal output.
 */
export function buildLbMaps(cluster: ClusterObjects, nodeIn: NodeInfo, ids: LbIds = new LbIds()): LbPlan {
  const node = checkNode(nodeIn);
  const warnings: string[] = [];
  const services = [...cluster.services].sort((a, b) => compareText(`${a.namespace}/${a.name}`, `${b.namespace}/${b.name}`));
  const slicesOf = new Map<string, EndpointSlice[]>();
  for (const slice of [...cluster.endpointSlices].sort((a, b) => compareText(a.name, b.name))) {
    const id = `${slice.namespace}/${slice.serviceName}`;
    slicesOf.set(id, [...(slicesOf.get(id) ?? []), slice]);
  }
  for (const id of slicesOf.keys()) {
    if (!services.some((s) => `${s.namespace}/${s.name}` === id)) warnings.push(`EndpointSlices of ${id} name no Service that was given; they are ignored`);
  }

  interface Draft {
    frontend: Omit<Frontend, 'revNatIndex' | 'backendIds'>;
    backends: Candidate[];
    affinityTimeout: number;
  }
  const drafts: Draft[] = [];
  const claimed = new Map<string, string>();
  const backendStates = new Map<string, { family: IPFamily; address: string; port: number; proto: number; active: boolean; ifindex: number }>();

  for (const svc of services) {
    if (svc.type === 'ExternalName') continue; // a DNS alias: nothing to program (kube-proxy skips it too)
    const svcId = `${svc.namespace}/${svc.name}`;
    const slices = slicesOf.get(svcId) ?? [];
    const affinity = svc.sessionAffinity === 'ClientIP';
    for (const svcPort of svc.ports) {
      const proto = PROTO_NUMBER[svcPort.protocol];
      for (const family of ['IPv4', 'IPv6'] as const) {
        const cands = candidatesFor(svc, svcPort, family, slices, node, warnings);
        for (const c of cands) {
          if (!c.ready && !(c.serving && c.terminating)) continue;
          // A serving terminating backend stays in the backend map (existing connections keep
          // reaching it, KEP-1669 graceful termination) even when no slot names it.
          const key = backendKey(c.address, c.port, proto);
          const prev = backendStates.get(key);
          backendStates.set(key, { family, address: c.address, port: c.port, proto, active: (prev?.active ?? false) || c.ready, ifindex: c.ifindex });
        }
        const clusterWide = usable(cands);
        const nodeLocal = usable(cands.filter((c) => c.local));
        const base = affinity ? SVC_FLAG_AFFINITY : 0;
        // externalTrafficPolicy: Local applies to traffic from outside (NodePort, externalIPs,
        // LoadBalancer); internalTrafficPolicy: Local to the ClusterIP (KEP-2086). The datapath
        // only sees LOCAL_SCOPE on the former (Cilium's SVC_FLAG_EXT_LOCAL_SCOPE).
        const external = svc.externalTrafficPolicy === 'Local' ? nodeLocal : clusterWide;
        const externalFlags = base | SVC_FLAG_ROUTABLE | (svc.externalTrafficPolicy === 'Local' ? SVC_FLAG_LOCAL_SCOPE : 0);
        const add = (kind: FrontendKind, address: string, port: number, flags: number, backends: Candidate[]) => {
          const key = frontendKey(address, port, proto);
          const owner = claimed.get(key);
          if (owner) {
            warnings.push(`${svc.source}: ${kind} frontend ${address} port ${port}/${svcPort.protocol} is already a frontend of ${owner}; kept there`);
            return;
          }
          claimed.set(key, svcId);
          drafts.push({
            frontend: { service: svcId, portName: svcPort.name, kind, family, address, port, proto, flags },
            backends,
            affinityTimeout: affinity ? svc.affinityTimeoutSeconds : 0,
          });
        };
        for (const ip of svc.clusterIPs.filter((a) => familyOf(a) === family)) {
          // Cilium marks ClusterIP frontends not routable (reachable from inside the cluster only).
          add('ClusterIP', ip, svcPort.port, base, svc.internalTrafficPolicy === 'Local' ? nodeLocal : clusterWide);
        }
        if (svcPort.nodePort !== undefined && svc.ipFamilies.includes(family)) {
          const nodePortFlags = externalFlags | SVC_FLAG_NODEPORT;
          for (const ip of node.addresses.filter((a) => familyOf(a) === family)) add('NodePort', ip, svcPort.nodePort, nodePortFlags, external);
          // The surrogate frontend for "any local address" (Cilium's zero-address NodePort
          // frontend): what the datapath looks up for a local address it has no entry for.
          add('NodePort', ANY_ADDRESS[family], svcPort.nodePort, nodePortFlags, external);
        }
        for (const ip of svc.externalIPs.filter((a) => familyOf(a) === family)) add('ExternalIP', ip, svcPort.port, externalFlags | SVC_FLAG_EXTERNAL_IP, external);
        for (const ip of svc.loadBalancerIPs.filter((a) => familyOf(a) === family)) add('LoadBalancer', ip, svcPort.port, externalFlags | SVC_FLAG_LOADBALANCER, external);
      }
    }
  }

  // Ids: backends in address order, then frontends in service order, so that a fresh build
  // numbers them the same way every time; known keys keep the ids they had.
  const backendKeys = [...backendStates.entries()].sort(([, a], [, b]) => (a.family === b.family ? 0 : a.family === 'IPv4' ? -1 : 1) || compareAddress(a.address, b.address) || a.port - b.port || a.proto - b.proto);
  const backends: Backend[] = backendKeys.map(([key, b]) => ({
    id: ids.backends.acquire(key),
    family: b.family,
    address: b.address,
    port: b.port,
    proto: b.proto,
    state: b.active ? 'active' : 'terminating',
    ifindex: b.ifindex,
  }));
  ids.backends.retainOnly(new Set(backendStates.keys()));

  const frontends: Frontend[] = drafts.map((d) => {
    const revNatIndex = ids.services.acquire(frontendKey(d.frontend.address, d.frontend.port, d.frontend.proto));
    const backendIds = d.backends.map((c) => ids.backends.peek(backendKey(c.address, c.port, d.frontend.proto))!).sort((a, b) => a - b);
    return { ...d.frontend, revNatIndex, backendIds };
  });
  ids.services.retainOnly(new Set(claimed.keys()));

  const useMaglev = frontends.map((f) => node.lbAlgorithm === 'maglev' && maglevFor(f));
  const entries = entriesOf(frontends, backends, drafts.map((d) => d.affinityTimeout), useMaglev);
  const byId = new Map(backends.map((b) => [b.id, b]));
  const maglev: MaglevTableEntry[] = frontends
    .filter((f, i) => useMaglev[i] && f.backendIds.length > 0)
    .map((f) => ({
      family: f.family,
      revNatIndex: f.revNatIndex,
      table: maglevTable(f.backendIds.map((id) => ({ name: maglevBackendName(byId.get(id)!), id })), node.maglevTableSize),
    }))
    .sort((a, b) => a.revNatIndex - b.revNatIndex);
  return { frontends, backends: backends.sort((a, b) => a.id - b.id), entries, warnings, maglev };
}

function candidatesFor(svc: Service, svcPort: ServicePort, family: IPFamily, slices: EndpointSlice[], node: NodeInfo, warnings: string[]): Candidate[] {
  const byAddress = new Map<string, Candidate>();
  let matched = false;
  const ofFamily = slices.filter((s) => s.addressType === family);
  for (const slice of ofFamily) {
    const port = slicePort(svcPort, slice);
    if (port === undefined) continue;
    matched = true;
    for (const e of slice.endpoints) {
      // "clients may choose to only use the first element" (discovery/v1 Endpoint.addresses);
      // kube-proxy does.
      const address = e.addresses[0];
      const device = node.podDevices?.[address];
      const local = e.nodeName !== undefined ? e.nodeName === node.name : device !== undefined;
      if (local && device === undefined) warnings.push(`${slice.source}: endpoint ${address} is on node ${node.name} but node.podDevices gives no device for it; ifindex 0`);
      const cand: Candidate = { address, port, ready: e.ready, serving: e.serving, terminating: e.terminating, local, ifindex: device ?? 0 };
      const key = `${address}|${port}`;
      const prev = byAddress.get(key);
      // the same endpoint in two slices (a slice being replaced): the readier reading wins
      if (!prev || (cand.ready && !prev.ready) || (cand.serving && !prev.serving)) byAddress.set(key, cand);
    }
  }
  if (!matched && ofFamily.length > 0) {
    const target = typeof svcPort.targetPort === 'string' ? `targetPort '${svcPort.targetPort}'` : `port name '${svcPort.name}'`;
    warnings.push(`${svc.source}: no ${family} EndpointSlice has a port matching ${target} (${svcPort.protocol}); port ${svcPort.port} has no backends`);
  }
  return [...byAddress.values()];
}

/**
 * Whether Cilium gives a frontend a Maglev table under --bpf-lb-algorithm=maglev: the frontends
 * reachable from outside the node (NodePort, externalIPs, LoadBalancer), not a ClusterIP
 * (pkg/service/service.go useMaglev; a ClusterIP only with --bpf-lb-external-clusterip, not
 * modelled here), whose connections from inside are balanced by the socket hooks anyway.
 */
export function maglevFor(f: Pick<Frontend, 'kind'>): boolean {
  return f.kind !== 'ClusterIP';
}

/**
 * The name a backend is hashed by: the same on every node, unlike its id (pkg/maglev
 * GetLookupTable sorts and hashes backend names). Cilium's name is the backend's L3n4Addr
 * string; this uses "address:port/PROTO" ("[address]:port/PROTO" for IPv6) in that spirit, so a
 * table equals Cilium's only where the names agree.
 */
export function maglevBackendName(b: Pick<Backend, 'address' | 'port' | 'proto'>): string {
  const proto = b.proto === IPPROTO_TCP ? 'TCP' : b.proto === IPPROTO_UDP ? 'UDP' : `${b.proto}`;
  return `${b.address.includes(':') ? `[${b.address}]` : b.address}:${b.port}/${proto}`;
}

function entriesOf(frontends: Frontend[], backends: Backend[], affinityTimeouts: number[], useMaglev: boolean[]): LbMapEntries {
  const out: LbMapEntries = { lb4_services: [], lb4_backends: [], lb4_reverse_nat: [], lb6_services: [], lb6_backends: [], lb6_reverse_nat: [] };
  frontends.forEach((f, i) => {
    const v = f.family === 'IPv4' ? 4 : 6;
    const services = out[`lb${v}_services`];
    // fields in struct lb4_key order, so that printed entries read like the struct
    const key = (slot: number): LbKey => ({ address: f.address, dport: f.port, backend_slot: slot, proto: f.proto, scope: LB_LOOKUP_SCOPE_EXT });
    services.push({
      key: key(0),
      value: { backend_id: affinityTimeouts[i], count: f.backendIds.length, rev_nat_index: f.revNatIndex, flags: f.flags, flags2: useMaglev[i] ? SVC_FLAG2_MAGLEV : 0 },
    });
    // Backend slots repeat the frontend's rev_nat_index and flags (count 0), so a datapath that
    // holds only a slot entry still knows its service; the datapath reads count and the affinity
    // timeout from slot 0 only (Cilium: lb4_lookup_service, then lb4_lookup_backend_slot).
    f.backendIds.forEach((id, slot) => {
      // The slots stay written with Maglev too: programs without the Maglev maps (sock.c, the
      // XDP fast path) still pick from them.
      services.push({ key: key(slot + 1), value: { backend_id: id, count: 0, rev_nat_index: f.revNatIndex, flags: f.flags, flags2: useMaglev[i] ? SVC_FLAG2_MAGLEV : 0 } });
    });
    out[`lb${v}_reverse_nat`].push({ key: f.revNatIndex, value: { address: f.address, port: f.port } });
  });
  for (const b of backends) {
    out[b.family === 'IPv4' ? 'lb4_backends' : 'lb6_backends'].push({
      key: b.id,
      value: { address: b.address, port: b.port, proto: b.proto, flags: b.state === 'active' ? BE_STATE_ACTIVE : BE_STATE_TERMINATING, ifindex: b.ifindex },
    });
  }
  return sortEntries(out);
}

/** Services by (address, port, protocol, scope, slot); backends and reverse NAT by id. */
export function sortEntries(entries: LbMapEntries): LbMapEntries {
  for (const v of [4, 6] as const) {
    entries[`lb${v}_services`].sort((a, b) => compareKeys(a.key, b.key));
    entries[`lb${v}_backends`].sort((a, b) => a.key - b.key);
    entries[`lb${v}_reverse_nat`].sort((a, b) => a.key - b.key);
  }
  return entries;
}

/** struct lb_affinity_match (bpf/kpr/lb.h): a backend a service's sessionAffinity may follow. */
export interface AffinityMatchKey {
  backend_id: number;
  rev_nat_id: number;
}

/** The map the datapath checks affinity entries against (Cilium's cilium_lb_affinity_match). */
export const LB_AFFINITY_MATCH_MAP = 'lb_affinity_match';

/**
 * The lb_affinity_match entries for `entries`: one per backend slot of a frontend with
 * sessionAffinity: ClientIP (SVC_FLAG_AFFINITY), keyed by (backend id, rev_nat_index), value 1.
 * Cilium's agent writes these beside the service (pkg/service/service.go addBackendsToAffinityMatchMap,
 * and removes them with the backends); the datapath follows an affinity entry only while its
 * pair is here (nodeport.c affinity_backend, as lb4_affinity_backend_id). Derived from the slot
 * entries, which repeat their frontend's flags and rev_nat_index. Sorted, without duplicates.
 */
export function affinityMatchEntries(entries: LbMapEntries): LbEntry<AffinityMatchKey, number>[] {
  const seen = new Map<string, AffinityMatchKey>();
  for (const e of [...entries.lb4_services, ...entries.lb6_services]) {
    if (e.key.backend_slot === 0 || !(e.value.flags & SVC_FLAG_AFFINITY)) continue;
    const key = { backend_id: e.value.backend_id, rev_nat_id: e.value.rev_nat_index };
    seen.set(`${key.backend_id}/${key.rev_nat_id}`, key);
  }
  return [...seen.values()].sort((a, b) => a.backend_id - b.backend_id || a.rev_nat_id - b.rev_nat_id).map((key) => ({ key, value: 1 }));
}

/** What a testbed must offer to be written to (a Testbed, or a stand-in in tests). */
export type LbMapTarget = Pick<Testbed, 'maps' | 'typedMap'>;

export interface ApplySummary {
  /** Entries written per map (lb_affinity_match too, when the object has it and there are any). */
  written: Partial<Record<LbMapName | typeof LB_AFFINITY_MATCH_MAP, number>>;
  /** Maps the object does not have (a socket-only or tc-only object lacks some). */
  skipped: LbMapName[];
}

/**
 * Writes every entry into the testbed's maps with BPF_ANY. Maps the object does not define are
 * skipped, so one set of entries serves both the socket and the tc objects. An object with
 * lb_affinity_match (bpf/kpr/nodeport.c) also gets the affinityMatchEntries of `entries`.
 */
export function applyToTestbed(bed: LbMapTarget, entries: LbMapEntries): ApplySummary {
  const summary: ApplySummary = { written: {}, skipped: [] };
  const present = new Set(bed.maps.map((m) => m.name));
  for (const name of LB_MAP_NAMES) {
    if (!present.has(name)) {
      summary.skipped.push(name);
      continue;
    }
    const map = bed.typedMap(name);
    for (const e of entries[name]) {
      const rc = map.set(e.key as unknown as TypedValue, e.value as unknown as TypedValue);
      if (rc !== 0) throw new Error(`${name}: writing ${JSON.stringify(e.key)} failed with ${rc}${rc === -7 ? ' (E2BIG: the map is full)' : ''}`);
    }
    summary.written[name] = entries[name].length;
  }
  const matches = affinityMatchEntries(entries);
  if (present.has(LB_AFFINITY_MATCH_MAP) && matches.length > 0) {
    const map = bed.typedMap(LB_AFFINITY_MATCH_MAP);
    for (const e of matches) {
      const rc = map.set(e.key as unknown as TypedValue, e.value);
      if (rc !== 0) throw new Error(`${LB_AFFINITY_MATCH_MAP}: writing ${JSON.stringify(e.key)} failed with ${rc}${rc === -7 ? ' (E2BIG: the map is full)' : ''}`);
    }
    summary.written[LB_AFFINITY_MATCH_MAP] = matches.length;
  }
  return summary;
}

/**
 * The load-balancer maps of a testbed read back in the form buildLbMaps gives (pad fields
 * dropped, sorted), so that what the datapath or an update left behind compares with a plan.
 * Maps the object lacks read as empty.
 */
export function readFromTestbed(bed: LbMapTarget): LbMapEntries {
  const present = new Set(bed.maps.map((m) => m.name));
  const pick = <T>(v: unknown, fields: readonly string[]): T => Object.fromEntries(fields.map((f) => [f, (v as Record<string, unknown>)[f]])) as T;
  const read = (name: LbMapName) => (present.has(name) ? bed.typedMap(name).entries() : []);
  const out = {} as LbMapEntries;
  for (const v of [4, 6] as const) {
    out[`lb${v}_services`] = read(`lb${v}_services`).map((e) => ({
      key: pick<LbKey>(e.key, ['address', 'dport', 'backend_slot', 'proto', 'scope']),
      value: pick<LbServiceValue>(e.value, ['backend_id', 'count', 'rev_nat_index', 'flags', 'flags2']),
    }));
    out[`lb${v}_backends`] = read(`lb${v}_backends`).map((e) => ({ key: Number(e.key), value: pick<LbBackendValue>(e.value, ['address', 'port', 'proto', 'flags', 'ifindex']) }));
    out[`lb${v}_reverse_nat`] = read(`lb${v}_reverse_nat`).map((e) => ({ key: Number(e.key), value: pick<LbRevNatValue>(e.value, ['address', 'port']) }));
  }
  return sortEntries(out);
}
