// libbpf's section_defs table (tools/lib/bpf/libbpf.c, libbpf 1.5 era) and its matching
// rules (sec_def_matches): an entry ending in '/' matches by prefix; one ending in '+'
// matches the exact name or the name followed by '/...'; any other entry matches exactly.
// The first matching entry in table order wins, so order matters ("tc/ingress" before "tc").
import { BPF_ATTACH_TYPE, BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS, BPF_PROG_TYPE, attachTypeName, progTypeName } from './uapi.js';

// enum sec_def_flags (libbpf.c).
export const SEC_NONE = 0;
/** expected_attach_type is optional if the kernel does not support it. */
export const SEC_EXP_ATTACH_OPT = 1;
/** Attachable with BPF_PROG_ATTACH; expected_attach_type is needed. */
export const SEC_ATTACHABLE = 2;
export const SEC_ATTACHABLE_OPT = SEC_ATTACHABLE | SEC_EXP_ATTACH_OPT;
/** The program attaches to a BTF id (fentry, lsm, ...). */
export const SEC_ATTACH_BTF = 4;
/** BPF_F_SLEEPABLE at load. */
export const SEC_SLEEPABLE = 8;
/** BPF_F_XDP_HAS_FRAGS at load. */
export const SEC_XDP_FRAGS = 16;
/** USDT probe. */
export const SEC_USDT = 32;

type ProgTypeKey = keyof typeof BPF_PROG_TYPE extends `BPF_PROG_TYPE_${infer K}` ? K : never;
type AttachKey = keyof typeof BPF_ATTACH_TYPE;

export interface SectionDef {
  /** The pattern as libbpf spells it ("tc", "cgroup/connect4", "kprobe+", "xdp.frags/devmap"). */
  pattern: string;
  progType: number;
  /** 0 when libbpf passes no expected attach type (0 is also BPF_CGROUP_INET_INGRESS; see hasAttachType). */
  attachType: number;
  hasAttachType: boolean;
  flags: number;
}

const def = (pattern: string, prog: ProgTypeKey, attach: AttachKey | 0, flags: number): SectionDef => ({
  pattern,
  progType: BPF_PROG_TYPE[`BPF_PROG_TYPE_${prog}`],
  attachType: attach === 0 ? 0 : BPF_ATTACH_TYPE[attach],
  hasAttachType: attach !== 0,
  flags,
});

