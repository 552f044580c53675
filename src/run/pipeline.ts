// One packet's way through the emulated node, hook by hook, as the kernel's receive and transmit
// paths order them:
//   ingress on device D:  XDP (netif_receive_skb → do_xdp_generic / driver XDP)
//                         → tc ingress (sch_handle_ingress) → the local stack
//   egress on device D:   tc egress (sch_handle_egress) → the wire of D
// A tc redirect (bpf_redirect, skb_do_redirect in net/core/filter.c) sends the packet to the
// egress of the target (its tc egress runs, then it leaves), or with BPF_F_INGRESS to the
// target's ingress; bpf_redirect_peer to the ingress of the target; bpf_redirect_neigh to the
// target's egress with the L2 header filled from the neighbour table (bpf_out_neigh_v4/v6,
// which skip tc egress: they call neigh_output directly). XDP_TX leaves the same device,
// XDP_REDIRECT the target device (ndo_xdp_xmit: no tc egress). bpf_redirect_map (xdp_do_redirect
// in net/core/filter.c) sends the frame where the map's entry says: a DEVMAP / DEVMAP_HASH entry
// to that device's egress (dev_map_enqueue: ndo_xdp_xmit, after the entry's BPF_XDP_DEVMAP
// program if it has one), with BPF_F_BROADCAST a copy to every device of the map, the ingress
// device left out with BPF_F_EXCLUDE_INGRESS (dev_map_enqueue_multi); a CPUMAP entry up the stack
// on that CPU (cpu_map_enqueue: the CPU's kthread runs the entry's BPF_XDP_CPUMAP program if it
// has one, builds the skb and runs the receive path, so tc ingress of the receiving device runs
// there); an XSKMAP entry to the AF_XDP socket, output `xsk:<socket>`. Not emulated on these
// paths: the target device's XDP features (is_valid_dst: every bpfbed device takes
// ndo_xdp_xmit) and xdp_ok_fwd_dev's MTU check. Loops stop after XMIT_RECURSION_LIMIT (8) hops,
// where the kernel's dev_xmit_recursion() would drop.
import type { Environment } from '../env/environment.js';
import { findNeighbour, lookupRoute } from '../env/fib.js';
import type { DeviceState } from '../env/types.js';
import type { CtxRunner, SkbRunResult, XdpRunResult } from '../ctx/runner.js';
import { skbSharingFrame, type SkbState } from '../ctx/skb.js';
import { xdpFromFrame } from '../ctx/xdp.js';
import { BPF_F_BROADCAST, BPF_F_EXCLUDE_INGRESS, type RedirectRecord } from '../helpers/packet-helpers.js';
import type { CpumapTarget } from '../maps/cpumap.js';
import type { DevMap, DevmapTarget } from '../maps/devmap.js';
import type { XskmapTarget } from '../maps/xskmap.js';
import type { AttachPoint, PacketMetadata, ProgramBinding } from '../scenario/types.js';
import type { TraceEntry } from '../vm/types.js';

export const XMIT_RECURSION_LIMIT = 8; // include/linux/netdevice.h

/** One program run on the packet's way. */
export interface Hop {
  program: string;
  attach: AttachPoint;
  device: string;
  verdict: string;
  redirect?: {
    kind: RedirectRecord['kind'];
    ifindex: number;
    ingress: boolean;
    device?: string;
    /** bpf_redirect_map: the map the target came from. */
    map?: string;
    /** A CPUMAP redirect: the CPU the packet went up the stack on. */
    cpu?: number;
    /** An XSKMAP redirect: the AF_XDP socket. */
    socket?: number;
    /** BPF_F_BROADCAST: the devices the copies went to. */
    devices?: string[];
  };
  insnCount: number;
  fault?: string;
  printk: string[];
  tailCalls: number;
  /** The instructions executed, when the run was traced (RunOptions.traceLimit). */
  trace?: TraceEntry[];
}

