// The world of the per-packet workload (bpf/bench/packet.c): the services and tracked connections
// its maps hold, and the flows the generated traffic is made of. Everything derives from a seed
// through one xorshift stream, so every run and every engine sees the same maps and packets.

/** What a packet of the traffic is, and so the path it takes through packet_lb. */
export type PacketClass = 'tracked' | 'syn' | 'untracked' | 'no-service' | 'udp';

export const PACKET_CLASSES: readonly PacketClass[] = ['tracked', 'syn', 'untracked', 'no-service', 'udp'];

/** The verdict each class must get (bpf/bench/packet.c). */
export const EXPECTED_VERDICT: Readonly<Record<PacketClass, string>> = {
  tracked: 'TC_ACT_REDIRECT',
  syn: 'TC_ACT_REDIRECT',
  untracked: 'TC_ACT_SHOT',
  'no-service': 'TC_ACT_OK',
  udp: 'TC_ACT_OK',
};

/** Share of each class in the traffic (sums to 1): mostly established service traffic. */
export const CLASS_WEIGHTS: Readonly<Record<PacketClass, number>> = {
  tracked: 0.6,
  syn: 0.1,
  untracked: 0.1,
  'no-service': 0.15,
  udp: 0.05,
};

export interface Endpoint {
  /** IPv4 address as a 32-bit host-order number. */
  addr: number;
  port: number;
}

export interface Service {
  vip: Endpoint;
  /** backends[0] takes new connections (the map's value); the others appear in conntrack. */
  backends: Endpoint[];
  ifindex: number;
}

export interface Flow {
  cls: PacketClass;
  client: Endpoint;
  server: Endpoint;
  /** For tracked flows: the backend conntrack holds. */
  backend?: Endpoint;
}

export interface PacketWorld {
  services: Service[];
  flows: Flow[];
}

export const SERVICE_COUNT = 16;
export const BACKENDS_PER_SERVICE = 4;
export const BACKEND_IFINDEX = 3;
/** Flows per class: the tracked ones are the conntrack map's entries. */
export const FLOWS_PER_CLASS: Readonly<Record<PacketClass, number>> = { tracked: 2048, syn: 512, untracked: 512, 'no-service': 512, udp: 128 };

export const ipv4 = (a: number, b: number, c: number, d: number): number => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
export const ipv4Text = (addr: number): string => `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;

/** xorshift32: fast, fixed, good enough to spread flows and sizes. */
export class XorShift32 {
  private x: number;
  constructor(seed: number) {
    this.x = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (this.x = x >>> 0);
  }
  /** An integer in [0, n). */
  below(n: number): number {
    return this.next() % n;
  }
}

/**
 * Services 10.96.0.1.. (port 80 or 443) with backends 10.0.1.x:8080 behind device 3, and flows
 * from clients in 192.168.0.0/16: tracked and untracked ones to services, some to addresses no
 * service has, and UDP to a service address (not TCP: not looked up).
 */
export function makeWorld(seed = 0x5eed1234): PacketWorld {
  const rng = new XorShift32(seed);
  const services: Service[] = [];
  for (let s = 0; s < SERVICE_COUNT; s++) {
    const backends: Endpoint[] = [];
    for (let b = 0; b < BACKENDS_PER_SERVICE; b++) backends.push({ addr: ipv4(10, 0, 1, s * BACKENDS_PER_SERVICE + b + 1), port: 8080 });
    services.push({ vip: { addr: ipv4(10, 96, 0, s + 1), port: s % 2 === 0 ? 80 : 443 }, backends, ifindex: BACKEND_IFINDEX });
  }
  const flows: Flow[] = [];
  let clientIndex = 0;
  const client = (): Endpoint => {
    const n = clientIndex++;
    return { addr: ipv4(192, 168, (n >> 8) & 255, n & 255), port: 32768 + rng.below(28000) };
  };
  for (const cls of PACKET_CLASSES) {
    for (let i = 0; i < FLOWS_PER_CLASS[cls]; i++) {
      const svc = services[rng.below(services.length)];
      if (cls === 'no-service') {
        flows.push({ cls, client: client(), server: { addr: ipv4(10, 1, rng.below(256), 1 + rng.below(254)), port: 443 } });
      } else if (cls === 'udp') {
        flows.push({ cls, client: client(), server: { addr: svc.vip.addr, port: 53 } });
      } else {
        const flow: Flow = { cls, client: client(), server: svc.vip };
        if (cls === 'tracked') flow.backend = svc.backends[rng.below(svc.backends.length)];
        flows.push(flow);
      }
    }
  }
  return { services, flows };
}
