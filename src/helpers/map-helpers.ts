// The map helpers as host helper functions, by kernel helper number (include/uapi/linux/bpf.h),
// with the kernel's argument handling and return values (negative errno as a u64 in r0).
//
// Each takes the call's r1..r5 and a MapHelperEnv: the maps by handle, the VM memory, the
// current CPU. Keys and values are read straight from VM memory (no copies on the lookup path);
// one call from wasm into JavaScript per helper call. A pointer argument the verifier would have
// refused (outside VM memory, not a map) throws an Error naming the helper and the argument,
// which the Machine turns into a fault of the run.

import { errnoToU64, EAGAIN, EINVAL } from '../maps/errno.js';
import { PerfEventArrayMap } from '../maps/perf-event-array.js';
import { QueueStackMap } from '../maps/queue-stack.js';
import { RingbufMap } from '../maps/ringbuf.js';
import type { BpfMap, MapMemory } from '../maps/types.js';
import { BPF_F_CTXLEN_MASK, BPF_F_INDEX_MASK, BPF_RB_FORCE_WAKEUP, BPF_RB_NO_WAKEUP } from '../maps/uapi.js';
import type { FastHostHelper, HelperArgs } from '../vm/machine.js';
import { VBASE, type HelperCall, type HostHelper } from '../vm/types.js';

/** What the map helpers need from the machine they run in. */
export interface MapHelperEnv {
  mem: MapMemory;
  maps: {
    byHandle(handle: bigint): BpfMap | undefined;
    /** byHandle with the handle as unsigned 32-bit halves (MapRegistry has it; the fast path uses it). */
    byHandleParts?(lo: number, hi: number): BpfMap | undefined;
    byId(id: number): BpfMap | undefined;
  };
  /** The CPU the program runs on (raw_smp_processor_id()); may change between runs. */
  cpu: number;
  /** num_possible_cpus() (nr_cpu_ids). */
  nrCpus: number;
  /** Calls the BPF callback function at code address `fn` with r1..r5 = args; returns its r0. */
  callback?(fn: bigint, args: readonly bigint[]): bigint;
  /**
   * bpf_perf_event_output from skb/xdp programs: the first `len` packet bytes of the context
   * (BPF_F_CTXLEN_MASK), or a negative errno (-EFAULT when the packet is shorter). Absent: the
   * tracing variant, which refuses a context length with -EINVAL.
   */
  ctxBytes?(ctx: bigint, len: number): Uint8Array | number;
}

export type MapHelper = (env: MapHelperEnv, args: readonly bigint[]) => bigint;

const NULL = 0n;

function hex(v: bigint): string {
  return `0x${v.toString(16)}`;
}

function mapArg(env: MapHelperEnv, helper: string, v: bigint): BpfMap {
  const m = env.maps.byHandle(v);
  if (!m) throw new Error(`bpf_${helper}: r1 = ${hex(v)} is not a map`);
  return m;
}

// The VM memory of the last env seen, kept until the memory grows (which detaches the buffer,
// and a view of a detached buffer has length 0): no new view per helper call.
let viewMem: MapMemory | undefined;
let view: Uint8Array = new Uint8Array(0);

function bytes(env: MapHelperEnv): Uint8Array {
  if (viewMem !== env.mem || view.length === 0) {
    viewMem = env.mem;
    view = env.mem.bytes();
  }
  return view;
}

/**
 * wasm offset of `len` bytes at BPF pointer `addr` (VBASE + offset, the Machine's contract), or
 * throws naming the helper and argument.
 */
function memArg(env: MapHelperEnv, helper: string, arg: string, addr: bigint, len: number): number {
  const off = Number(addr - VBASE);
  if (!(off >= 0 && off + len <= bytes(env).length)) {
    throw new Error(`bpf_${helper}: ${arg} = ${hex(addr)} does not point to ${len} bytes of VM memory`);
  }
  return off;
}

/** Flags wider than 32 bits are invalid for every map operation; narrow them safely. */
function flags32(v: bigint): number {
  return v > 0xffff_ffffn ? 0xffff_ffff : Number(v);
}

const ret = (r: number): bigint => (r < 0 ? errnoToU64(r) : BigInt(r));

/** bpf_map_lookup_elem(map, key): value pointer or NULL (an inner map for maps of maps). */
function mapLookupElem(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const m = mapArg(env, 'map_lookup_elem', a[0]);
  const ko = m.keySize ? memArg(env, 'map_lookup_elem', 'key (r2)', a[1], m.keySize) : 0;
  return m.bpfLookup(bytes(env), ko, env.cpu);
}

