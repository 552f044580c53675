// Numeric values of the kernel's BPF enums, with the kernel's names
// (include/uapi/linux/bpf.h: enum bpf_map_type, enum bpf_prog_type, enum bpf_attach_type).
// Entries up to kernel 6.1 match /usr/include/linux/bpf.h on this machine; later ones
// (CGRP_STORAGE, ARENA, NETFILTER, TCX, UNIX sock_addr, NETKIT, *_SESSION) come from the
// kernel source. The enums are implicit-valued, so the order below is the contract.
// Lower-case names (`lru_hash`, `sched_cls`) are libbpf's: libbpf_bpf_map_type_str and
// libbpf_bpf_prog_type_str print the enum suffix in lower case.

/** enum bpf_map_type. */
export const BPF_MAP_TYPE = {
  BPF_MAP_TYPE_UNSPEC: 0,
  BPF_MAP_TYPE_HASH: 1,
  BPF_MAP_TYPE_ARRAY: 2,
  BPF_MAP_TYPE_PROG_ARRAY: 3,
  BPF_MAP_TYPE_PERF_EVENT_ARRAY: 4,
  BPF_MAP_TYPE_PERCPU_HASH: 5,
  BPF_MAP_TYPE_PERCPU_ARRAY: 6,
  BPF_MAP_TYPE_STACK_TRACE: 7,
  BPF_MAP_TYPE_CGROUP_ARRAY: 8,
  BPF_MAP_TYPE_LRU_HASH: 9,
  BPF_MAP_TYPE_LRU_PERCPU_HASH: 10,
  BPF_MAP_TYPE_LPM_TRIE: 11,
  BPF_MAP_TYPE_ARRAY_OF_MAPS: 12,
  BPF_MAP_TYPE_HASH_OF_MAPS: 13,
  BPF_MAP_TYPE_DEVMAP: 14,
  BPF_MAP_TYPE_SOCKMAP: 15,
  BPF_MAP_TYPE_CPUMAP: 16,
  BPF_MAP_TYPE_XSKMAP: 17,
  BPF_MAP_TYPE_SOCKHASH: 18,
  BPF_MAP_TYPE_CGROUP_STORAGE: 19,
  BPF_MAP_TYPE_REUSEPORT_SOCKARRAY: 20,
  BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE: 21,
  BPF_MAP_TYPE_QUEUE: 22,
  BPF_MAP_TYPE_STACK: 23,
  BPF_MAP_TYPE_SK_STORAGE: 24,
  BPF_MAP_TYPE_DEVMAP_HASH: 25,
  BPF_MAP_TYPE_STRUCT_OPS: 26,
  BPF_MAP_TYPE_RINGBUF: 27,
  BPF_MAP_TYPE_INODE_STORAGE: 28,
  BPF_MAP_TYPE_TASK_STORAGE: 29,
  BPF_MAP_TYPE_BLOOM_FILTER: 30,
  BPF_MAP_TYPE_USER_RINGBUF: 31,
  BPF_MAP_TYPE_CGRP_STORAGE: 32,
  BPF_MAP_TYPE_ARENA: 33,
} as const;

/** enum bpf_prog_type. */
export const BPF_PROG_TYPE = {
  BPF_PROG_TYPE_UNSPEC: 0,
  BPF_PROG_TYPE_SOCKET_FILTER: 1,
  BPF_PROG_TYPE_KPROBE: 2,
  BPF_PROG_TYPE_SCHED_CLS: 3,
  BPF_PROG_TYPE_SCHED_ACT: 4,
  BPF_PROG_TYPE_TRACEPOINT: 5,
  BPF_PROG_TYPE_XDP: 6,
  BPF_PROG_TYPE_PERF_EVENT: 7,
  BPF_PROG_TYPE_CGROUP_SKB: 8,
  BPF_PROG_TYPE_CGROUP_SOCK: 9,
  BPF_PROG_TYPE_LWT_IN: 10,
  BPF_PROG_TYPE_LWT_OUT: 11,
  BPF_PROG_TYPE_LWT_XMIT: 12,
  BPF_PROG_TYPE_SOCK_OPS: 13,
  BPF_PROG_TYPE_SK_SKB: 14,
  BPF_PROG_TYPE_CGROUP_DEVICE: 15,
  BPF_PROG_TYPE_SK_MSG: 16,
  BPF_PROG_TYPE_RAW_TRACEPOINT: 17,
  BPF_PROG_TYPE_CGROUP_SOCK_ADDR: 18,
  BPF_PROG_TYPE_LWT_SEG6LOCAL: 19,
  BPF_PROG_TYPE_LIRC_MODE2: 20,
  BPF_PROG_TYPE_SK_REUSEPORT: 21,
  BPF_PROG_TYPE_FLOW_DISSECTOR: 22,
  BPF_PROG_TYPE_CGROUP_SYSCTL: 23,
  BPF_PROG_TYPE_RAW_TRACEPOINT_WRITABLE: 24,
  BPF_PROG_TYPE_CGROUP_SOCKOPT: 25,
  BPF_PROG_TYPE_TRACING: 26,
  BPF_PROG_TYPE_STRUCT_OPS: 27,
  BPF_PROG_TYPE_EXT: 28,
  BPF_PROG_TYPE_LSM: 29,
  BPF_PROG_TYPE_SK_LOOKUP: 30,
  BPF_PROG_TYPE_SYSCALL: 31,
  BPF_PROG_TYPE_NETFILTER: 32,
} as const;