export const SECTION_DEFS: readonly SectionDef[] = [
  def('socket', 'SOCKET_FILTER', 0, SEC_NONE),
  def('sk_reuseport/migrate', 'SK_REUSEPORT', 'BPF_SK_REUSEPORT_SELECT_OR_MIGRATE', SEC_ATTACHABLE),
  def('sk_reuseport', 'SK_REUSEPORT', 'BPF_SK_REUSEPORT_SELECT', SEC_ATTACHABLE),
  def('kprobe+', 'KPROBE', 0, SEC_NONE),
  def('uprobe+', 'KPROBE', 0, SEC_NONE),
  def('uprobe.s+', 'KPROBE', 0, SEC_SLEEPABLE),
  def('kretprobe+', 'KPROBE', 0, SEC_NONE),
  def('uretprobe+', 'KPROBE', 0, SEC_NONE),
  def('uretprobe.s+', 'KPROBE', 0, SEC_SLEEPABLE),
  def('kprobe.multi+', 'KPROBE', 'BPF_TRACE_KPROBE_MULTI', SEC_NONE),
  def('kretprobe.multi+', 'KPROBE', 'BPF_TRACE_KPROBE_MULTI', SEC_NONE),
  def('kprobe.session+', 'KPROBE', 'BPF_TRACE_KPROBE_SESSION', SEC_NONE),
  def('uprobe.multi+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', SEC_NONE),
  def('uretprobe.multi+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', SEC_NONE),
  def('uprobe.session+', 'KPROBE', 'BPF_TRACE_UPROBE_SESSION', SEC_NONE),
  def('uprobe.multi.s+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', SEC_SLEEPABLE),
  def('uretprobe.multi.s+', 'KPROBE', 'BPF_TRACE_UPROBE_MULTI', SEC_SLEEPABLE),
  def('uprobe.session.s+', 'KPROBE', 'BPF_TRACE_UPROBE_SESSION', SEC_SLEEPABLE),
  def('ksyscall+', 'KPROBE', 0, SEC_NONE),
  def('kretsyscall+', 'KPROBE', 0, SEC_NONE),
  def('usdt+', 'KPROBE', 0, SEC_USDT),
  def('usdt.s+', 'KPROBE', 0, SEC_USDT | SEC_SLEEPABLE),
  def('tc/ingress', 'SCHED_CLS', 'BPF_TCX_INGRESS', SEC_NONE), // alias for tcx
  def('tc/egress', 'SCHED_CLS', 'BPF_TCX_EGRESS', SEC_NONE), // alias for tcx
  def('tcx/ingress', 'SCHED_CLS', 'BPF_TCX_INGRESS', SEC_NONE),
  def('tcx/egress', 'SCHED_CLS', 'BPF_TCX_EGRESS', SEC_NONE),
  def('tc', 'SCHED_CLS', 0, SEC_NONE), // deprecated / legacy, use tcx
  def('classifier', 'SCHED_CLS', 0, SEC_NONE), // deprecated / legacy, use tcx
  def('action', 'SCHED_ACT', 0, SEC_NONE), // deprecated / legacy, use tcx
  def('netkit/primary', 'SCHED_CLS', 'BPF_NETKIT_PRIMARY', SEC_NONE),
  def('netkit/peer', 'SCHED_CLS', 'BPF_NETKIT_PEER', SEC_NONE),
  def('tracepoint+', 'TRACEPOINT', 0, SEC_NONE),
  def('tp+', 'TRACEPOINT', 0, SEC_NONE),
  def('raw_tracepoint+', 'RAW_TRACEPOINT', 0, SEC_NONE),
  def('raw_tp+', 'RAW_TRACEPOINT', 0, SEC_NONE),
  def('raw_tracepoint.w+', 'RAW_TRACEPOINT_WRITABLE', 0, SEC_NONE),
  def('raw_tp.w+', 'RAW_TRACEPOINT_WRITABLE', 0, SEC_NONE),
  def('tp_btf+', 'TRACING', 'BPF_TRACE_RAW_TP', SEC_ATTACH_BTF),
  def('fentry+', 'TRACING', 'BPF_TRACE_FENTRY', SEC_ATTACH_BTF),
  def('fmod_ret+', 'TRACING', 'BPF_MODIFY_RETURN', SEC_ATTACH_BTF),
  def('fexit+', 'TRACING', 'BPF_TRACE_FEXIT', SEC_ATTACH_BTF),
  def('fentry.s+', 'TRACING', 'BPF_TRACE_FENTRY', SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def('fmod_ret.s+', 'TRACING', 'BPF_MODIFY_RETURN', SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def('fexit.s+', 'TRACING', 'BPF_TRACE_FEXIT', SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def('freplace+', 'EXT', 0, SEC_ATTACH_BTF),
  def('lsm+', 'LSM', 'BPF_LSM_MAC', SEC_ATTACH_BTF),
  def('lsm.s+', 'LSM', 'BPF_LSM_MAC', SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def('lsm_cgroup+', 'LSM', 'BPF_LSM_CGROUP', SEC_ATTACH_BTF),
  def('iter+', 'TRACING', 'BPF_TRACE_ITER', SEC_ATTACH_BTF),
  def('iter.s+', 'TRACING', 'BPF_TRACE_ITER', SEC_ATTACH_BTF | SEC_SLEEPABLE),
  def('syscall', 'SYSCALL', 0, SEC_SLEEPABLE),
  def('xdp.frags/devmap', 'XDP', 'BPF_XDP_DEVMAP', SEC_XDP_FRAGS),
  def('xdp/devmap', 'XDP', 'BPF_XDP_DEVMAP', SEC_ATTACHABLE),
  def('xdp.frags/cpumap', 'XDP', 'BPF_XDP_CPUMAP', SEC_XDP_FRAGS),
  def('xdp/cpumap', 'XDP', 'BPF_XDP_CPUMAP', SEC_ATTACHABLE),
  def('xdp.frags', 'XDP', 'BPF_XDP', SEC_XDP_FRAGS),
  def('xdp', 'XDP', 'BPF_XDP', SEC_ATTACHABLE_OPT),
  def('perf_event', 'PERF_EVENT', 0, SEC_NONE),
  def('lwt_in', 'LWT_IN', 0, SEC_NONE),
  def('lwt_out', 'LWT_OUT', 0, SEC_NONE),
  def('lwt_xmit', 'LWT_XMIT', 0, SEC_NONE),
  def('lwt_seg6local', 'LWT_SEG6LOCAL', 0, SEC_NONE),
  def('sockops', 'SOCK_OPS', 'BPF_CGROUP_SOCK_OPS', SEC_ATTACHABLE_OPT),
  def('sk_skb/stream_parser', 'SK_SKB', 'BPF_SK_SKB_STREAM_PARSER', SEC_ATTACHABLE_OPT),
  def('sk_skb/stream_verdict', 'SK_SKB', 'BPF_SK_SKB_STREAM_VERDICT', SEC_ATTACHABLE_OPT),
  def('sk_skb/verdict', 'SK_SKB', 'BPF_SK_SKB_VERDICT', SEC_ATTACHABLE_OPT),
  def('sk_skb', 'SK_SKB', 0, SEC_NONE),
  def('sk_msg', 'SK_MSG', 'BPF_SK_MSG_VERDICT', SEC_ATTACHABLE_OPT),
  def('lirc_mode2', 'LIRC_MODE2', 'BPF_LIRC_MODE2', SEC_ATTACHABLE_OPT),
  def('flow_dissector', 'FLOW_DISSECTOR', 'BPF_FLOW_DISSECTOR', SEC_ATTACHABLE_OPT),
  def('cgroup_skb/ingress', 'CGROUP_SKB', 'BPF_CGROUP_INET_INGRESS', SEC_ATTACHABLE_OPT),
  def('cgroup_skb/egress', 'CGROUP_SKB', 'BPF_CGROUP_INET_EGRESS', SEC_ATTACHABLE_OPT),
  def('cgroup/skb', 'CGROUP_SKB', 0, SEC_NONE),
  def('cgroup/sock_create', 'CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_CREATE', SEC_ATTACHABLE),
  def('cgroup/sock_release', 'CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_RELEASE', SEC_ATTACHABLE),
  def('cgroup/sock', 'CGROUP_SOCK', 'BPF_CGROUP_INET_SOCK_CREATE', SEC_ATTACHABLE_OPT),
  def('cgroup/post_bind4', 'CGROUP_SOCK', 'BPF_CGROUP_INET4_POST_BIND', SEC_ATTACHABLE),
  def('cgroup/post_bind6', 'CGROUP_SOCK', 'BPF_CGROUP_INET6_POST_BIND', SEC_ATTACHABLE),
  def('cgroup/bind4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_BIND', SEC_ATTACHABLE),
  def('cgroup/bind6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_BIND', SEC_ATTACHABLE),
  def('cgroup/connect4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_CONNECT', SEC_ATTACHABLE),
  def('cgroup/connect6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_CONNECT', SEC_ATTACHABLE),
  def('cgroup/connect_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_CONNECT', SEC_ATTACHABLE),
  def('cgroup/sendmsg4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP4_SENDMSG', SEC_ATTACHABLE),
  def('cgroup/sendmsg6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP6_SENDMSG', SEC_ATTACHABLE),
  def('cgroup/sendmsg_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_SENDMSG', SEC_ATTACHABLE),
  def('cgroup/recvmsg4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP4_RECVMSG', SEC_ATTACHABLE),
  def('cgroup/recvmsg6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UDP6_RECVMSG', SEC_ATTACHABLE),
  def('cgroup/recvmsg_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_RECVMSG', SEC_ATTACHABLE),
  def('cgroup/getpeername4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_GETPEERNAME', SEC_ATTACHABLE),
  def('cgroup/getpeername6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_GETPEERNAME', SEC_ATTACHABLE),
  def('cgroup/getpeername_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_GETPEERNAME', SEC_ATTACHABLE),
  def('cgroup/getsockname4', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET4_GETSOCKNAME', SEC_ATTACHABLE),
  def('cgroup/getsockname6', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_INET6_GETSOCKNAME', SEC_ATTACHABLE),
  def('cgroup/getsockname_unix', 'CGROUP_SOCK_ADDR', 'BPF_CGROUP_UNIX_GETSOCKNAME', SEC_ATTACHABLE),
  def('cgroup/sysctl', 'CGROUP_SYSCTL', 'BPF_CGROUP_SYSCTL', SEC_ATTACHABLE),
  def('cgroup/getsockopt', 'CGROUP_SOCKOPT', 'BPF_CGROUP_GETSOCKOPT', SEC_ATTACHABLE),
  def('cgroup/setsockopt', 'CGROUP_SOCKOPT', 'BPF_CGROUP_SETSOCKOPT', SEC_ATTACHABLE),
  def('cgroup/dev', 'CGROUP_DEVICE', 'BPF_CGROUP_DEVICE', SEC_ATTACHABLE_OPT),
  def('struct_ops+', 'STRUCT_OPS', 0, SEC_NONE),
  def('struct_ops.s+', 'STRUCT_OPS', 0, SEC_SLEEPABLE),
  def('sk_lookup', 'SK_LOOKUP', 'BPF_SK_LOOKUP', SEC_ATTACHABLE),
  def('netfilter', 'NETFILTER', 'BPF_NETFILTER', SEC_NONE),
];

/** libbpf's sec_def_matches. */
export function sectionDefMatches(pattern: string, section: string): boolean {
  const last = pattern[pattern.length - 1];
  if (last === '/') return section.startsWith(pattern);
  if (last === '+') {
    const stem = pattern.slice(0, -1);
    if (!section.startsWith(stem)) return false;
    return section.length === stem.length || section[stem.length] === '/';
  }
  return section === pattern;
}

/** libbpf's find_sec_def: the first matching entry, or undefined. */
export function findSectionDef(section: string): SectionDef | undefined {
  return SECTION_DEFS.find((d) => sectionDefMatches(d.pattern, section));
}

export interface SectionProgramType {
  /** libbpf's program type name: 'sched_cls', 'xdp', 'cgroup_sock_addr', ... */
  type: string;
  /** BPF_PROG_TYPE_* value. */
  typeId: number;
  /** The expected attach type the section implies, if any. */
  expectedAttachType?: { name: string; id: number };
  /** SEC_* flags of the matching table entry. */
  secFlags: number;
  /** BPF_PROG_LOAD prog_flags the section implies (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS). */
  progFlags: number;
  sleepable: boolean;
  xdpFrags: boolean;
  /** The table pattern that matched. */
  pattern: string;
}

/**
 * Program type, expected attach type and flags for an ELF section name, as libbpf's
 * libbpf_prog_type_by_name and bpf_object_init_progs derive them. Undefined when no
 * entry matches (libbpf then loads the program as BPF_PROG_TYPE_UNSPEC and fails).
 */
export function programTypeForSection(section: string): SectionProgramType | undefined {
  const d = findSectionDef(section);
  if (!d) return undefined;
  const sleepable = (d.flags & SEC_SLEEPABLE) !== 0;
  const xdpFrags = (d.flags & SEC_XDP_FRAGS) !== 0;
  return {
    type: progTypeName(d.progType),
    typeId: d.progType,
    expectedAttachType: d.hasAttachType ? { name: attachTypeName(d.attachType), id: d.attachType } : undefined,
    secFlags: d.flags,
    progFlags: (sleepable ? BPF_F_SLEEPABLE : 0) | (xdpFrags ? BPF_F_XDP_HAS_FRAGS : 0),
    sleepable,
    xdpFrags,
    pattern: d.pattern,
  };
}
