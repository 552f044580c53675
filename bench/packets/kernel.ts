// The kernel's side of the per-packet workload: packet.o loaded with bpftool, its maps written
// with the bytes bpfbed holds after fillPacketMaps, and BPF_PROG_TEST_RUN on one frame through
// `bpftool prog run pinned P data_in F data_out O repeat N`, whose "duration" is the kernel's
// mean time per run in ns (net/bpf/test_run.c bpf_test_timer_continue: time_spent / i), the
// program alone, JIT-compiled where the kernel has the JIT on (net.core.bpf_jit_enable).
// Needs root, bpftool and bpffs; everything lives in one fresh bpffs folder removed by close().
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CtxRunner } from '../../src/ctx/runner.js';

const BPFFS = '/sys/fs/bpf';

export interface KernelFrameRun {
  /** r0 of the (last) run. */
  retval: number;
  /** The packet after the run. */
  dataOut: Uint8Array;
  /** The kernel's mean ns per run. */
  durationNs: number;
}

/** net.core.bpf_jit_enable: whether the kernel runs programs JIT-compiled (undefined if unreadable). */
export function kernelJitEnabled(): boolean | undefined {
  try {
    return readFileSync('/proc/sys/net/core/bpf_jit_enable', 'utf8').trim() !== '0';
  } catch {
    return undefined;
  }
}

/** Why the kernel column cannot run here, or undefined when it can. */
export function kernelUnavailable(): string | undefined {
  if (process.env.BPFBED_KERNEL === '0') return 'BPFBED_KERNEL=0';
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (BPF_PROG_TEST_RUN)';
  const probe = spawnSync('bpftool', ['version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return 'bpftool not found';
  if (!existsSync(BPFFS)) return `${BPFFS} is not mounted`;
  return undefined;
}

function bpftool(args: string[], what: string): string {
  const res = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.error) throw new Error(`bpftool ${what}: ${res.error.message}`);
  if (res.status !== 0) throw new Error(`bpftool ${what}: ${(res.stderr || res.stdout).trim().split('\n').slice(-3).join(' ')}`);
  return res.stdout;
}

const hexBytes = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

/** packet.o loaded in the kernel, its maps as in a prepared CtxRunner. */
export class KernelPacketProgram {
  private constructor(
    private readonly dir: string,
    private readonly scratch: string,
  ) {}

  /** Loads `objectPath` and writes every entry of `prepared`'s maps (one bpftool batch). */
  static open(objectPath: string, prepared: CtxRunner): KernelPacketProgram {
    const why = kernelUnavailable();
    if (why) throw new Error(`kernel: ${why}`);
    const dir = mkdtempSync(join(BPFFS, 'bpfbed-packets-'));
    const scratch = mkdtempSync(join(tmpdir(), 'bpfbed-packets-'));
    const k = new KernelPacketProgram(dir, scratch);
    try {
      bpftool(['prog', 'loadall', objectPath, join(dir, 'progs'), 'pinmaps', join(dir, 'maps')], `prog loadall ${objectPath}`);
      const lines: string[] = [];
      for (const map of prepared.bed.maps) {
        if (map.name.includes('.')) continue;
        for (const e of map.dump().entries) {
          lines.push(`map update pinned ${join(dir, 'maps', map.name)} key hex ${hexBytes(e.key)} value hex ${hexBytes(e.value)}`);
        }
      }
      if (lines.length > 0) {
        const batch = join(scratch, 'maps.batch');
        writeFileSync(batch, `${lines.join('\n')}\n`);
        bpftool(['batch', 'file', batch], `batch of ${lines.length} map updates`);
      }
      return k;
    } catch (err) {
      k.close();
      throw err;
    }
  }

  /** BPF_PROG_TEST_RUN of `program` on `frame`, `repeat` times on the same skb. */
  run(program: string, frame: Uint8Array, repeat = 1): KernelFrameRun {
    const dataIn = join(this.scratch, 'in');
    const dataOut = join(this.scratch, 'out');
    writeFileSync(dataIn, frame);
    const args = ['--json', 'prog', 'run', 'pinned', join(this.dir, 'progs', program), 'data_in', dataIn, 'data_out', dataOut, 'repeat', String(repeat)];
    const out = JSON.parse(bpftool(args, `prog run ${program}`)) as { retval: number; duration: number };
    return { retval: out.retval, durationNs: out.duration, dataOut: new Uint8Array(readFileSync(dataOut)) };
  }

  /** The kernel's ns per run: the median of `batches` test runs of `repeat` runs each. */
  timeFrame(program: string, frame: Uint8Array, repeat: number, batches: number): { nsPerRun: number; runs: number; retval: number } {
    const times: number[] = [];
    let retval = 0;
    for (let i = 0; i < batches; i++) {
      const r = this.run(program, frame, repeat);
      times.push(r.durationNs);
      retval = r.retval;
    }
    times.sort((a, b) => a - b);
    return { nsPerRun: times[times.length >> 1], runs: repeat * batches, retval };
  }

  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(this.scratch, { recursive: true, force: true });
  }
}