export interface PacketFate {
  /** Device name the packet leaves on, 'stack' (passed up), or 'drop'. */
  output: string;
  /** Why it was dropped, when it was. */
  reason?: string;
  /** The bytes as they leave (undefined when dropped). */
  data?: Uint8Array;
  hops: Hop[];
  /** Packets bpf_clone_redirect sent elsewhere, with where they went. */
  clones: { output: string; data: Uint8Array }[];
}

interface Position {
  device: DeviceState;
  direction: 'ingress' | 'egress';
}

/**
 * What an skb keeps from one hook to the next (mark, priority, cb do survive a redirect), one
 * fixed shape: building the next skb from it takes plain stores, where object spreads per hop
 * cost more than the program's run (bench/packets/nodeport.ts measured it).
 */
interface CarriedMeta {
  mark: number;
  priority: number;
  cb: number[];
  tcIndex: number;
  queueMapping: number;
  hash: number;
  /** skb_iif; 0 until a hook has seen the packet (an egress-first packet has none). */
  ingressIfindex: number;
  tstamp: bigint;
}

/** fate with its ending filled in (fate is the caller's own object: no copy needed). */
function finish(fate: PacketFate, output: string, data?: Uint8Array, reason?: string): PacketFate {
  fate.output = output;
  if (reason !== undefined) fate.reason = reason;
  fate.data = data;
  return fate;
}

export class Pipeline {
  constructor(
    private readonly runner: CtxRunner,
    private readonly env: Environment,
    private readonly bindings: readonly ProgramBinding[],
    private readonly budget?: number,
    private readonly traceLimit?: number,
  ) {}

  private programAt(attach: AttachPoint, device: string): ProgramBinding | undefined {
    return this.bindings.find((b) => b.attach === attach && (b.device === undefined || b.device === device));
  }

  private device(ifindex: number): DeviceState | undefined {
    return this.env.deviceByIndex(0, ifindex);
  }

  /** Sends one frame in at `device` in `direction` and follows it until it leaves or dies. */
  process(frame: Uint8Array, deviceName: string, direction: 'ingress' | 'egress', meta: PacketMetadata = {}): PacketFate {
    // A CPUMAP redirect moves the rest of the packet's way to another CPU; the next packet
    // starts on the CPU the scenario runs on again.
    const cpu = this.runner.bed.cpu;
    try {
      return this.follow(frame, deviceName, direction, meta);
    } finally {
      if (this.runner.bed.cpu !== cpu) this.runner.bed.cpu = cpu;
    }
  }

