// Runs programs of the datapath types on their contexts: a Testbed whose Machine has the packet
// and socket address helpers registered, and one call per packet (or socket operation) that lays
// out the context, runs, and reads back the verdict, the packet, the fields the program wrote,
// and what the helpers recorded (redirects, clones, bpf_set_retval).
import { fastPacketHelpers, packetHelpers, type ActiveRun, type CloneRecord, type PacketHelperHost, type PacketRunRecord, type RedirectRecord } from '../helpers/packet-helpers.js';
import { sockAddrHelpers } from '../helpers/sock-addr-helpers.js';
import type { ObjectSpec } from '../loader/spec.js';
import { loadObject } from '../loader/object.js';
import type { BpfMap } from '../maps/types.js';
import { Testbed, type LoadedProgram, type RunOutcome, type TestbedOptions } from '../testbed/testbed.js';
import type { Machine } from '../vm/machine.js';
import type { HostHelper } from '../vm/types.js';
import { SkbRun, type SkbProgramKind, type SkbState } from './skb.js';
import { SockAddrRun, sockAddrHookOf, sockAddrOutcome, type SockAddrHook, type SockAddrOutcome, type SockAddrState } from './sock-addr.js';
import { socketFilterVerdict, tcVerdict, tcxVerdict, xdpVerdict, type Verdict } from './verdicts.js';
import { XdpRun, type XdpState } from './xdp.js';

export interface CtxRunnerOptions extends TestbedOptions {
  /** bpf_redirect_map targets (default: the map's value for the key). */
  redirectTarget?(map: BpfMap, key: number): unknown;
  /**
   * Does an ifindex exist (bpf_clone_redirect's dev_get_by_index)? Default: only the loopback
   * device (1), as in BPF_PROG_TEST_RUN's world; the environment's device table plugs in here.
   */
  deviceExists?(ifindex: number): boolean;
  /** Cookies for sockets that have none yet (the environment's socket table); default: a counter from 1. */
  socketCookie?(): bigint;
  /** Seed of the emulated flow hash (bpf_get_hash_recalc). */
  hashSeed?: number;
}

export interface CtxRunOptions {
  budget?: number;
  traceLimit?: number;
}

interface CommonResult extends RunOutcome {
  program: string;
}

export interface SkbRunResult extends CommonResult {
  verdict: Verdict;
  /** The skb after the run (packet bytes, fields the program wrote, helper changes). */
  skb: SkbState;
  redirect?: RedirectRecord;
  clones: CloneRecord[];
  /** bpf_sk_assign: the environment's socket id the packet was steered to. */
  assignedSocket?: number;
}

export interface XdpRunResult extends CommonResult {
  verdict: Verdict;
  xdp: XdpState;
  redirect?: RedirectRecord;
}

export interface SockAddrRunResult extends CommonResult {
  /** undefined when the run faulted. */
  outcome?: SockAddrOutcome;
  /** The addresses after the run (what connect / sendmsg use, what recvmsg / getpeername report). */
  addr: SockAddrState;
}

/** Which context a program type runs with. */
export function contextKindOf(progType: string): SkbProgramKind | 'xdp' | 'sock_addr' | undefined {
  switch (progType) {
    case 'sched_cls':
    case 'sched_act':
      return 'tc';
    case 'socket_filter':
      return 'socket_filter';
    case 'xdp':
      return 'xdp';
    case 'cgroup_sock_addr':
      return 'sock_addr';
    default:
      return undefined;
  }
}

export class CtxRunner implements PacketHelperHost {
  private current: ActiveRun | undefined;
  /** Context and packet layouts kept across runs (allocating them per packet dominates a run). */
  private readonly skbRuns = new Map<SkbProgramKind, SkbRun>();
  private readonly xdpRuns = new Map<boolean, XdpRun>();
  private cookieCounter = 0n;
  bed!: Testbed;

  private constructor(private readonly opts: CtxRunnerOptions) {}

