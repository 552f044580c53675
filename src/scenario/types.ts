// A scenario: the world one run happens in, and what must come out of it. The same file drives
// the CLI (`bpfbed run --scenario`), the library and the playground. Paths inside it are
// relative to the scenario file. See docs/scenario.md for the format with examples.
import type { EnvironmentSpec } from '../env/environment.js';
import type { ClusterSpec } from '../k8s/scenario.js';

/** Where a program is attached. Names follow libbpf's section names. */
export type AttachPoint = 'xdp' | 'tc/ingress' | 'tc/egress' | 'socket' | CgroupSockAddrAttachPoint;

/**
 * The cgroup socket address hooks a socket scenario attaches programs to (libbpf's section
 * names; the kernel's BPF_CGROUP_INET4_CONNECT ... attach types, include/uapi/linux/bpf.h).
 */
export type CgroupSockAddrAttachPoint = `cgroup/${'bind' | 'connect' | 'sendmsg' | 'recvmsg' | 'getpeername' | 'getsockname'}${4 | 6}`;

export const CGROUP_SOCK_ADDR_ATTACH_POINTS: readonly CgroupSockAddrAttachPoint[] = (['bind', 'connect', 'sendmsg', 'recvmsg', 'getpeername', 'getsockname'] as const).flatMap(
  (call) => ([4, 6] as const).map((family) => `cgroup/${call}${family}` as CgroupSockAddrAttachPoint),
);

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
  /**
   * Values of the object's __kconfig externs (CONFIG_*, LINUX_KERNEL_VERSION), over the loader's
   * defaults (src/loader/kconfig.ts KCONFIG_DEFAULTS, which says how each form is typed).
   */
  kconfig?: Record<string, string | number | boolean>;
  environment?: EnvironmentSpec;
  /**
   * Kubernetes Services and EndpointSlices (ordinary YAML) and the node they are seen from: the
   * control plane (src/k8s) turns them into the load-balancer map entries, written before `maps`.
   */
  cluster?: ClusterSpec;
  maps?: Record<string, MapEntrySpec[]>;
  input?: PacketInput;
  /** A socket scenario: an application's socket calls through the cgroup hooks (instead of `input`). */
  sockets?: SocketScript;
  expect?: Expectations;
  /**
   * What the real kernel's clock or randomness makes differ between a kernel run and bpfbed, and
   * the rule that must hold instead of equality (src/scenario/parity.ts).
   */
  parity?: ParityRule[];
}

// ---------------------------------------------------------------------------- sockets

/** An address and port as text: 10.96.0.10:53, [fd00::10]:53. */
export type EndpointText = string;

/**
 * A server the application talks to: a TCP listener that accepts, or a UDP socket that sends
 * every datagram back to its sender (an echo server). In the kernel they live on the loopback
 * device of the run's network namespace; in bpfbed they are where a rewritten address leads.
 */
export interface SocketServer {
  tcp?: EndpointText;
  udp?: EndpointText;
}

/** What one socket call must show the application (kernel-produced where the scenario says so). */
export interface SocketCallExpectation {
  /** The errno name the call fails with (EHOSTUNREACH, EPERM); absent: it succeeds. */
  error?: string;
  /** The server the call's connection or datagram reached (its listening address). */
  reached?: EndpointText;
  /** getpeername(): the peer the application is shown. */
  peer?: EndpointText;
  /** recvmsg(): the source the application is shown. */
  from?: EndpointText;
}

/**
 * One call of the emulated process, on the socket named `socket` (named by its `open` call).
 * Exactly one of the operations is given.
 */
export interface SocketCall {
  socket: string;
  /** socket(AF_INET or AF_INET6, SOCK_STREAM or SOCK_DGRAM). */
  open?: 'tcp' | 'udp' | 'tcp6' | 'udp6';
  /** connect() to this address. */
  connect?: EndpointText;
  /** sendmsg()/sendto() of `payload` to this address (UDP). */
  sendmsg?: EndpointText;
  /** send() of `payload` on a connected socket. */
  send?: true;
  /** recvmsg(): the next datagram (a server's echo). */
  recvmsg?: true;
  getpeername?: true;
  /** Text sent by sendmsg/send (default "ping"). */
  payload?: string;
  expect?: SocketCallExpectation;
}

export interface SocketScript {
  servers?: SocketServer[];
  calls: SocketCall[];
}

// ---------------------------------------------------------------------------- parity

/**
 * A map field whose value is a deadline on the kernel's clock (CLOCK_MONOTONIC): it must equal
 * `since` + the lifetime of the first `lifetimes` entry that matches the entry, give or take the
 * time the run took (at most `slackSeconds`, default 60). Both `field` and `since` are left out of
 * the comparison by value.
 */
export interface ClockDeadlineRule {
  rule: 'clock-deadline';
  map: string;
  field: string;
  since: string;
  lifetimes: { when?: Record<string, number>; bits?: Record<string, number>; seconds: number }[];
  slackSeconds?: number;
}

/** A map field the kernel fills from randomness within a range (a SNAT port): min <= value <= max. */
export interface InRangeRule {
  rule: 'in-range';
  map: string;
  /** Only the entries whose fields equal these (as for same-in-both). */
  when?: Record<string, number | string>;
  field: string;
  min: number;
  max: number;
}

/**
 * A randomly chosen backend: a socket call to `service` reaches one of `backends`, whichever.
 * Its `reached` expectation is checked as membership; sockets that `same-in-both` ties to a map
 * entry carry the choice into the map comparison.
 */
export interface OneOfBackendsRule {
  rule: 'one-of-backends';
  service: EndpointText;
  backends: EndpointText[];
}

/**
 * Map entries that belong to one socket of the run and repeat what that socket saw: each entry's
 * field `fields[f]` equals the socket's property (`cookie`, `reached.addr`, `reached.port`). The
 * kernel's socket cookies and random choices differ from bpfbed's; the entries are compared with
 * those fields replaced by the socket's name.
 */
export interface SameInBothRule {
  rule: 'same-in-both';
  map: string;
  /** Only the entries whose fields (BTF names, as in `lifetimes.when`) equal these. */
  when?: Record<string, number | string>;
  /**
   * Entries that hold what a socket of the run saw: entry field -> the socket's cookie or the
   * server it reached. Each entry must belong to a socket of its side.
   */
  socket?: Record<string, 'cookie' | 'reached.addr' | 'reached.port'>;
  /**
   * Entries that hold what an output packet of the run carries: entry field -> a field of the
   * packet as it left (Wireshark's name: tcp.srcport, udp.dstport, ip.src). Each entry must match
   * an output packet of its side; the packets' field then compares as linked to the entry.
   */
  packet?: Record<string, string>;
}

export type ParityRule = ClockDeadlineRule | InRangeRule | OneOfBackendsRule | SameInBothRule;
