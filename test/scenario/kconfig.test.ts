import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/scenario-run.js';
import { parseScenario } from '../../src/scenario/parse.js';

// fixtures/obj/testdata/kconfig.o (bpf/testdata/kconfig.c): XDP_ABORTED without CONFIG_BPF_SYSCALL,
// else XDP_PASS when LINUX_KERNEL_VERSION > CONFIG_HZ, else XDP_DROP.
const base = resolve(import.meta.dirname, '../../fixtures/scenarios');
const read = (p: string) => new Uint8Array(readFileSync(resolve(base, p)));
const scenario = (kconfig: string) =>
  parseScenario(`
object: ../obj/testdata/kconfig.o
programs: [{ program: uses_kconfig, attach: xdp, device: eth0 }]
environment: { devices: [{ name: eth0, ifindex: 2, mac: "02:00:00:00:00:01", addrs: [10.0.0.2/24] }] }
input: { pcap: ../pcap/icmp-echo.pcap, device: eth0 }
${kconfig}
`);
const verdicts = async (kconfig: string) => (await runScenario(scenario(kconfig), read)).report.packets.map((p) => p.verdict);

describe('scenario kconfig', () => {
  it('reaches the program through the loader defaults when the scenario gives none', async () => {
    const got = await verdicts('');
    expect(got.length).toBeGreaterThan(0);
    expect(new Set(got)).toEqual(new Set(['XDP_PASS']));
  });

  it('gives the program the values the scenario sets, typed by each extern', async () => {
    expect(new Set(await verdicts('kconfig: { CONFIG_BPF_SYSCALL: n }'))).toEqual(new Set(['XDP_ABORTED']));
    expect(new Set(await verdicts('kconfig: { LINUX_KERNEL_VERSION: 100, CONFIG_HZ: 1000 }'))).toEqual(new Set(['XDP_DROP']));
  });

  it('takes CONFIG_HZ from the environment clock unless kconfig sets it', async () => {
    const withClock = (k: string) => scenario(k).environment!;
    expect(withClock('').clock).toBeUndefined();
    const s = scenario('kconfig: { LINUX_KERNEL_VERSION: 300 }');
    s.environment!.clock = { hz: 1000 };
    expect(new Set((await runScenario(s, read)).report.packets.map((p) => p.verdict))).toEqual(new Set(['XDP_DROP']));
    s.environment!.clock = { hz: 250 };
    expect(new Set((await runScenario(s, read)).report.packets.map((p) => p.verdict))).toEqual(new Set(['XDP_PASS']));
  });

  it('refuses kconfig names that are not CONFIG_ or LINUX_ and values of other types', () => {
    expect(() => scenario('kconfig: { HZ: 250 }')).toThrow(/scenario: kconfig: name 'HZ' must match pattern "\^\(CONFIG\|LINUX\)_/);
    expect(() => scenario('kconfig: { CONFIG_HZ: [250] }')).toThrow(/kconfig\.CONFIG_HZ: must be string,integer,boolean/);
  });

  it('names the extern when a value does not fit its type', async () => {
    await expect(runScenario(scenario('kconfig: { CONFIG_BPF_SYSCALL: 7 }'), read)).rejects.toThrow(/kconfig\.o: section \.kconfig: extern \(kcfg\) 'CONFIG_BPF_SYSCALL': value '7' implies integer type/);
  });
});
