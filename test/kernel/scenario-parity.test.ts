// Every packet scenario in fixtures/scenarios, run in the kernel (BPF_PROG_TEST_RUN, packet by
// packet, maps kept between packets) and in bpfbed: the same verdict and the same bytes for every
// packet, and the same map contents at the end. Skipped, saying why, without root and BPF.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { runScenarioInKernel } from '../../src/node/kernel-scenario.js';
import { toEthernetFrame } from '../../src/pcap/ethernet.js';
import { readCapture } from '../../src/pcap/read.js';
import { prepareScenario, runScenario } from '../../src/run/scenario-run.js';
import { parseScenario } from '../../src/scenario/parse.js';

const dir = join(import.meta.dirname, '../../fixtures/scenarios');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const kernel = kernelAvailable();
if (!kernel.ok) console.log(`scenario parity: skipped (${kernel.why})`);

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

describe.skipIf(!kernel.ok)('scenarios agree with the kernel', () => {
  it.each(files)('%s', async (file) => {
    const path = join(dir, file);
    const base = dirname(path);
    const read = (p: string) => new Uint8Array(readFileSync(resolve(base, p)));
    const scenario = parseScenario(readFileSync(path, 'utf8'), file);
    expect(scenario.programs).toHaveLength(1);
    const fresh = await prepareScenario(scenario, read);
    const { report, runner, outputs } = await runScenario(scenario, read);
    const frames = readCapture(read(scenario.input!.pcap)).packets.map((p) => ({ packet: p.index, data: toEthernetFrame(p) }));
    const k = runScenarioInKernel(resolve(base, scenario.object), scenario.programs[0].program, fresh, frames);
    for (const kp of k.packets) {
      const ours = report.packets.find((p) => p.packet === kp.packet)!;
      const hop = ours.hops[0];
      // the verdict number: TC_ACT_* / XDP_* by value
      expect(hop.verdict, `packet ${kp.packet}`).toBe(verdictName(scenario.programs[0].attach, kp.retval));
    }
    // bytes: what bpfbed let leave (or pass up) equals the kernel's data_out for that packet
    let compared = 0;
    for (const name of outputs.names().filter((n) => n !== 'drop')) {
      for (const p of outputs.packets(name)) {
        const kp = k.packets.find((x) => x.packet === p.packet)!;
        expect(hex(p.data), `packet ${p.packet} (${name})`).toBe(hex(kp.dataOut));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0);
    // maps: every non-global map holds the same entries
    for (const [name, entries] of Object.entries(k.maps)) {
      if (name.includes('.')) continue;
      const mine = runner.bed.map(name).dump().entries.map((e) => `${hex(e.key)}=${hex(e.value)}`).sort();
      const theirs = entries.map((e) => `${hex(e.key)}=${hex(e.value)}`).sort();
      expect(mine, `map ${name}`).toEqual(theirs);
    }
  });
});

function verdictName(attach: string, retval: number): string {
  const tc = ['TC_ACT_OK', 'TC_ACT_RECLASSIFY', 'TC_ACT_SHOT', 'TC_ACT_PIPE', 'TC_ACT_STOLEN', 'TC_ACT_QUEUED', 'TC_ACT_REPEAT', 'TC_ACT_REDIRECT', 'TC_ACT_TRAP'];
  const xdp = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];
  if (attach === 'xdp') return xdp[retval] ?? 'XDP_ABORTED';
  return (retval | 0) === -1 ? 'TC_ACT_UNSPEC' : (tc[retval] ?? `TC_ACT_${retval | 0}`);
}
