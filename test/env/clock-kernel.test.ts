// Checks the clock model against the running kernel: bpf/env/clock.c samples ktime_get_ns,
// jiffies64, ktime_get_boot_ns and ktime_get_tai_ns in one run. Needs root and BPFBED_KERNEL=1.
import { execSync, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { initialJiffies, tickNsec } from '../../src/env/clock.js';

const here = new URL('.', import.meta.url).pathname;
const enabled = process.env.BPFBED_KERNEL === '1' && process.getuid?.() === 0;

describe.skipIf(!enabled)('time helpers relate to each other as the clock model says (root, BPFBED_KERNEL=1)', () => {
  it('jiffies64 counts HZ ticks of CLOCK_MONOTONIC from INITIAL_JIFFIES; TAI is the wall clock plus whole seconds', () => {
    const runner = join(tmpdir(), `bpfbed-clock-runner-${process.pid}`);
    execSync(`gcc -O2 -o ${runner} ${join(here, 'oracle/runner.c')} -lbpf`);
    const pkt = '02'.repeat(6) + '01'.repeat(6) + '0800' + '00'.repeat(50);
    const out = spawnSync(runner, [join(here, '../../fixtures/obj/env/clock.o'), 'clock_tc', 'clock_io'], { input: `00 ${pkt}\n`, encoding: 'utf8' });
    const wallNs = BigInt(Date.now()) * 1_000_000n;
    execSync(`rm -f ${runner}`);
    const v = Buffer.from(out.stdout.split(' ')[1], 'hex');
    const [mono, jiffies, boot, tai] = [0, 8, 16, 24].map((o) => v.readBigUInt64LE(o));
    const hz = Number(execSync("zcat /proc/config.gz 2>/dev/null | sed -n 's/^CONFIG_HZ=//p' || true").toString().trim() || '250');
    const ticks = jiffies - initialJiffies(hz);
    const modelTicks = mono / tickNsec(hz);
    // The kernel's jiffies lag CLOCK_MONOTONIC by a boot-dependent fraction of a second
    // (151 ticks at HZ=250 measured on Linux 6.18); bpfbed's model has no lag.
    expect(modelTicks - ticks >= 0n && modelTicks - ticks < BigInt(hz)).toBe(true);
    expect(boot >= mono).toBe(true);
    const taiMinusWall = Number(tai - wallNs) / 1e9;
    expect(Math.abs(taiMinusWall - Math.round(taiMinusWall))).toBeLessThan(0.5);
  });
});
