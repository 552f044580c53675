// struct bpf_sock_addr (include/uapi/linux/bpf.h) for the cgroup socket address hooks
// (BPF_PROG_TYPE_CGROUP_SOCK_ADDR): connect, bind, sendmsg, recvmsg, getpeername, getsockname.
// Field access per attach type as sock_addr_is_valid_access allows (net/core/filter.c), the
// return values the verifier accepts per hook (kernel/bpf/verifier.c check_return_code) and
// what the kernel makes of them (kernel/bpf/cgroup.c __cgroup_bpf_run_filter_sock_addr and
// bpf_prog_run_array_cg).
import type { Machine } from '../vm/machine.js';
import type { CtxAccessTable } from '../vm/types.js';
import { CtxTableBuilder, NARROW4, SZ4, SZ8 } from './access.js';
import { BPF_SOCK_SIZE, writeBpfSock, type BpfSockFields } from './bpf-sock.js';

export const BPF_SOCK_ADDR_SIZE = 72;
export const SOCK_ADDR = {
  user_family: 0,
  user_ip4: 4,
  user_ip6: 8, // __u32[4]
  user_port: 24,
  family: 28,
  type: 32,
  protocol: 36,
  msg_src_ip4: 40,
  msg_src_ip6: 44, // __u32[4]
  sk: 64, // __bpf_md_ptr
} as const;

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const EPERM = 1;

/** The hooks, by libbpf's section suffix (cgroup/connect4 ...) with their BPF_CGROUP_* attach types. */
export const SOCK_ADDR_HOOKS = {
  bind4: 'BPF_CGROUP_INET4_BIND',
  bind6: 'BPF_CGROUP_INET6_BIND',
  connect4: 'BPF_CGROUP_INET4_CONNECT',
  connect6: 'BPF_CGROUP_INET6_CONNECT',
  sendmsg4: 'BPF_CGROUP_UDP4_SENDMSG',
  sendmsg6: 'BPF_CGROUP_UDP6_SENDMSG',
  recvmsg4: 'BPF_CGROUP_UDP4_RECVMSG',
  recvmsg6: 'BPF_CGROUP_UDP6_RECVMSG',
  getpeername4: 'BPF_CGROUP_INET4_GETPEERNAME',
  getpeername6: 'BPF_CGROUP_INET6_GETPEERNAME',
  getsockname4: 'BPF_CGROUP_INET4_GETSOCKNAME',
  getsockname6: 'BPF_CGROUP_INET6_GETSOCKNAME',
} as const;
export type SockAddrHook = keyof typeof SOCK_ADDR_HOOKS;

/** The hook of an attach type name ('BPF_CGROUP_INET4_CONNECT' -> 'connect4'). */
export function sockAddrHookOf(attachType: string): SockAddrHook | undefined {
  return (Object.keys(SOCK_ADDR_HOOKS) as SockAddrHook[]).find((h) => SOCK_ADDR_HOOKS[h] === attachType);
}

const isV6 = (h: SockAddrHook): boolean => h.endsWith('6');
const isSendmsg = (h: SockAddrHook): boolean => h.startsWith('sendmsg');

/**
 * sock_addr_is_valid_access: user_ip4 only for the IPv4 hooks, user_ip6 only for the IPv6
 * ones, msg_src_ip4/6 only for sendmsg4/6; those and user_port allow narrow loads and 4-byte
 * stores (user_ip6 and msg_src_ip6 also 8-byte loads and stores at 8-byte aligned offsets);
 * user_family, family, type and protocol are 4-byte loads only; sk an 8-byte load.
 */
export function sockAddrAccessTable(hook: SockAddrHook): CtxAccessTable {
  let table = sockAddrTables.get(hook);
  if (!table) sockAddrTables.set(hook, (table = buildSockAddrAccessTable(hook)));
  return table;
}
const sockAddrTables = new Map<SockAddrHook, CtxAccessTable>();

function buildSockAddrAccessTable(hook: SockAddrHook): CtxAccessTable {
  const t = new CtxTableBuilder(BPF_SOCK_ADDR_SIZE);
  for (const off of [SOCK_ADDR.user_family, SOCK_ADDR.family, SOCK_ADDR.type, SOCK_ADDR.protocol]) t.whole(off, 4, SZ4);
  t.field(SOCK_ADDR.user_port, 4, NARROW4, SZ4);
  if (!isV6(hook)) t.field(SOCK_ADDR.user_ip4, 4, NARROW4, SZ4);
  if (isV6(hook)) wideField(t, SOCK_ADDR.user_ip6);
  if (isSendmsg(hook) && !isV6(hook)) t.field(SOCK_ADDR.msg_src_ip4, 4, NARROW4, SZ4);
  if (isSendmsg(hook) && isV6(hook)) wideField(t, SOCK_ADDR.msg_src_ip6);
  t.whole(SOCK_ADDR.sk, 8, SZ8);
  t.pointer(SOCK_ADDR.sk, 0n);
  return t.build();
}