/** enum bpf_attach_type. */
export const BPF_ATTACH_TYPE = {
  BPF_CGROUP_INET_INGRESS: 0,
  BPF_CGROUP_INET_EGRESS: 1,
  BPF_CGROUP_INET_SOCK_CREATE: 2,
  BPF_CGROUP_SOCK_OPS: 3,
  BPF_SK_SKB_STREAM_PARSER: 4,
  BPF_SK_SKB_STREAM_VERDICT: 5,
  BPF_CGROUP_DEVICE: 6,
  BPF_SK_MSG_VERDICT: 7,
  BPF_CGROUP_INET4_BIND: 8,
  BPF_CGROUP_INET6_BIND: 9,
  BPF_CGROUP_INET4_CONNECT: 10,
  BPF_CGROUP_INET6_CONNECT: 11,
  BPF_CGROUP_INET4_POST_BIND: 12,
  BPF_CGROUP_INET6_POST_BIND: 13,
  BPF_CGROUP_UDP4_SENDMSG: 14,
  BPF_CGROUP_UDP6_SENDMSG: 15,
  BPF_LIRC_MODE2: 16,
  BPF_FLOW_DISSECTOR: 17,
  BPF_CGROUP_SYSCTL: 18,
  BPF_CGROUP_UDP4_RECVMSG: 19,
  BPF_CGROUP_UDP6_RECVMSG: 20,
  BPF_CGROUP_GETSOCKOPT: 21,
  BPF_CGROUP_SETSOCKOPT: 22,
  BPF_TRACE_RAW_TP: 23,
  BPF_TRACE_FENTRY: 24,
  BPF_TRACE_FEXIT: 25,
  BPF_MODIFY_RETURN: 26,
  BPF_LSM_MAC: 27,
  BPF_TRACE_ITER: 28,
  BPF_CGROUP_INET4_GETPEERNAME: 29,
  BPF_CGROUP_INET6_GETPEERNAME: 30,
  BPF_CGROUP_INET4_GETSOCKNAME: 31,
  BPF_CGROUP_INET6_GETSOCKNAME: 32,
  BPF_XDP_DEVMAP: 33,
  BPF_CGROUP_INET_SOCK_RELEASE: 34,
  BPF_XDP_CPUMAP: 35,
  BPF_SK_LOOKUP: 36,
  BPF_XDP: 37,
  BPF_SK_SKB_VERDICT: 38,
  BPF_SK_REUSEPORT_SELECT: 39,
  BPF_SK_REUSEPORT_SELECT_OR_MIGRATE: 40,
  BPF_PERF_EVENT: 41,
  BPF_TRACE_KPROBE_MULTI: 42,
  BPF_LSM_CGROUP: 43,
  BPF_STRUCT_OPS: 44,
  BPF_NETFILTER: 45,
  BPF_TCX_INGRESS: 46,
  BPF_TCX_EGRESS: 47,
  BPF_TRACE_UPROBE_MULTI: 48,
  BPF_CGROUP_UNIX_CONNECT: 49,
  BPF_CGROUP_UNIX_SENDMSG: 50,
  BPF_CGROUP_UNIX_RECVMSG: 51,
  BPF_CGROUP_UNIX_GETPEERNAME: 52,
  BPF_CGROUP_UNIX_GETSOCKNAME: 53,
  BPF_NETKIT_PRIMARY: 54,
  BPF_NETKIT_PEER: 55,
  BPF_TRACE_KPROBE_SESSION: 56,
  BPF_TRACE_UPROBE_SESSION: 57,
} as const;


// Enum values are their position, so the key order gives number -> name.
const MAP_TYPE_SUFFIXES = Object.keys(BPF_MAP_TYPE).map((k) => k.slice('BPF_MAP_TYPE_'.length).toLowerCase());
const PROG_TYPE_SUFFIXES = Object.keys(BPF_PROG_TYPE).map((k) => k.slice('BPF_PROG_TYPE_'.length).toLowerCase());
const ATTACH_TYPE_NAMES = Object.keys(BPF_ATTACH_TYPE);

/** libbpf's name of a map type (`hash`, `lru_hash`, ...), or `unknown(N)`. */
export function mapTypeName(type: number): string {
  return MAP_TYPE_SUFFIXES[type] ?? `unknown(${type})`;
}

/** libbpf's name of a program type (`sched_cls`, `xdp`, ...), or `unknown(N)`. */
export function progTypeName(type: number): string {
  return PROG_TYPE_SUFFIXES[type] ?? `unknown(${type})`;
}

/** The kernel's name of an attach type (`BPF_CGROUP_INET4_CONNECT`), or `unknown(N)`. */
export function attachTypeName(type: number): string {
  return ATTACH_TYPE_NAMES[type] ?? `unknown(${type})`;
}

// Map creation flags used by the loader (uapi bpf.h).
export const BPF_F_NO_PREALLOC = 1 << 0;
export const BPF_F_NO_COMMON_LRU = 1 << 1;
export const BPF_F_NUMA_NODE = 1 << 2;
export const BPF_F_RDONLY = 1 << 3;
export const BPF_F_WRONLY = 1 << 4;
export const BPF_F_RDONLY_PROG = 1 << 7;
export const BPF_F_WRONLY_PROG = 1 << 8;
export const BPF_F_MMAPABLE = 1 << 10;
export const BPF_F_INNER_MAP = 1 << 12;

// BPF_PROG_LOAD prog_flags implied by section names (uapi bpf.h).
export const BPF_F_SLEEPABLE = 1 << 4;
export const BPF_F_XDP_HAS_FRAGS = 1 << 5;

/** BPF_OBJ_NAME_LEN (uapi bpf.h): kernel object names hold 15 characters and a NUL. */
export const BPF_OBJ_NAME_LEN = 16;

/** enum libbpf_pin_type (bpf_helpers.h). */
export const LIBBPF_PIN_NONE = 0;
export const LIBBPF_PIN_BY_NAME = 1;