  private follow(frame: Uint8Array, deviceName: string, direction: 'ingress' | 'egress', meta: PacketMetadata): PacketFate {
    const device = this.env.deviceByName(0, deviceName);
    if (!device) throw new Error(`no device named ${deviceName} in the environment`);
    const fate: PacketFate = { output: 'drop', hops: [], clones: [] };
    let data = frame;
    let at: Position = { device, direction };
    let skbMeta: CarriedMeta = {
      mark: meta.mark ?? 0,
      priority: meta.priority ?? 0,
      cb: meta.cb ? [...meta.cb, 0, 0, 0, 0, 0].slice(0, 5) : [0, 0, 0, 0, 0],
      tcIndex: meta.tcIndex ?? 0,
      queueMapping: meta.queueMapping ?? 0,
      hash: meta.hash ?? 0,
      ingressIfindex: 0,
      tstamp: 0n,
    };
    let runXdp = direction === 'ingress';
    for (let hop = 0; hop <= XMIT_RECURSION_LIMIT; hop++) {
      if (at.direction === 'ingress') {
        const xdp = runXdp ? this.programAt('xdp', at.device.name) : undefined;
        if (xdp) {
          const res = this.runner.runXdp(xdp.program, xdpFromFrame(data, { ingressIfindex: at.device.ifindex }), { budget: this.budget, traceLimit: this.traceLimit });
          fate.hops.push(this.hop(xdp, at.device.name, res, res.verdict.name, res.redirect));
          if (res.fault) return finish(fate, 'drop', undefined, `fault in ${xdp.program}`);
          data = res.xdp.data;
          switch (res.verdict.name) {
            case 'XDP_PASS':
              break;
            case 'XDP_TX':
              return finish(fate, at.device.name, data);
            case 'XDP_REDIRECT': {
              if (res.redirect?.kind === 'redirect_map') {
                const next = this.followMapRedirect(res.redirect, at.device, data, fate);
                if ('output' in next) return finish(fate, next.output, next.output === 'drop' ? undefined : (next.data ?? data), next.reason);
                // a CPUMAP entry: the receive path again, on that CPU, without XDP
                if (next.data) data = next.data;
                at = next.at;
                runXdp = false;
                continue;
              }
              const target = res.redirect ? this.device(res.redirect.ifindex) : undefined;
              if (!target) return finish(fate, 'drop', undefined, 'XDP_REDIRECT to no device');
              return finish(fate, target.name, data);
            }
            default:
              return finish(fate, 'drop', undefined, res.verdict.name);
          }
        }
        const tc = this.programAt('tc/ingress', at.device.name);
        if (!tc) return finish(fate, 'stack', data);
        const res = this.runSkb(tc, at, data, skbMeta);
        fate.hops.push(this.hop(tc, at.device.name, res, res.verdict.name, res.redirect));
        this.collectClones(res, fate);
        if (res.fault) return finish(fate, 'drop', undefined, `fault in ${tc.program}`);
        data = res.skb.data;
        skbMeta = carryOver(res.skb);
        const next = this.afterTc(res, at, fate);
        if ('output' in next) return finish(fate, next.output, next.output === 'drop' ? undefined : (next.data ?? data), next.reason);
        if (next.data) data = next.data;
        at = next.at;
        runXdp = false;
        continue;
      }
      const tc = this.programAt('tc/egress', at.device.name);
      if (!tc) return finish(fate, at.device.name, data);
      const res = this.runSkb(tc, at, data, skbMeta);
      fate.hops.push(this.hop(tc, at.device.name, res, res.verdict.name, res.redirect));
      this.collectClones(res, fate);
      if (res.fault) return finish(fate, 'drop', undefined, `fault in ${tc.program}`);
      data = res.skb.data;
      skbMeta = carryOver(res.skb);
      if (isPass(res.verdict.name)) return finish(fate, at.device.name, data);
      const next = this.afterTc(res, at, fate);
      if ('output' in next) return finish(fate, next.output, next.output === 'drop' ? undefined : (next.data ?? data), next.reason);
      if (next.data) data = next.data;
      at = next.at;
      runXdp = false;
    }
    return finish(fate, 'drop', undefined, `more than ${XMIT_RECURSION_LIMIT} redirects (dev_xmit_recursion)`);
  }

