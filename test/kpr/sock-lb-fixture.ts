// A tiny stand-in for the control plane (src/k8s, another engineer's): writes one service with its
// backends into the lb.h maps of a loaded object, by BTF field names, and remembers the bytes it
// wrote so the kernel parity test can put the very same entries into the kernel's maps.
import type { Testbed } from '../../src/testbed/testbed.js';

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** lb.h SVC_FLAG_* */
export const SVC_FLAG_NODEPORT = 1 << 1;
export const SVC_FLAG_AFFINITY = 1 << 4;

export interface BackendSpec {
  addr: string;
  port: number;
}

export interface ServiceSpec {
  /** VIP, a node address, or 0.0.0.0 / :: for a NodePort on any local address. */
  addr: string;
  port: number;
  proto: 'tcp' | 'udp' | 'any';
  /** Also the first backend id: backends get ids revNatIndex * 100 + 1, + 2, ... */
  revNatIndex: number;
  flags?: number;
  backends: BackendSpec[];
}

/** One map write, as bytes: what `bpftool map update` gets in the kernel test. */
export interface MapWrite {
  map: string;
  key: Uint8Array;
  value: Uint8Array;
}

const protoNumber = (p: ServiceSpec['proto']): number => (p === 'tcp' ? IPPROTO_TCP : p === 'udp' ? IPPROTO_UDP : 0);

export class LbMaps {
  readonly writes: MapWrite[] = [];

  constructor(readonly bed: Testbed) {}

  private set(map: string, key: Record<string, unknown>, value: Record<string, unknown>): void {
    const m = this.bed.typedMap(map);
    const k = m.encodeKey(key as never);
    const v = m.encodeValue(value as never);
    const rc = m.map.update(k, v, 0);
    if (rc !== 0) throw new Error(`${map}: update failed (${rc})`);
    this.writes.push({ map, key: k, value: v });
  }

  /** Slot 0, slots 1..n, the backends and the reverse-NAT entry of one service. */
  addService(s: ServiceSpec): number[] {
    const v6 = s.addr.includes(':');
    const fam = v6 ? 'lb6' : 'lb4';
    const proto = protoNumber(s.proto);
    const key = (slot: number) => ({ address: s.addr, dport: s.port, backend_slot: slot, proto, scope: 0 });
    this.set(`${fam}_services`, key(0), { backend_id: 0, count: s.backends.length, rev_nat_index: s.revNatIndex, flags: s.flags ?? 0 });
    const ids: number[] = [];
    s.backends.forEach((b, i) => {
      const id = s.revNatIndex * 100 + i + 1;
      ids.push(id);
      this.set(`${fam}_backends`, id as never, { address: b.addr, port: b.port, proto, flags: 0, ifindex: 0 });
      this.set(`${fam}_services`, key(i + 1), { backend_id: id, count: 0, rev_nat_index: s.revNatIndex, flags: s.flags ?? 0 });
    });
    this.set(`${fam}_reverse_nat`, s.revNatIndex as never, { address: s.addr, port: s.port });
    return ids;
  }

  /** One of the node's own addresses (lb4_node_addrs / lb6_node_addrs). */
  addNodeAddress(addr: string): void {
    this.set(addr.includes(':') ? 'lb6_node_addrs' : 'lb4_node_addrs', addr as never, { flags: 0 });
  }
}

const fourBackends = [1, 2, 3, 4].map((i) => ({ addr: `10.244.2.${i}`, port: 80 }));

/**
 * The example cluster of the socket LB tests, bpfbed and kernel alike: one backend per service
 * where the tests compare exact addresses, four where they look at the spread.
 */
export const EXAMPLE_SERVICES: readonly ServiceSpec[] = [
  { addr: '10.96.0.20', port: 80, proto: 'tcp', revNatIndex: 1, backends: [{ addr: '10.244.1.6', port: 8080 }] },
  { addr: '10.96.0.10', port: 53, proto: 'udp', revNatIndex: 2, backends: [{ addr: '10.244.1.5', port: 5353 }] },
  { addr: 'fd00:96::20', port: 80, proto: 'tcp', revNatIndex: 3, backends: [{ addr: 'fd00:244::6', port: 8080 }] },
  { addr: 'fd00:96::10', port: 53, proto: 'udp', revNatIndex: 4, backends: [{ addr: 'fd00:244::5', port: 5353 }] },
  { addr: '0.0.0.0', port: 30080, proto: 'tcp', revNatIndex: 5, flags: SVC_FLAG_NODEPORT, backends: [{ addr: '10.244.1.7', port: 80 }] },
  { addr: '::', port: 30080, proto: 'tcp', revNatIndex: 6, flags: SVC_FLAG_NODEPORT, backends: [{ addr: 'fd00:244::7', port: 80 }] },
  { addr: '10.96.0.30', port: 80, proto: 'tcp', revNatIndex: 7, backends: [] },
  { addr: 'fd00:96::30', port: 53, proto: 'udp', revNatIndex: 8, backends: [] },
  { addr: '10.96.0.40', port: 80, proto: 'tcp', revNatIndex: 9, backends: fourBackends },
  { addr: '10.96.0.50', port: 80, proto: 'tcp', revNatIndex: 10, flags: SVC_FLAG_AFFINITY, backends: fourBackends },
];

/** The node's own addresses in the example (eth0 in bpfbed, lo of its netns in the kernel test). */
export const EXAMPLE_NODE_ADDRESSES = ['10.0.0.7', 'fd00::7'] as const;

/** Every backend address of the example (the kernel test puts them on a device of its netns). */
export const exampleBackendAddresses = (): string[] => [...new Set(EXAMPLE_SERVICES.flatMap((s) => s.backends.map((b) => b.addr)))];

/** Fills the example cluster into a loaded sock.o. */
export function exampleCluster(bed: Testbed): LbMaps {
  const lb = new LbMaps(bed);
  for (const s of EXAMPLE_SERVICES) lb.addService(s);
  for (const a of EXAMPLE_NODE_ADDRESSES) lb.addNodeAddress(a);
  return lb;
}