  static async create(spec: ObjectSpec, opts: CtxRunnerOptions = {}): Promise<CtxRunner> {
    const runner = new CtxRunner(opts);
    const packet = packetHelpers(runner);
    const helpers = new Map<number, HostHelper>([...packet, ...sockAddrHelpers(runner), ...(opts.helpers ?? [])]);
    runner.bed = await Testbed.create(spec, {
      ...opts,
      helpers,
      ctxBytes: (ctx, len) => runner.ctxBytes(ctx, len),
      // bpf_sk_lookup_*: dev_net(skb->dev) and skb->dev->ifindex of the packet being processed
      socketCaller: () => {
        const a = runner.current;
        return { netns: 0, ifindex: a && (a.kind === 'tc' || a.kind === 'socket_filter') ? a.run.state.ifindex : 0 };
      },
      onSocketAssign: (id) => {
        if (runner.current) runner.current.record.assignedSocket = id;
      },
    });
    // The helpers most packets call, on the Machine's fast path (same semantics, no HelperCall
    // and fewer BigInts per call), unless the caller replaced them.
    for (const [id, fn] of fastPacketHelpers(runner)) {
      if (helpers.get(id) === packet.get(id)) runner.machine.setFastHelper(id, fn);
    }
    return runner;
  }

  static async fromObject(bytes: Uint8Array, opts: CtxRunnerOptions & { name?: string } = {}): Promise<CtxRunner> {
    return CtxRunner.create(loadObject(bytes, { name: opts.name }), opts);
  }

  get machine(): Machine {
    return this.bed.machine;
  }
  active(): ActiveRun | undefined {
    return this.current;
  }
  mapByHandle(handle: bigint): BpfMap | undefined {
    return this.bed.registry.byHandle(handle);
  }
  redirectTarget(map: BpfMap, key: number): unknown {
    if (this.opts.redirectTarget) return this.opts.redirectTarget(map, key);
    const k = new Uint8Array(map.keySize);
    new DataView(k.buffer).setUint32(0, key, true);
    const v = map.read(k);
    return v && v.some((b) => b !== 0) ? v : undefined;
  }
  deviceExists(ifindex: number): boolean {
    return this.opts.deviceExists ? this.opts.deviceExists(ifindex) : ifindex === 1;
  }
  newSocketCookie(): bigint {
    if (this.opts.socketCookie) return this.opts.socketCookie();
    return ++this.cookieCounter;
  }
  get hashSeed(): number {
    return this.opts.hashSeed ?? 0;
  }

  /**
   * The first `len` packet bytes of the running skb or XDP context `ctx`, for
   * bpf_perf_event_output's BPF_F_CTXLEN_MASK (src/helpers/map-helpers.ts MapHelperEnv.ctxBytes):
   * -EFAULT when the packet is shorter (bpf_skb_copy / xdp copy), -EINVAL outside a packet run.
   */
  ctxBytes(ctx: bigint, len: number): Uint8Array | number {
    const a = this.current;
    if (!a || a.kind === 'sock_addr' || ctx !== a.run.ctxAddress) return -22;
    if (len > a.run.buffer.length) return -14;
    return a.run.buffer.view().slice(0, len);
  }

  private program(name: string, kinds: readonly string[]): LoadedProgram {
    const prog = this.bed.program(name);
    const kind = contextKindOf(prog.spec.type);
    if (!kind || !kinds.includes(kind)) {
      throw new Error(`program ${name} (section ${prog.spec.section}, type ${prog.spec.type}) does not run with this context (expected ${kinds.join(' or ')})`);
    }
    return prog;
  }

  /** One run through the Testbed (which also collects bpf_printk output, tail calls and events). */
  private exec(prog: LoadedProgram, active: ActiveRun, opts: CtxRunOptions, ldAbsRegion?: number): RunOutcome {
    this.current = active;
    try {
      return this.bed.run(prog, [active.run.ctxAddress], { budget: opts.budget, traceLimit: opts.traceLimit, ldAbsRegion });
    } finally {
      this.current = undefined;
    }
  }

