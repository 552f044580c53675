// Program return values by name: TC_ACT_* (include/uapi/linux/pkt_cls.h), TCX_* (enum
// tcx_action_base, include/uapi/linux/bpf.h), XDP_* (enum xdp_action).

export const TC_ACT = {
  TC_ACT_UNSPEC: -1,
  TC_ACT_OK: 0,
  TC_ACT_RECLASSIFY: 1,
  TC_ACT_SHOT: 2,
  TC_ACT_PIPE: 3,
  TC_ACT_STOLEN: 4,
  TC_ACT_QUEUED: 5,
  TC_ACT_REPEAT: 6,
  TC_ACT_REDIRECT: 7,
  TC_ACT_TRAP: 8,
} as const;

export const TCX = { TCX_NEXT: -1, TCX_PASS: 0, TCX_DROP: 2, TCX_REDIRECT: 7 } as const;

export const XDP_ACTIONS = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'] as const;

export interface Verdict {
  /** r0 as the hook reads it (the low 32 bits, signed). */
  value: number;
  /** The name of the value, or of what the kernel does with it when it is not a known one. */
  name: string;
  /** False when the kernel has no such value and treats it as `name`. */
  known: boolean;
}

const lowS32 = (r0: bigint): number => Number(BigInt.asIntN(32, r0));

const TC_ACT_NAMES = new Map<number, string>(Object.entries(TC_ACT).map(([name, value]) => [value, name]));

/** tc (cls_bpf in direct-action mode, act_bpf): TC_ACT_* by value; others are passed on as is. */
export function tcVerdict(r0: bigint): Verdict {
  const value = lowS32(r0);
  const name = TC_ACT_NAMES.get(value);
  return name !== undefined ? { value, name, known: true } : { value, name: `TC_ACT_${value}`, known: false };
}

/**
 * tcx (net/core/dev.c tcx_action_code): TCX_PASS, TCX_DROP and TCX_REDIRECT are kept, every
 * other value (TCX_NEXT included) means TCX_NEXT.
 */
export function tcxVerdict(r0: bigint): Verdict {
  const value = lowS32(r0);
  const hit = Object.entries(TCX).find(([, v]) => v === value);
  if (hit && value !== -1) return { value, name: hit[0], known: true };
  return { value, name: 'TCX_NEXT', known: value === -1 };
}

/**
 * XDP: the action is the low 32 bits (u32 act = bpf_prog_run_xdp()); an unknown action is
 * reported by bpf_warn_invalid_xdp_action and handled as XDP_ABORTED (drivers, do_xdp_generic).
 */
export function xdpVerdict(r0: bigint): Verdict {
  const value = Number(BigInt.asUintN(32, r0));
  if (value < XDP_ACTIONS.length) return { value, name: XDP_ACTIONS[value], known: true };
  return { value, name: 'XDP_ABORTED', known: false };
}

/** Socket filters (sk_filter_trim_cap): 0 drops, anything else keeps that many bytes at most. */
export function socketFilterVerdict(r0: bigint, len: number): Verdict & { keep: number } {
  const value = Number(BigInt.asUintN(32, r0));
  const keep = Math.min(value, len);
  return { value, name: value === 0 ? 'DROP' : keep < len ? `TRIM(${keep})` : 'ACCEPT', known: true, keep };
}
