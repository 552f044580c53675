// Helpers that ask the emulated kernel around the program (src/env): routing and neighbours
// for bpf_fib_lookup, namespaces for bpf_get_netns_cookie. The semantics live in src/env,
// checked against the kernel there; this file moves bytes between VM memory and those models.
import type { Environment } from '../env/environment.js';
import { fibLookupRaw, type FibLookupContext } from '../env/fib.js';
import type { FastHostHelper, HelperArgs } from '../vm/machine.js';
import type { HostHelper } from '../vm/types.js';
import type { HelperMemory } from './memory.js';

export interface EnvHelperDeps {
  env: Environment;
  mem: HelperMemory;
  /** What the program runs on for bpf_fib_lookup: XDP or skb (tc), its netns, skb->len. */
  fibContext: (progId: number) => FibLookupContext;
  /** Network namespace (bpfbed id) the program's context belongs to. */
  netnsOf: (progId: number, ctx: bigint) => number;
}

const u64 = (v: number) => BigInt.asUintN(64, BigInt(v));

export function envHelpers(deps: EnvHelperDeps): Map<number, HostHelper> {
  const { env, mem } = deps;
  return new Map<number, HostHelper>([
    // bpf_fib_lookup(ctx, params, plen, flags): net/core/filter.c bpf_xdp_fib_lookup /
    // bpf_skb_fib_lookup; the struct is read and written in place.
    [69, (call) => {
      const [, paramsAddr, plen64, flags] = call.args;
      const plen = Number(BigInt.asUintN(32, plen64));
      // The verifier checks params is plen bytes of writable memory (ARG_PTR_TO_MEM, ARG_CONST_SIZE).
      const size = Math.min(plen, 64);
      const params = mem.read(paramsAddr, size, 'bpf_fib_lookup params');
      const rc = fibLookupRaw(env, params, plen, flags, deps.fibContext(call.progId));
      mem.write(paramsAddr, params, 'bpf_fib_lookup params');
      return u64(rc);
    }],
    // bpf_get_netns_cookie(ctx): the netns cookie of the context's socket or device
    // (net/core/filter.c bpf_get_netns_cookie_*); ctx NULL means the program's own netns.
    [122, (call) => env.netnsCookie(deps.netnsOf(call.progId, call.args[0]))],
  ]);
}

/**
 * bpf_fib_lookup on the Machine's fast path: the same checks and result as the helper above
 * (params readable and writable for min(plen, 64) bytes, else the same fault), with the struct
 * looked up in place in VM memory instead of copied out and back, and r1..r5 read without
 * BigInts. fibLookupRaw touches nothing but the params, so checking the write permission before
 * the lookup rather than after it changes no outcome.
 */
export function fastEnvHelpers(deps: EnvHelperDeps & { bytes: () => Uint8Array; progId: () => number }): Map<number, FastHostHelper> {
  const { env, mem } = deps;
  function fibLookupHelper(a: HelperArgs): void {
    const plen = a.lo(3);
    const size = Math.min(plen, 64);
    let params: Uint8Array = EMPTY;
    if (size > 0) {
      const off = mem.offsetOf32(a.lo(2), a.hi(2), size, 'read', 'bpf_fib_lookup params');
      mem.offsetOf32(a.lo(2), a.hi(2), size, 'write', 'bpf_fib_lookup params');
      params = deps.bytes().subarray(off, off + size);
    }
    const rc = fibLookupRaw(env, params, plen, a.lo(4), deps.fibContext(deps.progId()));
    a.setR0(rc >>> 0, rc < 0 ? 0xffff_ffff : 0);
  }
  return new Map<number, FastHostHelper>([[69, fibLookupHelper]]);
}

const EMPTY = new Uint8Array(0);
