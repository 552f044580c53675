// Emulated sockets that drive the cgroup socket address hooks the way the kernel's socket calls
// do, so a test can act as an application: connect to a ClusterIP, send, receive the backend's
// reply, and check what the application sees at every step.
//
// Where the kernel runs each hook (net/ipv4/af_inet.c, net/ipv4/udp.c, net/ipv6/*):
//   bind()        cgroup/bind4|6          before the address is taken (inet_bind)
//   connect()     cgroup/connect4|6       on the address passed; the socket connects to the
//                                         address as the program left it (__inet_stream_connect,
//                                         udp: ip4_datagram_connect via inet_dgram_connect)
//   sendmsg()     cgroup/sendmsg4|6       UDP only, and only with a destination (an unconnected
//                                         sendto); the datagram goes where the program left it
//   recvmsg()     cgroup/recvmsg4|6       UDP only, on the source address about to be returned;
//                                         the application sees it as the program left it
//   getpeername() cgroup/getpeername4|6   on the peer address about to be returned
//   getsockname() cgroup/getsockname4|6   on the local address about to be returned
// Every socket has a cookie from the environment's one global counter (sock_gen_cookie), which
// bpf_get_socket_cookie returns in the hooks: the key of Cilium's reverse-NAT map for UDP.
import type { CtxRunner, SockAddrRunResult } from '../ctx/runner.js';
import { IPPROTO_TCP, IPPROTO_UDP, SOCK_DGRAM, SOCK_STREAM, sockAddrHookOf, sockAddrState, type SockAddrHook, type SockAddrState } from '../ctx/sock-addr.js';
import { formatIP as formatAnyIP, parseIP } from '../env/addr.js';
import type { Environment } from '../env/environment.js';

export interface Endpoint {
  addr: string;
  port: number;
}

/** What one program run at a hook did during a socket call. */
export interface HookRun {
  hook: SockAddrHook;
  program: string;
  allowed: boolean;
  retval: number;
  /** The address the program was given, and the one it left. */
  before: Endpoint;
  after: Endpoint;
  printk: string[];
  insnCount: number;
  fault?: string;
}

export interface SocketCallResult<T = undefined> {
  /** 0, or the negative errno the call returns (-EPERM when a hook rejected it). */
  errno: number;
  value?: T;
  hooks: HookRun[];
}

export interface Datagram {
  from: Endpoint;
  to: Endpoint;
  data: Uint8Array;
}

export class SocketHostError extends Error {
  override name = 'SocketHostError';
}

const AF_INET = 2;
const AF_INET6 = 10;
const EPERM = 1;
const EISCONN = 106;
const EAGAIN = 11;
const ENOTCONN = 107;
const EDESTADDRREQ = 89;

/**
 * An address as the application reads it: an IPv4-mapped IPv6 address in the mixed form
 * ::ffff:10.96.0.10 (RFC 5952 section 5; glibc's inet_ntop and Python print it so), any
 * other address as src/env/addr.ts formats it.
 */
function formatIP(addr: Uint8Array): string {
  const mapped = addr.length === 16 && addr.subarray(0, 10).every((b) => b === 0) && addr[10] === 0xff && addr[11] === 0xff;
  return mapped ? `::ffff:${addr.subarray(12).join('.')}` : formatAnyIP(addr);
}

function parseEndpoint(text: string): Endpoint {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m) throw new SocketHostError(`'${text}' is not an address:port (10.96.0.10:53, [fd00::10]:53)`);
  const port = Number(m[2]);
  if (port > 65535) throw new SocketHostError(`'${text}': port ${port} is out of range`);
  return { addr: formatIP(parseIP(m[1], text).addr), port };
}

export const formatEndpoint = (e: Endpoint): string => (e.addr.includes(':') ? `[${e.addr}]:${e.port}` : `${e.addr}:${e.port}`);

/** The programs of an object attached to the cgroup, by hook (one program per hook). */
export class SocketHost {
  private readonly programs = new Map<SockAddrHook, string>();
  /** The next ephemeral port (net.ipv4.ip_local_port_range starts at 32768). */
  private nextPort = 32768;
  private readonly sockets: EmulatedSocket[] = [];

  constructor(
    readonly runner: CtxRunner,
    attach: readonly string[] | 'all' = 'all',
  ) {
    for (const p of runner.bed.programs) {
      const hook = p.spec.expectedAttachType && sockAddrHookOf(p.spec.expectedAttachType.name);
      if (!hook || (attach !== 'all' && !attach.includes(p.name))) continue;
      if (this.programs.has(hook)) throw new SocketHostError(`two programs for cgroup/${hook}: ${this.programs.get(hook)} and ${p.name}; attach one`);
      this.programs.set(hook, p.name);
    }
  }

