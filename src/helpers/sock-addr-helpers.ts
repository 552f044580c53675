// Helpers of the cgroup socket address hooks (BPF_PROG_TYPE_CGROUP_SOCK_ADDR) that only they
// have: bpf_get_retval (186) and bpf_set_retval (187), on the run context's retval
// (kernel/bpf/cgroup.c: bpf_get_retval / bpf_set_retval read and write run_ctx->retval, which
// bpf_prog_run_array_cg starts at 0 and returns). bpf_get_socket_cookie (46) on this context is
// in packet-helpers.ts, which dispatches on the run's kind.
import type { HelperCall, HostHelper } from '../vm/types.js';
import type { PacketHelperHost } from './packet-helpers.js';

function sockAddrRun(host: PacketHelperHost, helper: string) {
  const a = host.active();
  if (!a) throw new Error(`bpf_${helper}: called outside a run`);
  if (a.kind !== 'sock_addr') throw new Error(`bpf_${helper} is not available to ${a.kind} programs (the verifier would reject the call)`);
  return a;
}

/** bpf_get_retval() (186): the retval the hook will return so far (0, or what set_retval stored). */
function getRetval(host: PacketHelperHost): bigint {
  const a = sockAddrRun(host, 'get_retval');
  return BigInt.asUintN(64, BigInt(a.record.retval));
}

/** bpf_set_retval(retval) (187): sets the hook's return value (an int); always returns 0. */
function setRetval(host: PacketHelperHost, c: HelperCall): bigint {
  const a = sockAddrRun(host, 'set_retval');
  a.record.retval = Number(BigInt.asIntN(32, c.args[0]));
  return 0n;
}

export const SOCK_ADDR_HELPERS: ReadonlyMap<number, (host: PacketHelperHost, c: HelperCall) => bigint> = new Map([
  [186, (h: PacketHelperHost) => getRetval(h)],
  [187, setRetval],
]);

export function sockAddrHelpers(host: PacketHelperHost): Map<number, HostHelper> {
  const out = new Map<number, HostHelper>();
  for (const [id, fn] of SOCK_ADDR_HELPERS) out.set(id, (c) => fn(host, c));
  return out;
}