  /**
   * Where a bpf_redirect_map sends the frame (xdp_do_redirect → __xdp_do_redirect_frame): leave
   * (a device, an AF_XDP socket), die, or go on up the stack of `rx` on another CPU.
   */
  private followMapRedirect(
    r: RedirectRecord,
    rx: DeviceState,
    data: Uint8Array,
    fate: PacketFate,
    depth = 0,
  ): { output: string; reason?: string; data?: Uint8Array } | { at: Position; data?: Uint8Array } {
    if (depth > XMIT_RECURSION_LIMIT) return { output: 'drop', reason: `more than ${XMIT_RECURSION_LIMIT} redirects (dev_xmit_recursion)` };
    const hop = fate.hops[fate.hops.length - 1].redirect!;
    hop.map = r.map!.name;
    if (r.flags & BPF_F_BROADCAST) {
      const map = this.runner.bed.registry.byId(r.map!.id) as DevMap | undefined;
      if (!map || typeof map.broadcastTargets !== 'function') return { output: 'drop', reason: `BPF_F_BROADCAST on map ${r.map!.name}, which is no device map` };
      const targets = map.broadcastTargets(r.flags & BPF_F_EXCLUDE_INGRESS ? rx.ifindex : undefined);
      // every entry gets a copy (the kernel clones n-1 times and sends the frame itself last)
      const sent: { output: string; data: Uint8Array }[] = [];
      for (const t of targets) {
        const out = this.toDevice(t, rx, data, fate, true);
        if (out.output !== 'drop') sent.push({ output: out.output, data: out.data ?? data });
      }
      hop.devices = sent.map((c) => c.output);
      // "dtab is empty": the frame is returned (dropped)
      if (sent.length === 0) return { output: 'drop', reason: `BPF_F_BROADCAST: map ${r.map!.name} has no device to send to` };
      const last = sent.pop()!;
      for (const c of sent) fate.clones.push(c);
      return last;
    }
    const target = r.target as DevmapTarget | CpumapTarget | XskmapTarget | undefined;
    switch (target?.kind) {
      case 'device':
        return this.toDevice(target, rx, data, fate, false);
      case 'cpu':
        hop.cpu = target.cpu;
        this.runner.bed.cpu = target.cpu;
        return target.progId ? this.onCpu(target, rx, data, fate, depth) : { at: { device: rx, direction: 'ingress' } };
      case 'xsk':
        hop.socket = target.socket;
        return { output: `xsk:${target.socket}` };
      default:
        return { output: 'drop', reason: `XDP_REDIRECT through map ${r.map!.name}: no target bpfbed can follow` };
    }
  }

  /**
   * A CPUMAP entry's BPF_XDP_CPUMAP program, on the target CPU before the skb is built
   * (cpu_map_bpf_prog_run_xdp): XDP_PASS goes on up the stack, XDP_REDIRECT is followed
   * (xdp_do_redirect with the receiving device), anything else drops the frame.
   */
  private onCpu(t: CpumapTarget, rx: DeviceState, data: Uint8Array, fate: PacketFate, depth: number): { output: string; reason?: string; data?: Uint8Array } | { at: Position; data?: Uint8Array } {
    const prog = this.runner.bed.programs.find((p) => p.id === t.progId);
    if (!prog) return { output: 'drop', reason: `cpumap entry ${t.cpu}: program id ${t.progId} does not exist` };
    const res = this.runner.runXdp(prog.name, xdpFromFrame(data, { ingressIfindex: rx.ifindex }), { budget: this.budget, traceLimit: this.traceLimit });
    fate.hops.push(this.hop({ program: prog.name, attach: 'xdp', device: rx.name }, rx.name, res, res.verdict.name, res.redirect));
    if (res.fault) return { output: 'drop', reason: `fault in ${prog.name}` };
    switch (res.verdict.name) {
      case 'XDP_PASS':
        return { at: { device: rx, direction: 'ingress' }, data: res.xdp.data };
      case 'XDP_REDIRECT': {
        const r = res.redirect;
        if (r?.kind === 'redirect_map') return this.followMapRedirect(r, rx, res.xdp.data, fate, depth + 1);
        const dev = r ? this.device(r.ifindex) : undefined;
        return dev ? { output: dev.name, data: res.xdp.data } : { output: 'drop', reason: 'XDP_REDIRECT to no device' };
      }
      default:
        return { output: 'drop', reason: `${prog.name} (cpumap program): ${res.verdict.name}` };
    }
  }