/** The verifier refuses a program that changes a BPF_F_RDONLY_PROG map; here the call faults. */
function writable(helper: string, m: BpfMap): BpfMap {
  if (m.progReadOnly) throw new Error(`bpf_${helper}: map ${m.name} is read-only for programs (BPF_F_RDONLY_PROG); the verifier refuses this call`);
  return m;
}

/** bpf_map_update_elem(map, key, value, flags) */
function mapUpdateElem(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const m = writable('map_update_elem', mapArg(env, 'map_update_elem', a[0]));
  if (a[3] > 0xffff_ffffn) return errnoToU64(-EINVAL);
  const ko = m.keySize ? memArg(env, 'map_update_elem', 'key (r2)', a[1], m.keySize) : 0;
  const vo = m.valueSize ? memArg(env, 'map_update_elem', 'value (r3)', a[2], m.valueSize) : 0;
  const mem = bytes(env);
  return ret(m.bpfUpdate(mem, ko, mem, vo, flags32(a[3]), env.cpu));
}

/** bpf_map_delete_elem(map, key) */
function mapDeleteElem(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const m = writable('map_delete_elem', mapArg(env, 'map_delete_elem', a[0]));
  const ko = m.keySize ? memArg(env, 'map_delete_elem', 'key (r2)', a[1], m.keySize) : 0;
  return ret(m.bpfDelete(bytes(env), ko, env.cpu));
}

function queueArg(env: MapHelperEnv, helper: string, v: bigint): QueueStackMap | undefined {
  const m = mapArg(env, helper, v);
  return m instanceof QueueStackMap ? m : undefined;
}

/** bpf_map_push_elem(map, value, flags): queue_stack_map_push_elem. */
function mapPushElem(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const m = queueArg(env, 'map_push_elem', a[0]);
  if (!m) return errnoToU64(-EINVAL);
  const vo = memArg(env, 'map_push_elem', 'value (r2)', a[1], m.valueSize);
  return ret(m.push(bytes(env), vo, flags32(a[2])));
}

function popOrPeek(helper: string, pop: boolean): MapHelper {
  return (env, a) => {
    const m = queueArg(env, helper, a[0]);
    if (!m) return errnoToU64(-EINVAL);
    const vo = memArg(env, helper, 'value (r2)', a[1], m.valueSize);
    return ret(m.get(bytes(env), vo, pop));
  };
}

/** bpf_map_lookup_percpu_elem(map, key, cpu): NULL for cpu >= nr_cpu_ids. */
function mapLookupPercpuElem(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const m = mapArg(env, 'map_lookup_percpu_elem', a[0]);
  if (a[2] >= BigInt(env.nrCpus)) return NULL;
  const ko = memArg(env, 'map_lookup_percpu_elem', 'key (r2)', a[1], m.keySize);
  return m.bpfLookup(bytes(env), ko, Number(a[2]));
}

/**
 * bpf_for_each_map_elem(map, callback_fn, callback_ctx, flags): calls
 * callback_fn(map, key, value, callback_ctx) per element until it returns 1; returns the number
 * of elements visited (kernel/bpf/bpf_iter.c, the maps' map_for_each_callback).
 */
function forEachMapElem(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const m = mapArg(env, 'for_each_map_elem', a[0]);
  if (a[3] !== 0n) return errnoToU64(-EINVAL);
  const call = env.callback;
  if (!call) throw new Error('bpf_for_each_map_elem: this machine cannot call BPF callbacks');
  const fn = a[1];
  const ctx = a[2];
  const n = m.forEach(env.cpu, (ko, vo) => call(fn, [m.handle, env.mem.toVirtual(ko), env.mem.toVirtual(vo), ctx]) !== 0n);
  return ret(n);
}

/**
 * bpf_perf_event_output(ctx, map, flags, data, size): the sample is `size` bytes at data, then
 * (skb/xdp programs, BPF_F_CTXLEN_MASK) that many bytes of the packet (bpf_skb_event_output).
 */
