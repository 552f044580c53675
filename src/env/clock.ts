// The virtual clock behind the time helpers. One quantity moves, CLOCK_MONOTONIC; the others
// are derived from it the way kernel/time/timekeeping.c derives them, so they never disagree:
//   ktime_get_ns       (helper 5)   = monotonic
//   ktime_get_boot_ns  (helper 125) = monotonic + offs_boot (time spent suspended)
//   ktime_get_tai_ns   (helper 208) = monotonic + offs_real + tai_offset
//   jiffies64          (helper 118) = INITIAL_JIFFIES + monotonic / TICK_NSEC
// HZ defaults to 250: the Kconfig default (kernel/Kconfig.hz `default HZ_250`) and Debian's
// CONFIG_HZ; set 1000 for kernels built like Fedora's or Ubuntu 24.04's.
import type { ClockState } from './types.js';

export const NSEC_PER_SEC = 1_000_000_000n;

export interface ClockOptions {
  /** Initial CLOCK_MONOTONIC; default 1 s, so that 0 still reads as "never" to programs. */
  monotonicNs?: bigint | number;
  suspendedNs?: bigint | number;
  /** Wall clock (CLOCK_REALTIME) at the initial monotonic time, ns since the epoch; default 2024-01-01T00:00:00Z. */
  realtimeNs?: bigint | number;
  /** TAI - UTC in seconds; default 0, as the kernel has it until adjtimex(ADJ_TAI) (chrony, ntpd) sets it. */
  taiOffsetSec?: number;
  hz?: number;
}

function ns(what: string, v: bigint | number): bigint {
  if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`clock: ${what} must be an integer number of ns (use a bigint above 2^53), got ${v}`);
  const b = BigInt(v);
  if (b < 0n || b >= 1n << 64n) throw new RangeError(`clock: ${what} must be within 0..2^64-1 ns, got ${b}`);
  return b;
}

export function createClock(opts: ClockOptions = {}): ClockState {
  const monotonicNs = ns('monotonicNs', opts.monotonicNs ?? NSEC_PER_SEC);
  const realtimeNs = ns('realtimeNs', opts.realtimeNs ?? BigInt(Date.UTC(2024, 0, 1)) * 1_000_000n);
  const hz = opts.hz ?? 250;
  if (![100, 250, 300, 1000].includes(hz)) throw new RangeError(`clock: hz must be one of the Kconfig choices 100, 250, 300, 1000, got ${hz}`);
  const taiOffsetSec = opts.taiOffsetSec ?? 0;
  if (!Number.isInteger(taiOffsetSec)) throw new RangeError(`clock: taiOffsetSec must be an integer, got ${taiOffsetSec}`);
  return { monotonicNs, suspendedNs: ns('suspendedNs', opts.suspendedNs ?? 0n), realtimeOffsetNs: realtimeNs - monotonicNs, taiOffsetSec, hz };
}

/** Time passes while running: every clock moves by `delta` ns. */
export function advanceClock(c: ClockState, delta: bigint | number): void {
  c.monotonicNs = ns('monotonicNs', c.monotonicNs + ns('advance', delta));
}

/**
 * The machine sleeps for `delta` ns: CLOCK_MONOTONIC and jiffies stand still, CLOCK_BOOTTIME
 * and the wall clock move (timekeeping_inject_sleeptime64 adds to offs_boot and offs_real).
 */
export function suspendClock(c: ClockState, delta: bigint | number): void {
  const d = ns('suspend', delta);
  c.suspendedNs += d;
  c.realtimeOffsetNs += d;
}

const U64 = (v: bigint) => BigInt.asUintN(64, v);

export function ktimeGetNs(c: ClockState): bigint {
  return c.monotonicNs;
}

export function ktimeGetBootNs(c: ClockState): bigint {
  return U64(c.monotonicNs + c.suspendedNs);
}

export function ktimeGetRealNs(c: ClockState): bigint {
  return U64(c.monotonicNs + c.realtimeOffsetNs);
}

export function ktimeGetTaiNs(c: ClockState): bigint {
  return U64(ktimeGetRealNs(c) + BigInt(c.taiOffsetSec) * NSEC_PER_SEC);
}

/** include/linux/jiffies.h: TICK_NSEC = (NSEC_PER_SEC + HZ/2) / HZ. */
export function tickNsec(hz: number): bigint {
  return (NSEC_PER_SEC + BigInt(Math.floor(hz / 2))) / BigInt(hz);
}

/**
 * include/linux/jiffies.h: INITIAL_JIFFIES = (unsigned long)(unsigned int)(-300 * HZ), so that
 * the 32-bit jiffies wrap five minutes after boot; jiffies_64 starts there too.
 */
export function initialJiffies(hz: number): bigint {
  return BigInt((2 ** 32 - 300 * hz) >>> 0);
}

export function jiffies64(c: ClockState): bigint {
  return initialJiffies(c.hz) + c.monotonicNs / tickNsec(c.hz);
}
