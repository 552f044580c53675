// Kubernetes Services and EndpointSlices read from ordinary YAML (what `kubectl get -o yaml`
// prints, or what a user writes), checked field by field into the few typed facts the
// load-balancer maps need. Field names, defaults and limits follow the Kubernetes API
// reference: core/v1 Service (k8s.io/api/core/v1/types.go ServiceSpec, ServicePort,
// SessionAffinityConfig), discovery.k8s.io/v1 EndpointSlice (k8s.io/api/discovery/v1/types.go)
// and the validation in pkg/apis/core/validation/validation.go (ValidateService).
// Browser-safe: text in, objects out.
import { parseAllDocuments } from 'yaml';
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from '../env/addr.js';

export type Protocol = 'TCP' | 'UDP';
export type IPFamily = 'IPv4' | 'IPv6';
export type TrafficPolicy = 'Cluster' | 'Local';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

/** The default of sessionAffinityConfig.clientIP.timeoutSeconds (core/v1 DefaultClientIPServiceAffinitySeconds). */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;
/** MaxClientIPServiceAffinitySeconds in core/v1: the largest timeout validation accepts (one day). */
export const MAX_AFFINITY_TIMEOUT_SECONDS = 86400;
/** The label that ties an EndpointSlice to its Service (discovery/v1 LabelServiceName). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ServicePort {
  /** '' for the single unnamed port of a one-port Service. */
  name: string;
  protocol: Protocol;
  port: number;
  /** A port number, or the name of a container port resolved through the EndpointSlice. */
  targetPort: number | string;
  nodePort?: number;
}

export interface Service {
  kind: 'Service';
  namespace: string;
  name: string;
  /** Where it was read: `cluster.yaml: document 3 (Service default/nginx)`. */
  source: string;
  type: ServiceType;
  /** spec.clusterIPs (or spec.clusterIP), addresses in canonical text; empty for headless. */
  clusterIPs: string[];
  /** One per family the Service has, in spec order. */
  ipFamilies: IPFamily[];
  ports: ServicePort[];
  externalIPs: string[];
  /** status.loadBalancer.ingress[].ip */
  loadBalancerIPs: string[];
  sessionAffinity: 'None' | 'ClientIP';
  /** Seconds; meaningful when sessionAffinity is ClientIP. */
  affinityTimeoutSeconds: number;
  externalTrafficPolicy: TrafficPolicy;
  internalTrafficPolicy: TrafficPolicy;
}

export interface EndpointSlicePort {
  name: string;
  protocol: Protocol;
  /** Absent: the slice does not say (the API's nil port). */
  port?: number;
}

export interface Endpoint {
  /** Canonical text, all of the slice's address type. */
  addresses: string[];
  /** conditions.ready; nil is read as true (discovery/v1 EndpointConditions). */
  ready: boolean;
  /** conditions.serving; nil is read as the value of ready. */
  serving: boolean;
  /** conditions.terminating; nil is read as false. */
  terminating: boolean;
  nodeName?: string;
}

export interface EndpointSlice {
  kind: 'EndpointSlice';
  namespace: string;
  name: string;
  source: string;
  /** The Service it belongs to (label kubernetes.io/service-name), same namespace. */
  serviceName: string;
  addressType: IPFamily | 'FQDN';
  ports: EndpointSlicePort[];
  endpoints: Endpoint[];
}

export interface ClusterObjects {
  services: Service[];
  endpointSlices: EndpointSlice[];
  /** Documents of other kinds (Deployment, Pod...), named as `document 4 (Deployment default/web)`. */
  ignored: string[];
}

export class K8sObjectError extends Error {
  override name = 'K8sObjectError';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const show = (v: unknown) => JSON.stringify(v) ?? String(v);

/** Reads fields of one object, failing with `<where>: <path>: <problem>`. */
class Fields {
  constructor(readonly where: string) {}

  fail(path: string, problem: string): never {
    throw new K8sObjectError(`${this.where}: ${path}: ${problem}`);
  }

  object(v: unknown, path: string): JsonObject {
    if (!isObject(v)) this.fail(path, `must be a mapping, got ${show(v)}`);
    return v;
  }

  optObject(v: unknown, path: string): JsonObject | undefined {
    return v === undefined || v === null ? undefined : this.object(v, path);
  }

  list(v: unknown, path: string): Json[] {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.fail(path, `must be a list, got ${show(v)}`);
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string' || v === '') this.fail(path, `must be a non-empty string, got ${show(v)}`);
    return v;
  }

  optString(v: unknown, path: string): string | undefined {
    return v === undefined || v === null ? undefined : this.string(v, path);
  }

  oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[], fallback: T): T {
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string' || !allowed.includes(v as T)) this.fail(path, `must be one of ${allowed.join(', ')}, got ${show(v)}`);
    return v as T;
  }

  int(v: unknown, path: string, min: number, max: number): number {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) this.fail(path, `must be ${min}..${max}, got ${show(v)}`);
    return v;
  }

  optBool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'boolean') this.fail(path, `must be true or false, got ${show(v)}`);
    return v;
  }

  /** An IP address of either family (or of `family`), returned in canonical text. */
  ip(v: unknown, path: string, family?: IPFamily): string {
    const text = this.string(v, path);
    const fam = familyOf(text);
    if (family && fam !== family) this.fail(path, `${text} is not an ${family} address`);
    try {
      return canonicalIP(text);
    } catch (err) {
      return this.fail(path, (err as Error).message);
    }
  }
}

export const familyOf = (address: string): IPFamily => (address.includes(':') ? 'IPv6' : 'IPv4');

/** One spelling per address, so that '2001:db8:0::1' and '2001:db8::1' are the same backend. */
export function canonicalIP(text: string): string {
  return text.includes(':') ? formatIPv6(parseIPv6(text)) : formatIPv4(parseIPv4(text));
}

function protocolOf(f: Fields, v: unknown, path: string): Protocol {
  if (v === 'SCTP') f.fail(path, 'SCTP is not supported: the load-balancer datapath handles TCP and UDP only');
  return f.oneOf(v, path, ['TCP', 'UDP'] as const, 'TCP');
}

function metadataOf(f: Fields, doc: JsonObject): { name: string; namespace: string; labels: JsonObject } {
  const meta = f.object(doc.metadata, 'metadata');
  return {
    name: f.string(meta.name, 'metadata.name'),
    namespace: f.optString(meta.namespace, 'metadata.namespace') ?? 'default',
    labels: f.optObject(meta.labels, 'metadata.labels') ?? {},
  };
}

// IANA_SVC_NAME (pkg/apis/core/validation ValidatePortNumOrName): a named targetPort.
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