  /**
   * A frame to a DEVMAP entry's device (dev_map_enqueue → bq_xmit_all): through the entry's
   * BPF_XDP_DEVMAP program first when it has one (dev_map_bpf_prog_run: XDP_PASS sends it,
   * anything else drops it), then out of the device.
   */
  private toDevice(t: DevmapTarget, rx: DeviceState, data: Uint8Array, fate: PacketFate, broadcast: boolean): { output: string; reason?: string; data?: Uint8Array } {
    const dev = this.device(t.ifindex);
    if (!dev) return { output: 'drop', reason: `XDP_REDIRECT to ifindex ${t.ifindex} (map key ${t.key}), which does not exist` };
    if (!broadcast) fate.hops[fate.hops.length - 1].redirect!.device = dev.name;
    if (!t.progId) return { output: dev.name, data };
    const prog = this.runner.bed.programs.find((p) => p.id === t.progId);
    if (!prog) return { output: 'drop', reason: `devmap entry ${t.key}: program id ${t.progId} does not exist` };
    const res = this.runner.runXdp(prog.name, xdpFromFrame(data, { ingressIfindex: rx.ifindex, egressIfindex: dev.ifindex }), { budget: this.budget, traceLimit: this.traceLimit });
    fate.hops.push(this.hop({ program: prog.name, attach: 'xdp', device: dev.name }, dev.name, res, res.verdict.name, res.redirect));
    if (res.fault) return { output: 'drop', reason: `fault in ${prog.name}` };
    if (res.verdict.name !== 'XDP_PASS') return { output: 'drop', reason: `${prog.name} (devmap program): ${res.verdict.name}` };
    return { output: dev.name, data: res.xdp.data };
  }

  private runSkb(binding: ProgramBinding, at: Position, data: Uint8Array, meta: CarriedMeta): SkbRunResult {
    // `data` is the caller's frame or the previous hop's output: runSkb only reads it.
    const skb = skbSharingFrame(data, { deviceMac: at.device.mac });
    skb.mark = meta.mark;
    skb.priority = meta.priority;
    skb.cb = meta.cb;
    skb.tcIndex = meta.tcIndex;
    skb.queueMapping = meta.queueMapping;
    skb.hash = meta.hash;
    skb.tstamp = meta.tstamp;
    skb.ifindex = at.device.ifindex;
    skb.ingressIfindex = at.direction === 'ingress' ? at.device.ifindex : meta.ingressIfindex;
    skb.direction = at.direction;
    return this.runner.runSkb(binding.program, skb, this.runOptions);
  }

  /** The same options object for every run (one literal per packet showed in the profile). */
  private get runOptions(): { budget?: number; traceLimit?: number } {
    return (this.runOpts ??= { budget: this.budget, traceLimit: this.traceLimit });
  }
  private runOpts: { budget?: number; traceLimit?: number } | undefined;

  /** What a tc verdict means for the packet: leave, die, or go on at another hook. */
  private afterTc(
    res: SkbRunResult,
    at: Position,
    fate: PacketFate,
  ): { output: string; reason?: string; data?: Uint8Array } | { at: Position; data?: Uint8Array } {
    const verdict = res.verdict.name;
    if (isPass(verdict)) return { output: at.direction === 'ingress' ? 'stack' : at.device.name };
    if (verdict === 'TC_ACT_SHOT' || verdict === 'TCX_DROP') return { output: 'drop', reason: verdict };
    if (verdict === 'TC_ACT_STOLEN' || verdict === 'TC_ACT_QUEUED' || verdict === 'TC_ACT_TRAP') return { output: 'drop', reason: `${verdict} (consumed)` };
    if (verdict !== 'TC_ACT_REDIRECT' && verdict !== 'TCX_REDIRECT') return { output: 'drop', reason: `unhandled verdict ${verdict}` };
    const r = res.redirect;
    if (!r) return { output: 'drop', reason: 'TC_ACT_REDIRECT without a redirect helper call' };
    const target = this.device(r.ifindex);
    if (!target) return { output: 'drop', reason: `redirect to ifindex ${r.ifindex}, which does not exist` };
    const last = fate.hops[fate.hops.length - 1];
    if (last?.redirect) last.redirect.device = target.name;
    switch (r.kind) {
      case 'redirect_peer':
        return { at: { device: target, direction: 'ingress' } };
      case 'redirect_neigh': {
        const l2 = this.neighbourL2(res.skb, target, r);
        if ('reason' in l2) return { output: 'drop', reason: l2.reason };
        return { output: target.name, data: l2.data };
      }
      default:
        return { at: { device: target, direction: r.ingress ? 'ingress' : 'egress' } };
    }
  }

