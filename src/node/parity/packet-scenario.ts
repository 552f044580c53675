// A packet scenario in the kernel and in bpfbed: every packet through BPF_PROG_TEST_RUN in order
// (src/node/kernel-scenario.ts; maps persist between packets, as in bpfbed), then the same
// verdict per packet, the same bytes for every packet bpfbed let leave or pass up, and the same
// map contents at the end (with the scenario's `parity:` rules). A scenario whose environment has
// routes or neighbours runs in a namespace built from it (netns.ts), so bpf_fib_lookup agrees.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { runScenarioInKernel, type KernelFrame } from '../kernel-scenario.js';
import { toEthernetFrame } from '../../pcap/ethernet.js';
import { readCapture } from '../../pcap/read.js';
import { prepareScenario, runScenario } from '../../run/scenario-run.js';
import type { Scenario } from '../../scenario/types.js';
import { compareMaps } from './maps.js';
import { buildNetns, needsNetns } from './netns.js';
import { emptyCounts, type ParityItem } from './report.js';
import type { Workspace } from './workspace.js';

const TC_VERDICTS = ['TC_ACT_OK', 'TC_ACT_RECLASSIFY', 'TC_ACT_SHOT', 'TC_ACT_PIPE', 'TC_ACT_STOLEN', 'TC_ACT_QUEUED', 'TC_ACT_REPEAT', 'TC_ACT_REDIRECT', 'TC_ACT_TRAP'];
const XDP_VERDICTS = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];

/** A test run's return value as bpfbed names verdicts (include/uapi/linux/pkt_cls.h, bpf.h xdp_action). */
export function verdictName(attach: string, retval: number): string {
  if (attach === 'xdp') return XDP_VERDICTS[retval] ?? 'XDP_ABORTED';
  if (attach === 'socket') return `${retval >>> 0}`;
  return (retval | 0) === -1 ? 'TC_ACT_UNSPEC' : (TC_VERDICTS[retval] ?? `TC_ACT_${retval | 0}`);
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/** The first byte at which two buffers differ, for a readable mismatch. */
function firstDifference(a: Uint8Array, b: Uint8Array): string {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return `byte ${i}: bpfbed 0x${a[i].toString(16)}, kernel 0x${b[i].toString(16)}`;
  return `lengths: bpfbed ${a.length}, kernel ${b.length}`;
}

/**
 * Compares one packet scenario. `name` labels it in the report; `path` is the scenario file
 * (paths inside are relative to it).
 */
export async function comparePacketScenario(scenario: Scenario, path: string, name: string, ws: Workspace): Promise<ParityItem> {
  const item: ParityItem = { kind: 'packet-scenario', name, status: 'agree', compared: 'verdicts, output bytes, maps', counts: emptyCounts(), mismatches: [] };
  const attachOf = (program: string) => scenario.programs.find((p) => p.program === program)?.attach ?? 'tc/ingress';
  const base = dirname(path);
  const read = (p: string) => new Uint8Array(readFileSync(resolve(base, p)));
  const fresh = await prepareScenario(scenario, read);
  const { report, runner, outputs } = await runScenario(scenario, read);
  // Several programs, or XDP: every packet runs through the hooks of the device it arrives on,
  // XDP with that device as ingress_ifindex, so the device must exist where the run happens.
  const hooked = scenario.programs.length > 1 || scenario.programs.some((p) => p.attach === 'xdp');
  const frames: KernelFrame[] = readCapture(read(scenario.input!.pcap)).packets.map((p) => {
    const device = report.packets.find((r) => r.packet === p.index)?.device;
    const ifindex = device !== undefined ? fresh.bed.env.deviceByName(0, device)?.ifindex : undefined;
    return { packet: p.index, data: toEthernetFrame(p), ...(hooked && device !== undefined ? { device } : {}), ...(hooked && ifindex !== undefined ? { ifindex } : {}) };
  });
  const netns = needsNetns(scenario.environment) || hooked ? buildNetns(ws, scenario.environment ?? {}) : undefined;
  let k;
  try {
    k = runScenarioInKernel(resolve(base, scenario.object), hooked ? scenario.programs : scenario.programs[0].program, fresh, frames, { pinDir: ws.pinDir('scenario'), ...(netns ? { netns } : {}) });
  } finally {
    if (netns) ws.deleteNetns(netns);
  }
  if (netns) item.compared += ' (in a namespace built from the environment)';
  const beyond = new Set<number>(); // packets bpfbed followed further than the kernel's chain
  for (const kp of k.packets) {
    const ours = report.packets.find((p) => p.packet === kp.packet);
    item.counts.packets++;
    const hops = kp.hops ?? [{ program: scenario.programs[0].program, retval: kp.retval, dataOut: kp.dataOut }];
    hops.forEach((hop, i) => {
      const want = verdictName(attachOf(hop.program), hop.retval);
      const got = ours?.hops[i]?.verdict ?? '(no run)';
      if (got !== want) item.mismatches.push(`packet ${kp.packet}: ${hop.program}: verdict: kernel ${want}, bpfbed ${got}`);
    });
    if ((ours?.hops.length ?? 0) > hops.length) beyond.add(kp.packet);
  }
  if (beyond.size) item.note = `packets ${[...beyond].join(', ')}: bpfbed followed a redirect into more programs; their output bytes are not compared`;
  for (const output of outputs.names().filter((n) => n !== 'drop')) {
    for (const p of outputs.packets(output)) {
      const kp = k.packets.find((x) => x.packet === p.packet);
      if (!kp || beyond.has(p.packet)) continue;
      item.counts.bytes += kp.dataOut.length;
      if (hex(p.data) !== hex(kp.dataOut)) item.mismatches.push(`packet ${p.packet} (${output}): output bytes differ at ${firstDifference(p.data, kp.dataOut)}`);
    }
  }
  const maps = compareMaps(runner.bed, k.maps, scenario.parity);
  item.counts.mapEntries += maps.entries;
  item.mismatches.push(...maps.mismatches);
  if (maps.rulesApplied) item.compared += `; ${maps.rulesApplied} parity rule${maps.rulesApplied === 1 ? '' : 's'}`;
  if (maps.legacyApplied) item.compared += `; ${maps.legacyApplied} rule${maps.legacyApplied === 1 ? '' : 's'} of the legacy conntrack table`;
  if (item.mismatches.length) item.status = 'mismatch';
  return item;
}