/** A __u32[4] address: narrow loads and 4-byte stores per word, plus bpf_ctx_wide_access_ok. */
function wideField(t: CtxTableBuilder, off: number): void {
  for (let i = 0; i < 4; i++) t.field(off + 4 * i, 4, NARROW4, SZ4);
  for (let p = off; p + 8 <= off + 16; p += 4) {
    if (p % 8 !== 0) continue;
    t.readSizes[p] |= SZ8;
    t.writeSizes[p] |= SZ8;
  }
}

/** The socket behind ctx->sk (a full socket: PTR_TO_SOCKET). */
export interface SockAddrSocket extends BpfSockFields {
  /** sock_gen_cookie(); 0n until the runner assigns one. */
  cookie: bigint;
  family: number;
  type: number;
  protocol: number;
}

export interface SockAddrState {
  hook: SockAddrHook;
  /** The sockaddr the application passed (or receives): family, address, port (host order). */
  userFamily: number;
  userIp4: Uint8Array;
  userIp6: Uint8Array;
  userPort: number;
  /** sendmsg: the source address the application asked for (IP_PKTINFO), else zeros. */
  msgSrcIp4: Uint8Array;
  msgSrcIp6: Uint8Array;
  sk: SockAddrSocket;
}

/** A state for `hook` with a UDP or TCP socket of the hook's family. */
export function sockAddrState(hook: SockAddrHook, init: Partial<SockAddrState> & { cookie?: bigint } = {}): SockAddrState {
  const family = isV6(hook) ? AF_INET6 : AF_INET;
  const udp = hook.startsWith('sendmsg') || hook.startsWith('recvmsg');
  const { cookie, ...rest } = init;
  return {
    hook,
    userFamily: family,
    userIp4: new Uint8Array(4),
    userIp6: new Uint8Array(16),
    userPort: 0,
    msgSrcIp4: new Uint8Array(4),
    msgSrcIp6: new Uint8Array(16),
    sk: {
      cookie: cookie ?? 0n,
      family,
      type: udp ? SOCK_DGRAM : SOCK_STREAM,
      protocol: udp ? IPPROTO_UDP : IPPROTO_TCP,
    },
    ...rest,
  };
}

export class SockAddrRun {
  readonly ctxOffset: number;
  readonly ctxRegion: number;
  private readonly skOffset: number;
  private readonly skRegion: number;

  constructor(
    readonly machine: Machine,
    readonly state: SockAddrState,
  ) {
    this.ctxOffset = machine.alloc(BPF_SOCK_ADDR_SIZE, 8);
    this.ctxRegion = machine.addCtxRegion(this.ctxOffset, BPF_SOCK_ADDR_SIZE, 'bpf_sock_addr', sockAddrAccessTable(state.hook));
    this.skOffset = machine.alloc(BPF_SOCK_SIZE, 8);
    this.skRegion = machine.addRegion(this.skOffset, BPF_SOCK_SIZE, { kind: 'mem', name: 'bpf_sock of ctx->sk', read: true, write: false });
    machine.setPointerField(this.ctxRegion, SOCK_ADDR.sk, machine.toVirtual(this.skOffset));
    const dv = this.dv();
    const o = this.ctxOffset;
    const s = state;
    dv.setUint32(o + SOCK_ADDR.user_family, s.userFamily, true);
    new Uint8Array(dv.buffer, dv.byteOffset + o + SOCK_ADDR.user_ip4, 4).set(s.userIp4.subarray(0, 4));
    new Uint8Array(dv.buffer, dv.byteOffset + o + SOCK_ADDR.user_ip6, 16).set(s.userIp6.subarray(0, 16));
    // user_port: sin_port (__be16) in the low 16 bits, as the ctx rewrite loads it.
    dv.setUint16(o + SOCK_ADDR.user_port, s.userPort & 0xffff, false);
    dv.setUint32(o + SOCK_ADDR.family, s.sk.family, true);
    dv.setUint32(o + SOCK_ADDR.type, s.sk.type, true);
    dv.setUint32(o + SOCK_ADDR.protocol, s.sk.protocol, true);
    new Uint8Array(dv.buffer, dv.byteOffset + o + SOCK_ADDR.msg_src_ip4, 4).set(s.msgSrcIp4.subarray(0, 4));
    new Uint8Array(dv.buffer, dv.byteOffset + o + SOCK_ADDR.msg_src_ip6, 16).set(s.msgSrcIp6.subarray(0, 16));
    writeBpfSock(dv, this.skOffset, s.sk);
  }

