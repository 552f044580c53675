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
import { runningKconfig } from './kconfig.js';
import { compareCtxOut, skbCtxIn } from './context.js';
import { compareMaps, type PacketLink } from './maps.js';
import { packetFacts, withKernelFields } from './packet-link.js';
import { packetFieldsNamed } from '../../scenario/parity.js';
import { replayTestRuns, type ReplayFrame } from './test-run-replay.js';
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
export async function comparePacketScenario(declared: Scenario, path: string, name: string, ws: Workspace): Promise<ParityItem> {
  // libbpf gives the kernel's copy the running kernel's __kconfig values; bpfbed gets the same
  const scenario: Scenario = { ...declared, kconfig: runningKconfig().values as Scenario['kconfig'] };
  const item: ParityItem = { kind: 'packet-scenario', name, status: 'agree', compared: 'verdicts, output bytes, maps', counts: emptyCounts(), mismatches: [] };
  const attachOf = (program: string) => scenario.programs.find((p) => p.program === program)?.attach ?? 'tc/ingress';
  const base = dirname(path);
  const read = (p: string) => new Uint8Array(readFileSync(resolve(base, p)));
  const fresh = await prepareScenario(scenario, read);
  const { report, runner, outputs } = await runScenario(scenario, read);
  // Several programs, or XDP: every packet runs through the hooks of the device it arrives on,
  // XDP with that device as ingress_ifindex, so the device must exist where the run happens.
  const hooked = scenario.programs.length > 1 || scenario.programs.some((p) => p.attach === 'xdp');
  const inNetns = needsNetns(scenario.environment) || hooked;
  const input = scenario.input!;
  const overrides = new Map((input.packets ?? []).map((p) => [p.packet, p]));
  const dropped = new Set<string>();
  const frames: ReplayFrame[] = readCapture(read(input.pcap)).packets.map((p) => {
    const device = report.packets.find((r) => r.packet === p.index)?.device;
    const ifindex = device !== undefined ? fresh.bed.env.deviceByName(0, device)?.ifindex : undefined;
    const override = overrides.get(p.index);
    const direction = override?.direction ?? input.direction ?? 'ingress';
    // the same ctx_in for both sides: the packet's metadata, and its device where that exists
    const ctx = skbCtxIn({ ...input.metadata, ...override }, inNetns && ifindex !== undefined ? { ifindex, ingress: direction === 'ingress' } : undefined);
    ctx.dropped.forEach((f) => dropped.add(f));
    return {
      packet: p.index,
      data: toEthernetFrame(p),
      timestampNs: p.timestampNs,
      skbCtxIn: ctx.ctx,
      ...(hooked && device !== undefined ? { device } : {}),
      ...(hooked && ifindex !== undefined ? { ifindex } : {}),
    };
  });
  const netns = inNetns ? buildNetns(ws, scenario.environment ?? {}) : undefined;
  const program = hooked ? scenario.programs : scenario.programs[0].program;
  let k;
  try {
    k = runScenarioInKernel(resolve(base, scenario.object), program, fresh, frames, { pinDir: ws.pinDir('scenario'), ...(netns ? { netns } : {}) });
  } finally {
    if (netns) ws.deleteNetns(netns);
  }
  if (netns) item.compared += ' (in a namespace built from the environment)';
  const beyond = new Set<number>(); // packets bpfbed followed further than the kernel's chain
  for (const kp of k.packets) {
    const ours = report.packets.find((p) => p.packet === kp.packet);
    item.counts.packets++;
    const hops = kp.hops;
    hops.forEach((hop, i) => {
      const want = verdictName(attachOf(hop.program), hop.retval);
      const got = ours?.hops[i]?.verdict ?? '(no run)';
      if (got !== want) item.mismatches.push(`packet ${kp.packet}: ${hop.program}: verdict: kernel ${want}, bpfbed ${got}`);
    });
    if ((ours?.hops.length ?? 0) > hops.length) beyond.add(kp.packet);
  }
  if (beyond.size) item.note = `packets ${[...beyond].join(', ')}: bpfbed followed a redirect into more programs; their output bytes are not compared`;
  // Context fields: bpfbed's emulation of the same test runs (same ctx_in, same order) against
  // the kernel's ctx_out, hop by hop.
  const replay = replayTestRuns(await prepareScenario(scenario, read), program, frames, input.followTimestamps !== false, scenario.budget);
  k.packets.forEach((kp, i) => {
    kp.hops.forEach((hop, h) => {
      const mine = replay[i]?.[h];
      const where = `packet ${kp.packet}: ${hop.program}: context`;
      if (!mine || mine.program !== hop.program) return void item.mismatches.push(`${where}: bpfbed's test run did not run it`);
      if (mine.error) return void item.mismatches.push(`${where}: bpfbed's test run: ${mine.error}`);
      if (mine.retval !== hop.retval >>> 0) return void item.mismatches.push(`${where}: bpfbed's test run returned ${mine.retval}, the kernel's ${hop.retval >>> 0}`);
      const kind = fresh.bed.program(hop.program).spec.type === 'xdp' ? 'xdp' : 'skb';
      const c = compareCtxOut(kind, hop.ctxOut, mine.ctxOut);
      item.counts.contextFields += c.fields;
      for (const d of c.differences) item.mismatches.push(`${where}: ${d}`);
    });
  });
  item.compared = item.compared.replace('output bytes', 'output bytes, context fields');
  if (dropped.size) item.note = [item.note, `metadata ${[...dropped].join(', ')}: BPF_PROG_TEST_RUN refuses them in ctx_in, so only bpfbed's pipeline had them`].filter(Boolean).join('; ');
  // Maps, with each side's output packets for rules that link entries to packet fields
  const linkedFields = packetFieldsNamed(scenario.parity);
  const leaving = outputs.names().filter((n) => n !== 'drop').flatMap((output) => outputs.packets(output).map((p) => ({ output, p })));
  const kernelOut = (packet: number) => (beyond.has(packet) ? undefined : k.packets.find((x) => x.packet === packet));
  const facts = linkedFields.length
    ? {
        bpfbed: { packets: leaving.map(({ p }) => packetFacts(p.packet, p.data, linkedFields)) },
        kernel: { packets: leaving.flatMap(({ p }) => (kernelOut(p.packet) ? [packetFacts(p.packet, kernelOut(p.packet)!.dataOut, linkedFields)] : [])) },
      }
    : {};
  const maps = compareMaps(runner.bed, k.maps, scenario.parity, facts);
  item.counts.mapEntries += maps.entries;
  item.mismatches.push(...maps.mismatches);
  let substituted = 0;
  for (const { output, p } of leaving) {
    const kp = kernelOut(p.packet);
    if (!kp) continue;
    item.counts.bytes += kp.dataOut.length;
    let mine = p.data;
    // a field whose value each side linked to its own map entry, both entries linked to the same
    // packet (the first that carried the value), compares as the kernel's value
    const kernelFacts = linkedFields.length ? packetFacts(p.packet, kp.dataOut, linkedFields) : undefined;
    const mineFacts = linkedFields.length ? packetFacts(p.packet, p.data, linkedFields) : undefined;
    const ownerOf = (links: PacketLink[], f: string, v: unknown) => links.find((l) => l.field === f && l.value === v)?.packet;
    const linked = linkedFields.filter((f) => {
      const owner = ownerOf(maps.links.kernel, f, kernelFacts!.fields[f]);
      return owner !== undefined && owner === ownerOf(maps.links.bpfbed, f, mineFacts!.fields[f]);
    });
    if (linked.length && hex(mine) !== hex(kp.dataOut)) {
      const patched = withKernelFields(mine, kp.dataOut, linked);
      if (patched) {
        mine = patched;
        substituted++;
      }
    }
    if (hex(mine) !== hex(kp.dataOut)) item.mismatches.push(`packet ${p.packet} (${output}): output bytes differ at ${firstDifference(mine, kp.dataOut)}`);
  }
  if (substituted) item.compared += `; ${substituted} packet${substituted === 1 ? '' : 's'} compared with the kernel's linked ${linkedFields.join(', ')}`;
  if (maps.rulesApplied) item.compared += `; ${maps.rulesApplied} parity rule${maps.rulesApplied === 1 ? '' : 's'}`;
  if (maps.legacyApplied) item.compared += `; ${maps.legacyApplied} rule${maps.legacyApplied === 1 ? '' : 's'} of the legacy conntrack table`;
  if (item.mismatches.length) item.status = 'mismatch';
  return item;
}