function perfEventOutput(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const m = mapArg(env, 'perf_event_output', a[1]);
  const flags = a[2];
  if (flags & ~(BPF_F_INDEX_MASK | BPF_F_CTXLEN_MASK)) return errnoToU64(-EINVAL);
  const ctxLen = Number((flags & BPF_F_CTXLEN_MASK) >> 32n);
  if (!(m instanceof PerfEventArrayMap)) return errnoToU64(-EINVAL);
  const size = Number(BigInt.asUintN(32, a[4]));
  const off = size ? memArg(env, 'perf_event_output', 'data (r4)', a[3], size) : 0;
  let extra: Uint8Array | undefined;
  if (ctxLen) {
    if (!env.ctxBytes) return errnoToU64(-EINVAL);
    const got = env.ctxBytes(a[0], ctxLen);
    if (typeof got === 'number') return errnoToU64(got);
    extra = got;
  }
  const data = new Uint8Array(size + (extra?.length ?? 0));
  data.set(bytes(env).subarray(off, off + size));
  if (extra) data.set(extra, size);
  return ret(m.output(flags & BPF_F_INDEX_MASK, env.cpu, data));
}

function ringbufArg(env: MapHelperEnv, helper: string, v: bigint): RingbufMap | undefined {
  const m = mapArg(env, helper, v);
  return m instanceof RingbufMap ? m : undefined;
}

/** bpf_ringbuf_output(ringbuf, data, size, flags): -EAGAIN when the ring has no room. */
function ringbufOutput(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const rb = ringbufArg(env, 'ringbuf_output', a[0]);
  if (!rb) return errnoToU64(-EINVAL);
  if (a[3] & ~BigInt(BPF_RB_NO_WAKEUP | BPF_RB_FORCE_WAKEUP)) return errnoToU64(-EINVAL);
  if (a[2] > 0xffff_ffffn) return errnoToU64(-EAGAIN);
  const size = Number(a[2]);
  const off = size ? memArg(env, 'ringbuf_output', 'data (r2)', a[1], size) : 0;
  return rb.output(bytes(env), off, size) ? 0n : errnoToU64(-EAGAIN);
}

/** bpf_ringbuf_reserve(ringbuf, size, flags): NULL for any flags or when there is no room. */
function ringbufReserve(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const rb = ringbufArg(env, 'ringbuf_reserve', a[0]);
  if (!rb || a[2] !== 0n || a[1] > 0xffff_ffffn) return NULL;
  const off = rb.reserve(Number(a[1]));
  return off < 0 ? NULL : env.mem.toVirtual(off);
}

function commit(helper: string, discard: boolean): MapHelper {
  return (env, a) => {
    const off = env.mem.toOffset(a[0]);
    // The record header names its ring buffer (the kernel finds it through hdr->pg_off).
    const rb = off !== undefined && off >= 4 ? env.maps.byId(new DataView(bytes(env).buffer).getUint32(off - 4, true)) : undefined;
    if (off === undefined || !(rb instanceof RingbufMap) || !rb.ownsSample(off)) {
      throw new Error(`bpf_${helper}: r1 = ${hex(a[0])} is not a record reserved with bpf_ringbuf_reserve`);
    }
    rb.commit(off, discard);
    return 0n;
  };
}

/** bpf_ringbuf_query(ringbuf, flags) */
function ringbufQuery(env: MapHelperEnv, a: readonly bigint[]): bigint {
  const rb = ringbufArg(env, 'ringbuf_query', a[0]);
  return rb ? rb.query(a[1]) : 0n;
}

// ---- the fast path ----
// The three hot helpers again, with r1..r5 read as 32-bit halves (HelperArgs) instead of BigInts:
// same checks, same results. Anything unusual (a bad argument, an error code) goes through the
// BigInt versions above, so messages and faults are the same by construction.

const VBASE_HI = Number(VBASE >> 32n);

function fastMap(env: MapHelperEnv, a: HelperArgs): BpfMap | undefined {
  const maps = env.maps;
  return maps.byHandleParts ? maps.byHandleParts(a.lo(1), a.hi(1)) : maps.byHandle(a.big(1));
}

/**
 * wasm offset of `len` bytes at the pointer in r`reg`, or -1 when memArg would throw. VM memory
 * is below 4 GiB, so a valid pointer has VBASE's high half and its low half is the offset.
 */
function fastMem(env: MapHelperEnv, a: HelperArgs, reg: number, len: number): number {
  const off = a.lo(reg);
  return a.hi(reg) === VBASE_HI && off + len <= bytes(env).length ? off : -1;
}