  /**
   * Runs a tc (sched_cls / sched_act / tcx) or socket filter program on an skb. The verdict is
   * TC_ACT_* (TCX_* for tcx sections), or for socket filters the bytes kept.
   */
  runSkb(name: string, skb: SkbState, opts: CtxRunOptions = {}): SkbRunResult {
    const prog = this.program(name, ['tc', 'socket_filter']);
    const kind = contextKindOf(prog.spec.type) as SkbProgramKind;
    let run = this.skbRuns.get(kind);
    if (run) run.load(skb);
    else this.skbRuns.set(kind, (run = new SkbRun(this.machine, skb, kind)));
    const record: PacketRunRecord = { clones: [], retval: 0 };
    const active: ActiveRun = kind === 'tc' ? { kind: 'tc', run, record } : { kind: 'socket_filter', run, record };
    const res = this.exec(prog, active, opts, run.buffer.packetRegion);
    const after = run.collect();
    // libbpf's tc/ingress and tc/egress are tcx aliases: both carry BPF_TCX_* attach types.
    const tcx = prog.spec.expectedAttachType?.name.startsWith('BPF_TCX_') === true;
    const verdict = kind === 'socket_filter' ? socketFilterVerdict(res.r0, after.data.length) : tcx ? tcxVerdict(res.r0) : tcVerdict(res.r0);
    // Extend the run's result in place, property by property, rather than spread it or
    // Object.assign a literal onto it: this runs for every packet (bench/packets measured both).
    const out = res as SkbRunResult;
    out.program = name;
    out.verdict = verdict;
    out.skb = after;
    out.clones = record.clones;
    if (record.redirect) out.redirect = record.redirect;
    if (record.assignedSocket !== undefined) out.assignedSocket = record.assignedSocket;
    return out;
  }

  /** Runs an XDP program on a frame; `xdp/devmap` programs may read egress_ifindex. */
  runXdp(name: string, xdp: XdpState, opts: CtxRunOptions = {}): XdpRunResult {
    const prog = this.program(name, ['xdp']);
    const devmap = prog.spec.expectedAttachType?.name === 'BPF_XDP_DEVMAP';
    let run = this.xdpRuns.get(devmap);
    if (run) run.load(xdp);
    else this.xdpRuns.set(devmap, (run = new XdpRun(this.machine, xdp, devmap)));
    const record: PacketRunRecord = { clones: [], retval: 0 };
    const res = this.exec(prog, { kind: 'xdp', run, record }, opts);
    const out: XdpRunResult = { ...res, program: name, verdict: xdpVerdict(res.r0), xdp: run.collect() };
    if (record.redirect) out.redirect = record.redirect;
    return out;
  }

  /**
   * Runs a cgroup socket address program for one socket operation. The hook comes from the
   * program's section (cgroup/connect4 ...); `addr.hook` must agree.
   */
  runSockAddr(name: string, addr: SockAddrState, opts: CtxRunOptions = {}): SockAddrRunResult {
    const prog = this.program(name, ['sock_addr']);
    const hook: SockAddrHook | undefined = prog.spec.expectedAttachType && sockAddrHookOf(prog.spec.expectedAttachType.name);
    if (!hook) throw new Error(`program ${name}: section ${prog.spec.section} names no socket address hook`);
    if (addr.hook !== hook) throw new Error(`program ${name} runs at cgroup/${hook}, but the socket operation is ${addr.hook}`);
    if (!addr.sk.cookie) addr.sk.cookie = this.newSocketCookie();
    const run = new SockAddrRun(this.machine, addr);
    const record: PacketRunRecord = { clones: [], retval: 0 };
    try {
      const res = this.exec(prog, { kind: 'sock_addr', run, record }, opts);
      const out: SockAddrRunResult = { ...res, program: name, addr: run.collect() };
      if (!res.fault) out.outcome = sockAddrOutcome(hook, res.r0, record.retval);
      return out;
    } finally {
      run.release();
    }
  }
}