  get env(): Environment {
    return this.runner.bed.env;
  }

  /** socket(AF_INET or AF_INET6, SOCK_STREAM or SOCK_DGRAM). */
  socket(protocol: 'tcp' | 'udp', family: 4 | 6 = 4): EmulatedSocket {
    // sock_gen_cookie: from the same global counter as the environment's sockets
    const cookie = BigInt(++this.env.state.lastSocketCookie);
    const s = new EmulatedSocket(this, protocol, family, cookie);
    this.sockets.push(s);
    return s;
  }

  /** Whether `addr` is one of the environment's device addresses. */
  isLocalAddress(addr: string): boolean {
    return this.env.state.devices.some((d) => d.addrs.some((a) => formatIP(a.addr) === addr));
  }

  ephemeralPort(): number {
    return this.nextPort++;
  }

  /** The socket bound to `to`, if any (where a datagram to it is delivered). */
  socketAt(to: Endpoint, protocol: 'tcp' | 'udp'): EmulatedSocket | undefined {
    return this.sockets.find((s) => s.protocol === protocol && s.local && s.local.port === to.port && (s.local.addr === to.addr || s.local.addr === '0.0.0.0' || s.local.addr === '::'));
  }

  /** Runs the program at `hook` (if one is attached) on `addr`; returns the run and the address it left. */
  runHook(socket: EmulatedSocket, hook: SockAddrHook, addr: Endpoint, msgSrc?: Endpoint): { run?: HookRun; addr: Endpoint } {
    const program = this.programs.get(hook);
    if (!program) return { addr };
    const bytes = parseIP(addr.addr, addr.addr).addr;
    const v6 = bytes.length === 16;
    const state: SockAddrState = sockAddrState(hook, {
      cookie: socket.cookie,
      userFamily: v6 ? AF_INET6 : AF_INET,
      userIp4: v6 ? new Uint8Array(4) : bytes,
      userIp6: v6 ? bytes : new Uint8Array(16),
      userPort: addr.port,
      ...(msgSrc ? { msgSrcIp4: parseIP(msgSrc.addr, msgSrc.addr).addr } : {}),
    });
    // ctx->type and ctx->protocol are the socket's (sk->sk_type, sk->sk_protocol: net/core/filter.c
    // sock_addr_convert_ctx_access), not the hook's: a connect4 on a UDP socket sees IPPROTO_UDP.
    state.sk.type = socket.protocol === 'udp' ? SOCK_DGRAM : SOCK_STREAM;
    state.sk.protocol = socket.protocol === 'udp' ? IPPROTO_UDP : IPPROTO_TCP;
    state.sk.srcIp = socket.local ? parseIP(socket.local.addr, 'local').addr : undefined;
    state.sk.srcPort = socket.local?.port;
    const res: SockAddrRunResult = this.runner.runSockAddr(program, state);
    const after: Endpoint = res.fault
      ? addr
      : { addr: formatIP(res.addr.userFamily === AF_INET6 ? res.addr.userIp6 : res.addr.userIp4), port: res.addr.userPort };
    const run: HookRun = {
      hook,
      program,
      allowed: !res.fault && (res.outcome?.allowed ?? false),
      retval: res.fault ? -EPERM : (res.outcome?.retval ?? 0),
      before: addr,
      after,
      printk: res.printk,
      insnCount: res.insnCount,
    };
    if (res.fault) run.fault = res.fault.message;
    return { run, addr: after };
  }
}

export class EmulatedSocket {
  /** The addresses as the kernel holds them (after any rewrite), not as the application sees them. */
  local?: Endpoint;
  peer?: Endpoint;
  private readonly queue: Datagram[] = [];
  /** Datagrams and segments this socket sent, with where they really went. */
  readonly sent: Datagram[] = [];

  constructor(
    private readonly host: SocketHost,
    readonly protocol: 'tcp' | 'udp',
    readonly family: 4 | 6,
    readonly cookie: bigint,
  ) {}

  private hook(kind: 'bind' | 'connect' | 'sendmsg' | 'recvmsg' | 'getpeername' | 'getsockname'): SockAddrHook {
    return `${kind}${this.family}` as SockAddrHook;
  }

