// Helpers that every program type has (kernel/bpf/helpers.c, kernel/bpf/core.c,
// kernel/trace/bpf_trace.c): time, randomness, the current CPU, tail calls, bpf_loop, spin
// locks and the printf family. Each entry cites the kernel function whose semantics it follows.
import type { Environment } from '../env/environment.js';
import { FdArrayMap } from '../maps/fd-array.js';
import type { MapRegistry } from '../maps/registry.js';
import type { Machine } from '../vm/machine.js';
import type { HostHelper } from '../vm/types.js';
import { HelperFault, HelperMemory } from './memory.js';
import { bpfFormat, MAX_BPRINTF_BUF, MAX_BPRINTF_VARARGS, MAX_TRACE_PRINTK_VARARGS, type PrintfMemory } from './printk.js';

export const MAX_TAIL_CALL_CNT = 33; // include/linux/bpf.h
export const BPF_MAX_LOOPS = 8 * 1024 * 1024; // include/linux/bpf.h

const EINVAL = 22n;
const E2BIG = 7n;
const neg = (errno: bigint) => BigInt.asUintN(64, -errno);

/** What the core helpers record about a run. The caller empties it before each run. */
export interface CoreRunLog {
  printk: string[];
  tailCalls: { fromProg: number; toProg: number; index: number }[];
}

export interface CoreHelperDeps {
  machine: Machine;
  maps: MapRegistry;
  /** The Machine program of a kernel-style program id (what PROG_ARRAY slots hold). */
  progIdOf: (id: number) => number | undefined;
  /** The emulated kernel: its clock and random generator. */
  env: Environment;
  /** The CPU the program runs on (bpf_get_smp_processor_id). */
  cpu: () => number;
  log: CoreRunLog;
}

