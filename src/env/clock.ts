// The virtual clock behind the time helpers. One quantity moves, CLOCK_MONOTONIC; the others
// are derived from it the way kernel/time/timekeeping.c derives them, so they never disagree:
//   ktime_get_ns       (helper 5)   = monotonic
//   ktime_get_boot_ns  (helper 125) = monotonic + offs_boot (time spent suspended)
//   ktime_get_tai_ns   (helper 208) = monotonic + offs_real + tai_offset
//   jiffies64          (helper 118) = INITIAL_JIFFIES + monotonic / TICK_NSEC
// HZ defaults to 250: the Kconfig default (kernel/Kconfig.hz `default HZ_250`) and Debian's
// CONFIG_HZ; set 1000 for kernels built like Fedora's or Ubuntu 24.04's.
import type { ClockState } from './types.js';

export const NSEC_PER_SEC = 1_000_000_000;

export interface ClockOptions {
  /** Initial CLOCK_MONOTONIC; default 1 s, so that 0 still reads as "never" to programs. */
  monotonicNs?: number;
  suspendedNs?: number;
  /** Wall clock (CLOCK_REALTIME) at the initial monotonic time, ns since the epoch; default 2024-01-01T00:00:00Z. */
  realtimeNs?: number;
  taiOffsetSec?: number;
  hz?: number;
}

function checkNs(what: string, v: number): number {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`clock: ${what} must be a non-negative integer below 2^53 ns, got ${v}`);
  return v;
}

export function createClock(opts: ClockOptions = {}): ClockState {
  const monotonicNs = checkNs('monotonicNs', opts.monotonicNs ?? NSEC_PER_SEC);
  const realtimeNs = checkNs('realtimeNs', opts.realtimeNs ?? Date.UTC(2024, 0, 1) * 1_000_000);
  const hz = opts.hz ?? 250;
  if (![100, 250, 300, 1000].includes(hz)) throw new RangeError(`clock: hz must be one of the Kconfig choices 100, 250, 300, 1000, got ${hz}`);
  return {
    monotonicNs,
    suspendedNs: checkNs('suspendedNs', opts.suspendedNs ?? 0),
    realtimeOffsetNs: realtimeNs - monotonicNs,
    taiOffsetSec: opts.taiOffsetSec ?? 0,
    hz,
  };
}

/** Time passes while running: every clock moves by `ns`. */
export function advanceClock(c: ClockState, ns: number): void {
  checkNs('advance', ns);
  c.monotonicNs = checkNs('monotonicNs', c.monotonicNs + ns);
}

/**
 * The machine sleeps for `ns`: CLOCK_MONOTONIC and jiffies stand still, CLOCK_BOOTTIME and the
 * wall clock move (timekeeping_inject_sleeptime64 adds to offs_boot and offs_real).
 */
export function suspendClock(c: ClockState, ns: number): void {
  checkNs('suspend', ns);
  c.suspendedNs += ns;
  c.realtimeOffsetNs += ns;
}

export function ktimeGetNs(c: ClockState): bigint {
  return BigInt(c.monotonicNs);
}

export function ktimeGetBootNs(c: ClockState): bigint {
  return BigInt(c.monotonicNs) + BigInt(c.suspendedNs);
}

export function ktimeGetRealNs(c: ClockState): bigint {
  return BigInt(c.monotonicNs) + BigInt(c.realtimeOffsetNs);
}

export function ktimeGetTaiNs(c: ClockState): bigint {
  return ktimeGetRealNs(c) + BigInt(c.taiOffsetSec) * BigInt(NSEC_PER_SEC);
}

/** include/linux/jiffies.h: TICK_NSEC = (NSEC_PER_SEC + HZ/2) / HZ. */
export function tickNsec(hz: number): number {
  return Math.floor((NSEC_PER_SEC + Math.floor(hz / 2)) / hz);
}

/**
 * include/linux/jiffies.h: INITIAL_JIFFIES = (unsigned long)(unsigned int)(-300 * HZ), so that
 * the 32-bit jiffies wrap five minutes after boot; jiffies_64 starts there too.
 */
export function initialJiffies(hz: number): bigint {
  return BigInt((2 ** 32 - 300 * hz) >>> 0);
}

export function jiffies64(c: ClockState): bigint {
  return initialJiffies(c.hz) + BigInt(Math.floor(c.monotonicNs / tickNsec(c.hz)));
}