  /** The source address the kernel picks for a destination: the device address of the route's family. */
  private autobind(to: Endpoint): void {
    if (this.local) return;
    if (this.family === 6 && to.addr.startsWith('::ffff:') && to.addr.includes('.')) {
      // An IPv4-mapped destination goes out over IPv4, from the IPv4 source mapped back.
      const v4 = this.v4Source(to.addr.slice(7));
      this.local = { addr: `::ffff:${v4}`, port: this.host.ephemeralPort() };
      return;
    }
    // A destination on this host (loopback, or one of its device addresses) is reached from
    // that same address (the kernel's route to a local address has it as preferred source).
    const loopback = to.addr.startsWith('127.') || to.addr === '::1' || this.host.isLocalAddress(to.addr);
    const dev = this.host.env.state.devices.find((d) => d.name !== 'lo' && d.addrs.some((a) => a.addr.length === (this.family === 4 ? 4 : 16)));
    const addr = loopback ? to.addr : dev ? formatIP(dev.addrs.find((a) => a.addr.length === (this.family === 4 ? 4 : 16))!.addr) : this.family === 4 ? '0.0.0.0' : '::';
    this.local = { addr, port: this.host.ephemeralPort() };
  }

  /** The IPv4 source for an IPv4 destination (as autobind picks one for a socket of family 4). */
  private v4Source(to: string): string {
    if (to.startsWith('127.') || this.host.isLocalAddress(to)) return to;
    const a = this.host.env.state.devices.flatMap((d) => (d.name === 'lo' ? [] : d.addrs)).find((x) => x.addr.length === 4);
    return a ? formatIP(a.addr) : '0.0.0.0';
  }

  bind(local: string): SocketCallResult {
    const { run, addr } = this.host.runHook(this, this.hook('bind'), parseEndpoint(local));
    if (run && !run.allowed) return { errno: run.retval, hooks: [run] };
    this.local = addr;
    return { errno: 0, hooks: run ? [run] : [] };
  }

  /** connect(): the hook may rewrite the destination; the socket connects to what it leaves. */
  connect(to: string): SocketCallResult<Endpoint> {
    if (this.protocol === 'tcp' && this.peer) return { errno: -EISCONN, hooks: [] };
    const { run, addr } = this.host.runHook(this, this.hook('connect'), parseEndpoint(to));
    if (run && !run.allowed) return { errno: run.retval, hooks: [run] };
    this.autobind(addr);
    this.peer = addr;
    return { errno: 0, value: addr, hooks: run ? [run] : [] };
  }

  /** getpeername(): what the application is told it is connected to. */
  getpeername(): SocketCallResult<Endpoint> {
    if (!this.peer) return { errno: -ENOTCONN, hooks: [] };
    const { run, addr } = this.host.runHook(this, this.hook('getpeername'), this.peer);
    return { errno: 0, value: addr, hooks: run ? [run] : [] };
  }

  getsockname(): SocketCallResult<Endpoint> {
    const local = this.local ?? { addr: this.family === 4 ? '0.0.0.0' : '::', port: 0 };
    const { run, addr } = this.host.runHook(this, this.hook('getsockname'), local);
    return { errno: 0, value: addr, hooks: run ? [run] : [] };
  }

  /**
   * sendmsg()/sendto(): with `to` on a UDP socket the sendmsg hook runs and the datagram goes
   * where it leaves it; without `to` it goes to the connected peer (no hook runs).
   */
  sendmsg(data: Uint8Array, to?: string): SocketCallResult<Datagram> {
    let dst: Endpoint;
    const hooks: HookRun[] = [];
    if (to !== undefined && this.protocol === 'udp') {
      const { run, addr } = this.host.runHook(this, this.hook('sendmsg'), parseEndpoint(to));
      if (run) hooks.push(run);
      if (run && !run.allowed) return { errno: run.retval, hooks };
      dst = addr;
    } else if (this.peer) {
      dst = this.peer;
    } else {
      return { errno: this.protocol === 'udp' ? -EDESTADDRREQ : -ENOTCONN, hooks };
    }
    this.autobind(dst);
    const datagram: Datagram = { from: this.local!, to: dst, data };
    this.sent.push(datagram);
    return { errno: 0, value: datagram, hooks };
  }

  /** Something arrived for this socket from the network (a backend's reply). */
  deliver(from: string, data: Uint8Array): void {
    if (!this.local) throw new SocketHostError('deliver: the socket has no local address yet (connect or send first)');
    this.queue.push({ from: parseEndpoint(from), to: this.local, data });
  }

  /** recvmsg(): the next datagram, with its source as the application sees it (after the recvmsg hook, UDP). */
  recvmsg(): SocketCallResult<Datagram> {
    const d = this.queue.shift();
    if (!d) return { errno: -EAGAIN, hooks: [] };
    if (this.protocol !== 'udp') return { errno: 0, value: d, hooks: [] };
    const { run, addr } = this.host.runHook(this, this.hook('recvmsg'), d.from);
    return { errno: 0, value: { ...d, from: addr }, hooks: run ? [run] : [] };
  }
}
