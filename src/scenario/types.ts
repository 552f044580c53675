// A scenario: the world one run happens in, and what must come out of it. The same file drives
// the CLI (`bpfbed run --scenario`), the library and the playground. Paths inside it are
// relative to the scenario file. See docs/scenario.md for the format with examples.
import type { EnvironmentSpec } from '../env/environment.js';
import type { ClusterSpec } from '../k8s/scenario.js';

/** Where a program is attached. Names follow libbpf's section names. */
export type AttachPoint = 'xdp' | 'tc/ingress' | 'tc/egress' | 'socket';

export interface ProgramBinding {
  /** Program (function) name in the object. */
  program: string;
  attach: AttachPoint;
  /** Device name from environment.devices; absent: every device. */
  device?: string;
}

/**
 * Per-packet metadata the kernel would have set before the program runs: the skb fields of
 * struct __sk_buff that a test may choose (mark, priority, cb...). Values as in the uapi.
 */
export interface PacketMetadata {
  mark?: number;
  priority?: number;
  /** struct __sk_buff cb[5] */
  cb?: number[];
  tcIndex?: number;
  queueMapping?: number;
  hash?: number;
  /** Time since the run started at which the packet arrives; default: the capture's timestamps. */
  arrivalNs?: number;
}

export interface PacketInput {
  /** The capture to feed (pcap or pcapng). */
  pcap: string;
  /** Device the packets arrive on (or leave from, for direction egress); default: the first device. */
  device?: string;
  direction?: 'ingress' | 'egress';
  /** Metadata for every packet. */
  metadata?: PacketMetadata;
  /** Per-packet overrides, by 1-based packet number. */
  packets?: (PacketMetadata & { packet: number; device?: string; direction?: 'ingress' | 'egress' })[];
  /** Advance the virtual clock by the capture's inter-packet gaps (default true). */
  followTimestamps?: boolean;
}

/**
 * A map entry as text a person can write: fields by their BTF names, addresses and ports in
 * their usual form ("10.96.0.10", 80 for a __be16), or raw bytes as hex ("0a 60 00 0a").
 */
export type TypedValue = string | number | boolean | TypedValue[] | { [field: string]: TypedValue };

export interface MapEntrySpec {
  key: TypedValue;
  value: TypedValue;
}

export interface ExpectedPacket {
  packet: number;
  verdict?: string;
  /** Device the packet leaves on, 'stack' when passed up, 'drop' when dropped. */
  output?: string;
}

export interface ExpectedMapEntry {
  key: TypedValue;
  /** Fields that must match (others are not compared); absent with `absent: true`. */
  value?: TypedValue;
  absent?: boolean;
}

export interface Expectations {
  /** One verdict name per packet, in order, or per-packet objects. */
  verdicts?: (string | ExpectedPacket)[];
  /** Expected capture per output ('eth1', 'stack', 'drop'), compared packet by packet. */
  outputs?: Record<string, string>;
  maps?: Record<string, ExpectedMapEntry[]>;
  /** bpf_trace_printk lines, in order, over the whole run. */
  printk?: string[];
}

export interface Scenario {
  description?: string;
  /** The BPF object file. */
  object: string;
  programs: ProgramBinding[];
  /** num_possible_cpus() and the CPU packets are processed on. */
  cpus?: number;
  cpu?: number;
  /** Instruction budget per program run. */
  budget?: number;
  environment?: EnvironmentSpec;
  /**
   * Kubernetes Services and EndpointSlices (ordinary YAML) and the node they are seen from: the
   * control plane (src/k8s) turns them into the load-balancer map entries, written before `maps`.
   */
  cluster?: ClusterSpec;
  maps?: Record<string, MapEntrySpec[]>;
  input?: PacketInput;
  expect?: Expectations;
}