  /**
   * bpf_redirect_neigh: the next hop is the one given, else the route to the packet's
   * destination out of the target device; its MAC comes from the neighbour table
   * (bpf_out_neigh_v4 / v6). Without a resolved neighbour the kernel queues the packet behind
   * an ARP / ND query; here, with no one to answer, it is dropped and said so.
   */
  private neighbourL2(skb: SkbState, target: DeviceState, r: RedirectRecord): { data: Uint8Array } | { reason: string } {
    const frame = skb.data.slice();
    const etherType = (frame[12] << 8) | frame[13];
    let nexthop = r.nexthop?.address;
    if (!nexthop) {
      const dst = etherType === 0x0800 ? frame.subarray(30, 34) : etherType === 0x86dd ? frame.subarray(38, 54) : undefined;
      if (!dst) return { reason: 'bpf_redirect_neigh: not IPv4 or IPv6' };
      const found = lookupRoute(this.env, 0, dst, { oif: target.ifindex });
      if (found.kind !== 'route') return { reason: `bpf_redirect_neigh: no route out of ${target.name} (${found.kind})` };
      nexthop = found.route.gateway ?? dst.slice();
    }
    const hop = nexthop;
    const neigh = findNeighbour(this.env, 0, target.ifindex, hop);
    if (!neigh?.mac) return { reason: `bpf_redirect_neigh: neighbour ${formatAddr(hop)} on ${target.name} not resolved` };
    frame.set(neigh.mac, 0);
    frame.set(target.mac, 6);
    return { data: frame };
  }

  private collectClones(res: SkbRunResult, fate: PacketFate): void {
    for (const c of res.clones) {
      const dev = this.device(c.ifindex);
      fate.clones.push({ output: dev ? (c.ingress ? 'stack' : dev.name) : 'drop', data: c.data });
    }
  }

  private hop(binding: ProgramBinding, device: string, res: SkbRunResult | XdpRunResult, verdict: string, redirect?: RedirectRecord): Hop {
    const hop: Hop = {
      program: binding.program,
      attach: binding.attach,
      device,
      // A fault ends the run with whatever r0 held: no verdict the kernel could have given (its
      // verifier would have refused the program), so the hop says FAULT instead of decoding r0.
      verdict: res.fault ? 'FAULT' : verdict,
      insnCount: res.insnCount,
      printk: res.printk,
      tailCalls: res.tailCalls.length,
    };
    if (res.fault) hop.fault = res.fault.message;
    if (res.trace) hop.trace = res.trace;
    if (redirect) hop.redirect = { kind: redirect.kind, ifindex: redirect.ifindex, ingress: redirect.ingress };
    return hop;
  }
}

const isPass = (v: string) => v === 'TC_ACT_OK' || v === 'TC_ACT_UNSPEC' || v === 'TC_ACT_PIPE' || v === 'TC_ACT_RECLASSIFY' || v === 'TCX_PASS' || v === 'TCX_NEXT';

/** What an skb keeps from one hook to the next (mark, priority, cb do survive a redirect). */
function carryOver(s: SkbState): CarriedMeta {
  return { mark: s.mark, priority: s.priority, cb: s.cb.slice(), tcIndex: s.tcIndex, queueMapping: s.queueMapping, hash: s.hash, ingressIfindex: s.ingressIfindex, tstamp: s.tstamp };
}

function formatAddr(a: Uint8Array): string {
  return a.length === 4 ? [...a].join('.') : [...a].map((b) => b.toString(16).padStart(2, '0')).join('');
}
