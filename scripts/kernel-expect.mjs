#!/usr/bin/env node
// Produces a scenario's expected outputs with the kernel (root): every packet goes through
// BPF_PROG_TEST_RUN, and what the kernel returned and wrote becomes the expected verdicts and
// output captures next to the scenario (<scenario>/expected/). bpfbed is used only for what a
// test run cannot say: where a redirected packet goes (the device bpf_redirect named).
// Fails if the kernel's verdict for any packet differs from bpfbed's.
//
//   node scripts/kernel-expect.mjs fixtures/scenarios/dnat.yaml     (after npm run build)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseScenario } from '../dist/src/scenario/parse.js';
import { prepareScenario, runScenario } from '../dist/src/run/scenario-run.js';
import { readCapture } from '../dist/src/pcap/read.js';
import { toEthernetFrame } from '../dist/src/pcap/ethernet.js';
import { PcapWriter } from '../dist/src/pcap/write.js';
import { runScenarioInKernel } from '../dist/src/node/kernel-scenario.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/kernel-expect.mjs SCENARIO');
  process.exit(2);
}
const base = dirname(resolve(file));
const read = (p) => new Uint8Array(readFileSync(resolve(base, p)));
const scenario = parseScenario(readFileSync(file, 'utf8'), file);
// Several programs (XDP then tc on a device, programs on several devices), or XDP (which needs
// its device as ingress_ifindex): every packet runs through the hooks of the device it arrives on.
const hooked = scenario.programs.length > 1 || scenario.programs.some((p) => p.attach === 'xdp');
if (!hooked && scenario.programs.length !== 1) throw new Error('kernel-expect handles scenarios with one program');
delete scenario.expect; // what we are about to produce

const fresh = await prepareScenario(scenario, read);
const ours = (await runScenario(scenario, read)).report;
const capture = readCapture(read(scenario.input.pcap));
const frames = capture.packets.map((p) => ({ packet: p.index, data: toEthernetFrame(p), ts: p.timestampNs }));
if (hooked) {
  for (const f of frames) {
    f.device = ours.packets.find((p) => p.packet === f.packet).device;
    f.ifindex = fresh.bed.env.deviceByName(0, f.device)?.ifindex;
  }
}
const kernel = runScenarioInKernel(resolve(base, scenario.object), hooked ? scenario.programs : scenario.programs[0].program, fresh, frames);

const TC = { '-1': 'TC_ACT_UNSPEC', 0: 'TC_ACT_OK', 1: 'TC_ACT_RECLASSIFY', 2: 'TC_ACT_SHOT', 3: 'TC_ACT_PIPE', 4: 'TC_ACT_STOLEN', 5: 'TC_ACT_QUEUED', 6: 'TC_ACT_REPEAT', 7: 'TC_ACT_REDIRECT', 8: 'TC_ACT_TRAP' };
const XDP = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];
const nameFor = (attach, retval) => (attach === 'xdp' ? XDP[retval] ?? 'XDP_ABORTED' : TC[retval | 0] ?? `TC_ACT_${retval | 0}`);
const name = (retval) => nameFor(scenario.programs[0].attach, retval);
const attachOf = (program) => scenario.programs.find((p) => p.program === program).attach;

const outDir = join(base, basename(file).replace(/\.(ya?ml|json)$/, ''), 'expected');
mkdirSync(outDir, { recursive: true });
const writers = new Map();
const verdicts = [];
let disagreements = 0;
for (const k of kernel.packets) {
  const mine = ours.packets.find((p) => p.packet === k.packet);
  const verdict = k.hops ? nameFor(attachOf(k.hops.at(-1).program), k.retval) : name(k.retval);
  verdicts.push(verdict);
  if (mine.verdict !== verdict) {
    disagreements++;
    console.error(`packet ${k.packet}: kernel ${verdict}, bpfbed ${mine.verdict}`);
  }
  for (const [i, h] of (k.hops ?? []).entries()) {
    const hop = `${h.program} ${nameFor(attachOf(h.program), h.retval)}`;
    if (`${mine.hops[i]?.program} ${mine.hops[i]?.verdict}` !== hop) {
      disagreements++;
      console.error(`packet ${k.packet} hop ${i}: kernel ${hop}, bpfbed ${mine.hops[i]?.program} ${mine.hops[i]?.verdict}`);
    }
  }
  if (mine.output === 'drop') continue;
  if (!writers.has(mine.output)) writers.set(mine.output, new PcapWriter());
  writers.get(mine.output).add(k.dataOut, frames.find((f) => f.packet === k.packet).ts);
}
for (const [output, w] of writers) writeFileSync(join(outDir, `${output}.pcap`), w.bytes());
const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
writeFileSync(
  join(outDir, 'kernel.json'),
  JSON.stringify(
    {
      producedBy: 'the kernel: BPF_PROG_TEST_RUN (bpftool prog run), one packet at a time, maps kept between packets',
      kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
      outputs: Object.fromEntries([...writers.keys()].map((o) => [o, 'kernel data_out; the device is the one bpf_redirect named'])),
      verdicts,
      ...(hooked ? { hops: kernel.packets.map((k) => (k.hops ?? []).map((h) => `${h.program} ${nameFor(attachOf(h.program), h.retval)}`)) } : {}),
      maps: Object.fromEntries(Object.entries(kernel.maps).map(([m, es]) => [m, es.map((e) => ({ key: hex(e.key), value: hex(e.value) }))])),
    },
    null,
    2,
  ) + '\n',
);
console.log(`${file}: ${kernel.packets.length} packets through the kernel; wrote ${[...writers.keys()].map((o) => `${o}.pcap`).join(', ')} and kernel.json to ${outDir}`);
if (disagreements) {
  console.error(`${disagreements} verdicts differ between the kernel and bpfbed`);
  process.exit(1);
}