/** r0 = a kernel result: 0.. or a negative errno as a u64. */
function setRet(a: HelperArgs, r: number): void {
  a.setR0(r >>> 0, r < 0 ? 0xffff_ffff : 0);
}

function argsOf(a: HelperArgs): bigint[] {
  return [a.big(1), a.big(2), a.big(3), a.big(4), a.big(5)];
}

function fastLookupElem(env: MapHelperEnv, a: HelperArgs): void {
  const m = fastMap(env, a);
  const ko = m === undefined ? -1 : m.keySize ? fastMem(env, a, 2, m.keySize) : 0;
  if (ko < 0) {
    a.setR0Big(mapLookupElem(env, argsOf(a)));
    return;
  }
  a.setR0Big(m!.bpfLookup(bytes(env), ko, env.cpu));
}

function fastUpdateElem(env: MapHelperEnv, a: HelperArgs): void {
  const m = fastMap(env, a);
  if (m === undefined || m.progReadOnly || a.hi(4) !== 0) {
    a.setR0Big(mapUpdateElem(env, argsOf(a)));
    return;
  }
  const ko = m.keySize ? fastMem(env, a, 2, m.keySize) : 0;
  const vo = m.valueSize ? fastMem(env, a, 3, m.valueSize) : 0;
  if (ko < 0 || vo < 0) {
    a.setR0Big(mapUpdateElem(env, argsOf(a)));
    return;
  }
  const mem = bytes(env);
  setRet(a, m.bpfUpdate(mem, ko, mem, vo, a.lo(4), env.cpu));
}

function fastDeleteElem(env: MapHelperEnv, a: HelperArgs): void {
  const m = fastMap(env, a);
  const ko = m === undefined || m.progReadOnly ? -1 : m.keySize ? fastMem(env, a, 2, m.keySize) : 0;
  if (ko < 0) {
    a.setR0Big(mapDeleteElem(env, argsOf(a)));
    return;
  }
  setRet(a, m!.bpfDelete(bytes(env), ko, env.cpu));
}

/** Fast versions (HelperArgs) of the hottest map helpers, by kernel helper number. */
const FAST_MAP_HELPERS: ReadonlyMap<number, (env: MapHelperEnv, a: HelperArgs) => void> = new Map([
  [1, fastLookupElem],
  [2, fastUpdateElem],
  [3, fastDeleteElem],
]);

/** The map helpers by kernel helper number. */
export const MAP_HELPERS: ReadonlyMap<number, MapHelper> = new Map<number, MapHelper>([
  [1, mapLookupElem],
  [2, mapUpdateElem],
  [3, mapDeleteElem],
  [25, perfEventOutput],
  [87, mapPushElem],
  [88, popOrPeek('map_pop_elem', true)],
  [89, popOrPeek('map_peek_elem', false)],
  [130, ringbufOutput],
  [131, ringbufReserve],
  [132, commit('ringbuf_submit', false)],
  [133, commit('ringbuf_discard', true)],
  [134, ringbufQuery],
  [164, forEachMapElem],
  [195, mapLookupPercpuElem],
]);

/** The Machine methods installMapHelpers uses. */
export interface HelperHost {
  setHelper(id: number, fn: HostHelper): void;
  /** When present, the hot helpers are registered on the fast path (Machine.setFastHelper). */
  setFastHelper?(id: number, fn: FastHostHelper): void;
  resolveCodeAddress(addr: bigint): { progId: number; insnIndex: number } | undefined;
  callSubprogram(progId: number, insnIndex: number, args: readonly bigint[]): bigint;
}

/**
 * Registers every map helper on a Machine. Callbacks (bpf_for_each_map_elem) go through the
 * machine's code addresses unless `env.callback` is already set.
 */
export function installMapHelpers(machine: HelperHost, env: MapHelperEnv): void {
  if (!env.callback) {
    env.callback = (fn, args) => {
      const target = machine.resolveCodeAddress(fn);
      if (!target) throw new Error(`callback address ${hex(fn)} is not a BPF function`);
      return machine.callSubprogram(target.progId, target.insnIndex, args);
    };
  }
  for (const [id, fn] of MAP_HELPERS) {
    const fast = FAST_MAP_HELPERS.get(id);
    if (fast && machine.setFastHelper) machine.setFastHelper(id, (a) => fast(env, a));
    else machine.setHelper(id, (call: HelperCall) => fn(env, call.args));
  }
}
