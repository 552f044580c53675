#!/usr/bin/env node
// Runs a scenario's packets through the kernel (BPF_PROG_TEST_RUN via runScenarioInKernel) and
// prints what came back as JSON on stdout: per packet the return value and data_out (hex), per
// map its entries (hex). For test/kernel/scenario-parity.test.ts, which runs it inside the
// scenario's network namespace (scripts/kpr-netns.mjs) when the program reads routes.
//
//   node scripts/kpr-kernel-json.mjs SCENARIO      (root, after npm run build)
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseScenario } from '../dist/src/scenario/parse.js';
import { prepareScenario } from '../dist/src/run/scenario-run.js';
import { readCapture } from '../dist/src/pcap/read.js';
import { toEthernetFrame } from '../dist/src/pcap/ethernet.js';
import { runScenarioInKernel } from '../dist/src/node/kernel-scenario.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node scripts/kpr-kernel-json.mjs SCENARIO');
  process.exit(2);
}
const base = dirname(resolve(file));
const read = (p) => new Uint8Array(readFileSync(resolve(base, p)));
const scenario = parseScenario(readFileSync(file, 'utf8'), file);
if (scenario.programs.length !== 1) throw new Error(`${file}: the kernel run handles scenarios with one program`);
const fresh = await prepareScenario(scenario, read);
const frames = readCapture(read(scenario.input.pcap)).packets.map((p) => ({ packet: p.index, data: toEthernetFrame(p) }));
const k = runScenarioInKernel(resolve(base, scenario.object), scenario.programs[0].program, fresh, frames);
const hex = (b) => Buffer.from(b).toString('hex');
process.stdout.write(
  JSON.stringify({
    packets: k.packets.map((p) => ({ packet: p.packet, retval: p.retval, dataOut: hex(p.dataOut) })),
    maps: Object.fromEntries(Object.entries(k.maps).map(([m, es]) => [m, es.map((e) => ({ key: hex(e.key), value: hex(e.value) }))])),
  }) + '\n',
);