  get ctxAddress(): bigint {
    return this.machine.toVirtual(this.ctxOffset);
  }

  private dv(): DataView {
    const b = this.machine.bytes();
    return new DataView(b.buffer, b.byteOffset, b.byteLength);
  }

  /** The addresses as the program left them (stores of user_port keep its low 16 bits). */
  collect(): SockAddrState {
    const dv = this.dv();
    const b = this.machine.bytes();
    const o = this.ctxOffset;
    return {
      ...this.state,
      userIp4: b.slice(o + SOCK_ADDR.user_ip4, o + SOCK_ADDR.user_ip4 + 4),
      userIp6: b.slice(o + SOCK_ADDR.user_ip6, o + SOCK_ADDR.user_ip6 + 16),
      userPort: dv.getUint16(o + SOCK_ADDR.user_port, false),
      msgSrcIp4: b.slice(o + SOCK_ADDR.msg_src_ip4, o + SOCK_ADDR.msg_src_ip4 + 4),
      msgSrcIp6: b.slice(o + SOCK_ADDR.msg_src_ip6, o + SOCK_ADDR.msg_src_ip6 + 16),
      sk: { ...this.state.sk },
    };
  }

  release(): void {
    this.machine.removeRegion(this.ctxRegion);
    this.machine.removeRegion(this.skRegion);
    this.machine.free(this.ctxOffset);
    this.machine.free(this.skOffset);
  }
}

export function prepareSockAddrRun(machine: Machine, state: SockAddrState): SockAddrRun {
  return new SockAddrRun(machine, state);
}

/**
 * The return values the verifier accepts (check_return_code): [1, 1] for recvmsg, getpeername
 * and getsockname, [0, 3] for bind (bit 1: BPF_RET_BIND_NO_CAP_NET_BIND_SERVICE), [0, 1] else.
 */
export function sockAddrReturnRange(hook: SockAddrHook): [number, number] {
  if (hook.startsWith('recvmsg') || hook.startsWith('getpeername') || hook.startsWith('getsockname')) return [1, 1];
  if (hook.startsWith('bind')) return [0, 3];
  return [0, 1];
}

export interface SockAddrOutcome {
  /** What the hook returns to the socket call: 0, or a negative errno (-EPERM when rejected). */
  retval: number;
  allowed: boolean;
  /** bind: BPF_RET_BIND_NO_CAP_NET_BIND_SERVICE was returned (func_ret >> 1). */
  bindNoCapNetBindService: boolean;
  /** recvmsg/getpeername/getsockname: the caller ignores retval (the address rewrite is what counts). */
  ignored: boolean;
}

const isErrValue = (v: number): boolean => v < 0 && v >= -4095;

/**
 * What bpf_prog_run_array_cg makes of one program's return value `r0` and the run context's
 * retval (`runRetval`, 0 unless bpf_set_retval changed it): func_ret >> 1 goes to the flags,
 * func_ret & 1 == 0 turns a non-error retval into -EPERM. A value outside the verifier's range
 * throws: the kernel would have refused to load the program.
 */
export function sockAddrOutcome(hook: SockAddrHook, r0: bigint, runRetval: number): SockAddrOutcome {
  const ret = Number(BigInt.asIntN(32, r0));
  const [lo, hi] = sockAddrReturnRange(hook);
  if (ret < lo || ret > hi) {
    throw new Error(`cgroup/${hook}: the program returned ${ret}; the verifier only accepts programs that return ${lo === hi ? lo : `${lo}..${hi}`} here (check_return_code)`);
  }
  let funcRet = ret;
  let flags = 0;
  if (hook.startsWith('bind')) {
    flags = funcRet >> 1;
    funcRet &= 1;
  }
  let retval = runRetval;
  if (!funcRet && !isErrValue(retval)) retval = -EPERM;
  return {
    retval,
    allowed: retval === 0,
    bindNoCapNetBindService: (flags & 1) !== 0,
    ignored: lo === 1 && hi === 1,
  };
}