function readService(f: Fields, doc: JsonObject, name: string, namespace: string): Service {
  const spec = f.object(doc.spec, 'spec');
  const type = f.oneOf(spec.type, 'spec.type', ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] as const, 'ClusterIP');
  const base = { kind: 'Service' as const, namespace, name, source: f.where, type };

  // ExternalName services are DNS aliases: kube-proxy and Cilium program nothing for them.
  const isExternalName = type === 'ExternalName';

  let clusterIPs: string[] = [];
  const single = spec.clusterIP;
  if (spec.clusterIPs !== undefined && spec.clusterIPs !== null) {
    const given = f.list(spec.clusterIPs, 'spec.clusterIPs');
    if (given.length > 2) f.fail('spec.clusterIPs', `at most 2 addresses (one per family), got ${given.length}`);
    if (given[0] === 'None') {
      if (given.length > 1) f.fail('spec.clusterIPs', "'None' (headless) must be the only entry");
    } else {
      clusterIPs = given.map((ip, i) => f.ip(ip, `spec.clusterIPs[${i}]`));
      if (clusterIPs.length === 2 && familyOf(clusterIPs[0]) === familyOf(clusterIPs[1])) f.fail('spec.clusterIPs', 'the two addresses must be of different families');
    }
    if (single !== undefined && single !== null && single !== '' && single !== given[0]) {
      f.fail('spec.clusterIP', `must equal spec.clusterIPs[0] (${show(given[0])}), got ${show(single)}`);
    }
  } else if (single !== undefined && single !== null && single !== '' && single !== 'None') {
    clusterIPs = [f.ip(single, 'spec.clusterIP')];
  }
  const headless = single === 'None' || (Array.isArray(spec.clusterIPs) && spec.clusterIPs[0] === 'None');
  if (!isExternalName && !headless && clusterIPs.length === 0) {
    f.fail('spec.clusterIP', 'required: the API server assigns it in a real cluster, so write the address it assigned (or None for a headless Service)');
  }

  let ipFamilies: IPFamily[] = clusterIPs.map(familyOf);
  if (spec.ipFamilies !== undefined && spec.ipFamilies !== null) {
    const given = f.list(spec.ipFamilies, 'spec.ipFamilies').map((v, i) => f.oneOf(v, `spec.ipFamilies[${i}]`, ['IPv4', 'IPv6'] as const, 'IPv4'));
    if (given.length === 0 || given.length > 2 || (given.length === 2 && given[0] === given[1])) {
      f.fail('spec.ipFamilies', `must name one or two different families, got ${show(spec.ipFamilies)}`);
    }
    clusterIPs.forEach((ip, i) => {
      if (given[i] !== familyOf(ip)) f.fail(`spec.ipFamilies[${i}]`, `must be the family of clusterIPs[${i}] ${ip} (${familyOf(ip)}), got ${show(given[i])}`);
    });
    ipFamilies = given;
  }
  if (ipFamilies.length === 0) ipFamilies = ['IPv4'];

  const portsGiven = f.list(spec.ports, 'spec.ports');
  if (!isExternalName && !headless && portsGiven.length === 0) f.fail('spec.ports', 'must list at least one port');
  const hasNodePorts = type === 'NodePort' || type === 'LoadBalancer';
  const ports: ServicePort[] = portsGiven.map((raw, i) => {
    const at = `spec.ports[${i}]`;
    const p = f.object(raw, at);
    const port = f.int(p.port, `${at}.port`, 1, 65535);
    const name = p.name === undefined || p.name === null ? '' : f.string(p.name, `${at}.name`);
    if (portsGiven.length > 1 && name === '') f.fail(`${at}.name`, 'required when a Service has more than one port');
    const protocol = protocolOf(f, p.protocol, `${at}.protocol`);
    let targetPort: number | string = port; // ServicePort.targetPort defaults to port
    if (typeof p.targetPort === 'number') targetPort = f.int(p.targetPort, `${at}.targetPort`, 1, 65535);
    else if (typeof p.targetPort === 'string') {
      // kubectl output may quote numbers; a name follows IANA_SVC_NAME
      if (/^\d+$/.test(p.targetPort)) targetPort = f.int(Number(p.targetPort), `${at}.targetPort`, 1, 65535);
      else if (PORT_NAME.test(p.targetPort)) targetPort = p.targetPort;
      else f.fail(`${at}.targetPort`, `must be a port number or a port name (lower-case letters, digits and '-', at most 15), got ${show(p.targetPort)}`);
    } else if (p.targetPort !== undefined && p.targetPort !== null) f.fail(`${at}.targetPort`, `must be a port number or name, got ${show(p.targetPort)}`);
    const out: ServicePort = { name, protocol, port, targetPort };
    if (p.nodePort !== undefined && p.nodePort !== null && p.nodePort !== 0) {
      if (!hasNodePorts) f.fail(`${at}.nodePort`, `only a NodePort or LoadBalancer Service has node ports (spec.type is ${type})`);
      out.nodePort = f.int(p.nodePort, `${at}.nodePort`, 1, 65535);
    } else if (type === 'NodePort') {
      f.fail(`${at}.nodePort`, 'required for a NodePort Service: the API server allocates it in a real cluster, so write the port it allocated');
    }
    return out;
  });
  const seen = new Map<string, number>();
  ports.forEach((p, i) => {
    const key = `${p.port}/${p.protocol}`;
    if (seen.has(key)) f.fail(`spec.ports[${i}]`, `${key} is already spec.ports[${seen.get(key)}]`);
    seen.set(key, i);
    const byName = ports.findIndex((q) => q.name === p.name);
    if (p.name !== '' && byName !== i) f.fail(`spec.ports[${i}].name`, `'${p.name}' is already the name of spec.ports[${byName}]`);
  });

  const externalIPs = f.list(spec.externalIPs, 'spec.externalIPs').map((ip, i) => f.ip(ip, `spec.externalIPs[${i}]`));
  const status = f.optObject(doc.status, 'status');
  const lb = status && f.optObject(status.loadBalancer, 'status.loadBalancer');
  const loadBalancerIPs = f
    .list(lb?.ingress, 'status.loadBalancer.ingress')
    .flatMap((raw, i) => {
      const ingress = f.object(raw, `status.loadBalancer.ingress[${i}]`);
      // an ingress given only by hostname (cloud load balancers) has no address to program
      return ingress.ip === undefined || ingress.ip === null ? [] : [f.ip(ingress.ip, `status.loadBalancer.ingress[${i}].ip`)];
    });

  const sessionAffinity = f.oneOf(spec.sessionAffinity, 'spec.sessionAffinity', ['None', 'ClientIP'] as const, 'None');
  let affinityTimeoutSeconds = DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  const sac = f.optObject(spec.sessionAffinityConfig, 'spec.sessionAffinityConfig');
  const clientIP = sac && f.optObject(sac.clientIP, 'spec.sessionAffinityConfig.clientIP');
  if (clientIP?.timeoutSeconds !== undefined && clientIP.timeoutSeconds !== null) {
    if (sessionAffinity !== 'ClientIP') f.fail('spec.sessionAffinityConfig', 'only applies with spec.sessionAffinity: ClientIP');
    affinityTimeoutSeconds = f.int(clientIP.timeoutSeconds, 'spec.sessionAffinityConfig.clientIP.timeoutSeconds', 1, MAX_AFFINITY_TIMEOUT_SECONDS);
  }

  return {
    ...base,
    clusterIPs,
    ipFamilies,
    ports,
    externalIPs,
    loadBalancerIPs,
    sessionAffinity,
    affinityTimeoutSeconds,
    externalTrafficPolicy: f.oneOf(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy', ['Cluster', 'Local'] as const, 'Cluster'),
    internalTrafficPolicy: f.oneOf(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy', ['Cluster', 'Local'] as const, 'Cluster'),
  };
}

function readSlicePorts(f: Fields, v: unknown, path: string): EndpointSlicePort[] {
  return f.list(v, path).map((raw, i) => {
    const p = f.object(raw, `${path}[${i}]`);
    const out: EndpointSlicePort = {
      name: p.name === undefined || p.name === null ? '' : typeof p.name === 'string' ? p.name : f.fail(`${path}[${i}].name`, `must be a string, got ${show(p.name)}`),
      protocol: protocolOf(f, p.protocol, `${path}[${i}].protocol`),
    };
    if (p.port !== undefined && p.port !== null) out.port = f.int(p.port, `${path}[${i}].port`, 1, 65535);
    return out;
  });
}

function readEndpointSlice(f: Fields, doc: JsonObject, name: string, namespace: string, labels: JsonObject): EndpointSlice {
  const serviceName = labels[SERVICE_NAME_LABEL];
  if (typeof serviceName !== 'string' || serviceName === '') {
    f.fail(`metadata.labels['${SERVICE_NAME_LABEL}']`, 'required: it names the Service this slice belongs to');
  }
  const addressType = f.oneOf(doc.addressType, 'addressType', ['IPv4', 'IPv6', 'FQDN'] as const, 'IPv4');
  if (doc.addressType === undefined || doc.addressType === null) f.fail('addressType', 'required (IPv4, IPv6 or FQDN)');
  const endpoints: Endpoint[] = f.list(doc.endpoints, 'endpoints').map((raw, i) => {
    const at = `endpoints[${i}]`;
    const e = f.object(raw, at);
    const addrs = f.list(e.addresses, `${at}.addresses`);
    if (addrs.length === 0) f.fail(`${at}.addresses`, 'must list at least one address');
    const addresses = addressType === 'FQDN' ? addrs.map((a, j) => f.string(a, `${at}.addresses[${j}]`)) : addrs.map((a, j) => f.ip(a, `${at}.addresses[${j}]`, addressType));
    const cond = f.optObject(e.conditions, `${at}.conditions`) ?? {};
    // discovery/v1 EndpointConditions: ready nil means ready; serving nil means "as ready";
    // terminating nil means not terminating (read the same way by kube-proxy,
    // pkg/proxy/endpointslicecache.go addEndpoints).
    const ready = f.optBool(cond.ready, `${at}.conditions.ready`) ?? true;
    const serving = f.optBool(cond.serving, `${at}.conditions.serving`) ?? ready;
    const terminating = f.optBool(cond.terminating, `${at}.conditions.terminating`) ?? false;
    const endpoint: Endpoint = { addresses, ready, serving, terminating };
    const nodeName = f.optString(e.nodeName, `${at}.nodeName`);
    if (nodeName !== undefined) endpoint.nodeName = nodeName;
    return endpoint;
  });
  return { kind: 'EndpointSlice', namespace, name, source: f.where, serviceName, addressType, ports: readSlicePorts(f, doc.ports, 'ports'), endpoints };
}

/**
 * Legacy core/v1 Endpoints: each subset becomes one EndpointSlice per address family, the way
 * the EndpointSlice mirroring controller (pkg/controller/endpointslicemirroring) turns them
 * into slices: `addresses` are ready, `notReadyAddresses` are neither ready nor serving.
 */
function readEndpoints(f: Fields, doc: JsonObject, name: string, namespace: string): EndpointSlice[] {
  const slices: EndpointSlice[] = [];
  f.list(doc.subsets, 'subsets').forEach((raw, i) => {
    const at = `subsets[${i}]`;
    const subset = f.object(raw, at);
    const ports = readSlicePorts(f, subset.ports, `${at}.ports`);
    const byFamily: Record<IPFamily, Endpoint[]> = { IPv4: [], IPv6: [] };
    for (const [field, ready] of [['addresses', true], ['notReadyAddresses', false]] as const) {
      f.list(subset[field], `${at}.${field}`).forEach((rawAddr, j) => {
        const a = f.object(rawAddr, `${at}.${field}[${j}]`);
        const ip = f.ip(a.ip, `${at}.${field}[${j}].ip`);
        const endpoint: Endpoint = { addresses: [ip], ready, serving: ready, terminating: false };
        const nodeName = f.optString(a.nodeName, `${at}.${field}[${j}].nodeName`);
        if (nodeName !== undefined) endpoint.nodeName = nodeName;
        byFamily[familyOf(ip)].push(endpoint);
      });
    }
    for (const family of ['IPv4', 'IPv6'] as const) {
      if (byFamily[family].length === 0) continue;
      slices.push({
        kind: 'EndpointSlice',
        namespace,
        name: `${name}-subset${i}-${family.toLowerCase()}`,
        source: f.where,
        serviceName: name,
        addressType: family,
        ports,
        endpoints: byFamily[family],
      });
    }
  });
  return slices;
}

function readObject(doc: unknown, where: string, out: ClusterObjects): void {
  if (doc === null || doc === undefined) return; // an empty document (a trailing '---')
  const top = new Fields(where);
  const obj = top.object(doc, '(document)');
  const kind = top.string(obj.kind, 'kind');
  if (kind === 'List' || kind.endsWith('List')) {
    // kubectl get -o yaml prints several objects as `kind: List` with `items`
    top.list(obj.items, 'items').forEach((item, i) => readObject(item, `${where} items[${i}]`, out));
    return;
  }
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : '';
  const known = (kind === 'Service' || kind === 'Endpoints') ? apiVersion === 'v1' : kind === 'EndpointSlice' ? /^discovery\.k8s\.io\/v1(beta1)?$/.test(apiVersion) : false;
  const metaName = isObject(obj.metadata) && typeof obj.metadata.name === 'string' ? obj.metadata.name : '?';
  const metaNamespace = isObject(obj.metadata) && typeof obj.metadata.namespace === 'string' ? obj.metadata.namespace : 'default';
  const f = new Fields(`${where} (${kind} ${metaNamespace}/${metaName})`);
  if (!known) {
    if (kind === 'Service' || kind === 'Endpoints' || kind === 'EndpointSlice') {
      f.fail('apiVersion', `${kind} must be ${kind === 'EndpointSlice' ? 'discovery.k8s.io/v1' : 'v1'}, got ${show(obj.apiVersion)}`);
    }
    out.ignored.push(f.where);
    return;
  }
  const { name, namespace, labels } = metadataOf(f, obj);
  if (kind === 'Service') out.services.push(readService(f, obj, name, namespace));
  else if (kind === 'EndpointSlice') out.endpointSlices.push(readEndpointSlice(f, obj, name, namespace, labels));
  else out.endpointSlices.push(...readEndpoints(f, obj, name, namespace));
}

/**
 * Reads every Service, EndpointSlice and Endpoints object of a multi-document YAML text
 * (`kind: List` included). Other kinds are listed in `ignored`. Throws K8sObjectError naming the
 * file, the document, the object, the field and the problem.
 */
export function parseClusterYaml(text: string, fileName = 'cluster.yaml'): ClusterObjects {
  const out: ClusterObjects = { services: [], endpointSlices: [], ignored: [] };
  const docs = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(docs)) return out; // an empty stream
  docs.forEach((doc, i) => {
    const where = `${fileName}: document ${i + 1}`;
    if (doc.errors.length > 0) throw new K8sObjectError(`${where}: not valid YAML: ${doc.errors[0].message}`);
    readObject(doc.toJS({ maxAliasCount: 100 }), where, out);
  });
  checkUnique(out);
  return out;
}

/** Objects already parsed (JSON from `kubectl get -o json`, or built in code). */
export function clusterFromObjects(objects: readonly unknown[], source = 'objects'): ClusterObjects {
  const out: ClusterObjects = { services: [], endpointSlices: [], ignored: [] };
  objects.forEach((obj, i) => readObject(obj, `${source}: object ${i + 1}`, out));
  checkUnique(out);
  return out;
}

function checkUnique(objects: ClusterObjects): void {
  const seen = new Map<string, string>();
  for (const o of [...objects.services, ...objects.endpointSlices]) {
    const id = `${o.kind} ${o.namespace}/${o.name}`;
    const before = seen.get(id);
    if (before) throw new K8sObjectError(`${o.source}: ${id} is defined twice (first in ${before})`);
    seen.set(id, o.source);
  }
}