export function coreHelpers(deps: CoreHelperDeps): Map<number, HostHelper> {
  const { machine, maps, log } = deps;
  const mem = new HelperMemory(machine);
  const printfMemory: PrintfMemory = {
    read: (addr, len) => {
      try {
        return mem.read(addr, len, 'printf argument');
      } catch {
        return undefined;
      }
    },
    cString: (addr, max) => {
      try {
        return mem.cString(addr, max, 'printf argument').text;
      } catch {
        return undefined;
      }
    },
  };

  const readFormat = (addr: bigint, size: number, what: string): Uint8Array | undefined => {
    // The kernel's bpf_bprintf_prepare: the format must hold a NUL within fmt_size (strnchr).
    const bytes = mem.read(addr, size, what);
    const nul = bytes.indexOf(0);
    return nul < 0 ? undefined : bytes.subarray(0, nul);
  };

  const helpers: [number, HostHelper][] = [
    // bpf_ktime_get_ns: ktime_get_mono_fast_ns()
    [5, () => deps.env.ktimeGetNs()],
    // bpf_ktime_get_boot_ns: ktime_get_boot_fast_ns()
    [125, () => deps.env.ktimeGetBootNs()],
    // bpf_ktime_get_coarse_ns: ktime_get_coarse_ns(), the tick-granular monotonic clock
    [160, () => {
      const tick = BigInt(Math.round(1e9 / deps.env.state.clock.hz));
      const now = deps.env.ktimeGetNs();
      return now - (now % tick);
    }],
    // bpf_ktime_get_tai_ns: ktime_get_tai_fast_ns()
    [208, () => deps.env.ktimeGetTaiNs()],
    // bpf_jiffies64: get_jiffies_64()
    [118, () => deps.env.jiffies64()],
    // bpf_get_prandom_u32: bpf_user_rnd_u32(), here a seeded generator so runs repeat
    [7, () => BigInt(deps.env.prandomU32())],
    // bpf_get_smp_processor_id / bpf_get_numa_node_id
    [8, () => BigInt(deps.cpu())],
    [42, () => 0n],
    // bpf_tail_call: ___bpf_prog_run JMP_TAIL_CALL in kernel/bpf/core.c. On any failure the
    // program continues after the call with r0 untouched.
    [12, (call) => {
      const [, mapHandle, index64] = call.args;
      const r0 = machine.reg(0);
      const map = maps.byHandle(mapHandle);
      if (!(map instanceof FdArrayMap) || map.ofMaps) throw new HelperFault('helper', 'bpf_tail_call: r2 is not a PROG_ARRAY map');
      const index = Number(BigInt.asUintN(32, index64));
      if (index >= map.maxEntries) return r0;
      // the count of tail calls taken in this run lives in the run's log
      if (log.tailCalls.length >= MAX_TAIL_CALL_CNT) return r0;
      const slot = map.progAt(index);
      const target = slot === undefined ? undefined : deps.progIdOf(slot);
      if (target === undefined) return r0;
      log.tailCalls.push({ fromProg: call.progId, toProg: target, index });
      machine.requestTailCall(target);
      return r0;
    }],
    // bpf_loop: kernel/bpf/bpf_iter.c. The callback returns 0 to go on, 1 to stop.
    [181, (call) => {
      const [nrLoops64, callbackFn, callbackCtx, flags] = call.args;
      if (flags !== 0n) return neg(EINVAL);
      const nrLoops = Number(BigInt.asUintN(32, nrLoops64));
      if (nrLoops > BPF_MAX_LOOPS) return neg(E2BIG);
      const target = machine.resolveCodeAddress(callbackFn);
      if (!target) throw new HelperFault('helper', 'bpf_loop: r2 is not the address of a BPF function');
      for (let i = 0; i < nrLoops; i++) {
        const ret = machine.callSubprogram(target.progId, target.insnIndex, [BigInt(i), callbackCtx]);
        if (ret !== 0n) return BigInt(i + 1);
      }
      return BigInt(nrLoops);
    }],
    // bpf_spin_lock / bpf_spin_unlock: kernel/bpf/helpers.c. One CPU runs at a time here, so the
    // lock is always free; the lock word still reads as taken (1) while held, as qspinlock's
    // _Q_LOCKED_VAL does.
    [93, (call) => {
      mem.write(call.args[0], Uint8Array.of(1, 0, 0, 0), 'bpf_spin_lock lock');
      return 0n;
    }],
    [94, (call) => {
      mem.write(call.args[0], new Uint8Array(4), 'bpf_spin_unlock lock');
      return 0n;
    }],
    // bpf_trace_printk: kernel/trace/bpf_trace.c. Up to 3 arguments, output cut at
    // MAX_BPRINTF_BUF; returns what bstr_printf returned (the untruncated length).
    [6, (call) => {
      const [fmtAddr, fmtSize, a1, a2, a3] = call.args;
      const fmt = readFormat(fmtAddr, Number(BigInt.asUintN(32, fmtSize)), 'bpf_trace_printk fmt');
      if (!fmt) return neg(EINVAL);
      const res = bpfFormat(fmt, [a1, a2, a3], MAX_TRACE_PRINTK_VARARGS, printfMemory);
      if (!res.ok) return neg(BigInt(res.errno));
      log.printk.push(res.text.slice(0, MAX_BPRINTF_BUF - 1).replace(/\n$/, ''));
      return BigInt(res.text.length);
    }],
    // bpf_trace_vprintk: kernel/trace/bpf_trace.c, arguments as an array of u64.
    [177, (call) => {
      const [fmtAddr, fmtSize, argsAddr, dataLen] = call.args;
      const len = Number(BigInt.asUintN(32, dataLen));
      if (len % 8 || len > MAX_BPRINTF_VARARGS * 8 || (len && argsAddr === 0n)) return neg(EINVAL);
      const fmt = readFormat(fmtAddr, Number(BigInt.asUintN(32, fmtSize)), 'bpf_trace_vprintk fmt');
      if (!fmt) return neg(EINVAL);
      const args = readU64s(mem, argsAddr, len / 8, 'bpf_trace_vprintk args');
      const res = bpfFormat(fmt, args, len / 8, printfMemory);
      if (!res.ok) return neg(BigInt(res.errno));
      log.printk.push(res.text.slice(0, MAX_BPRINTF_BUF - 1).replace(/\n$/, ''));
      return BigInt(res.text.length);
    }],
    // bpf_snprintf: kernel/bpf/helpers.c. Writes at most str_size bytes including the NUL and
    // returns the untruncated length plus one.
    [165, (call) => {
      const [str, strSize64, fmtAddr, argsAddr, dataLen] = call.args;
      const len = Number(BigInt.asUintN(32, dataLen));
      if (len % 8 || len > MAX_BPRINTF_VARARGS * 8 || (len && argsAddr === 0n)) return neg(EINVAL);
      const fmt = readFormat(fmtAddr, 4096, 'bpf_snprintf fmt');
      if (!fmt) return neg(EINVAL);
      const args = readU64s(mem, argsAddr, len / 8, 'bpf_snprintf data');
      const res = bpfFormat(fmt, args, len / 8, printfMemory);
      if (!res.ok) return neg(BigInt(res.errno));
      const strSize = Number(BigInt.asUintN(32, strSize64));
      if (strSize > 0) {
        const out = new Uint8Array(strSize);
        const n = Math.min(res.text.length, strSize - 1);
        for (let i = 0; i < n; i++) out[i] = res.text.charCodeAt(i);
        mem.write(str, out.subarray(0, n + 1), 'bpf_snprintf str');
      }
      return BigInt(res.text.length + 1);
    }],
  ];
  return new Map(helpers);
}

function readU64s(mem: HelperMemory, addr: bigint, count: number, what: string): bigint[] {
  if (count === 0) return [];
  const bytes = mem.read(addr, count * 8, what);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Array.from({ length: count }, (_, i) => view.getBigUint64(i * 8, true));
}

