// Running a scenario: build the world (object, environment, map entries), feed the capture packet
// by packet through the pipeline, and check what came out against the expectations. Browser-safe:
// files come through a reader the caller provides (the CLI reads the disk, the playground its
// uploads).
import { CtxRunner } from '../ctx/runner.js';
import { Environment } from '../env/environment.js';
import { loadObject, withKconfig } from '../loader/object.js';
import type { ObjectSpec } from '../loader/spec.js';
import { decodePacket } from '../packet/decode.js';
import { diffPackets, formatDiff } from '../packet/diff.js';
import { summarizePacket } from '../packet/summary.js';
import { toEthernetFrame } from '../pcap/ethernet.js';
import { readCapture, type CapturedPacket } from '../pcap/read.js';
import type { PacketInput, Scenario } from '../scenario/types.js';
import type { TypedValue } from '../typed/typed-value.js';
import { compareOutput, type OutputMismatch } from './compare.js';
import { clusterMapEntries } from '../k8s/scenario.js';
import { applyMaglevToTestbed } from '../k8s/maglev-maps.js';
import { parseIP } from '../env/addr.js';
import { OutputSet } from './outputs.js';
import { Pipeline, type Hop, type PacketFate } from './pipeline.js';

/** Reads a file the scenario names (relative to the scenario file); throws if it cannot. */
export type FileReader = (path: string) => Uint8Array;

export interface PacketReport {
  packet: number;
  device: string;
  direction: 'ingress' | 'egress';
  input: string;
  /** Where it went: a device name, 'stack' or 'drop'. */
  output: string;
  /** The verdict of the last program that ran on it ('-' when none did). */
  verdict: string;
  reason?: string;
  hops: Hop[];
  /** The packet as it left, summarised, and what changed (ip.dst 10.96.0.10 -> 10.0.1.5). */
  result?: string;
  changes: string[];
  /** A problem with this packet itself (an unsupported link type). */
  error?: string;
}

export interface Mismatch {
  what: 'verdict' | 'output' | 'capture' | 'map' | 'printk' | 'fault';
  packet?: number;
  message: string;
  details?: string[];
}

export interface RunReport {
  object: string;
  description?: string;
  packets: PacketReport[];
  outputs: { name: string; packets: number }[];
  /** The first problem reading the capture: what was read before it was still run. */
  captureError?: string;
  mismatches: Mismatch[];
  totals: { packets: number; faults: number; dropped: number; instructions: number };
  ok: boolean;
}

export interface ScenarioRunOptions {
  /** Record an instruction trace of this many entries per program run (for --trace). */
  traceLimit?: number;
  /** Called after each packet (for progress bars). */
  onPacket?: (done: number, total: number) => void;
  /** Called with the world before the first packet (the playground keeps its maps to show what changed). */
  onPrepared?: (runner: CtxRunner) => void;
}

export interface ScenarioRunResult {
  report: RunReport;
  outputs: OutputSet;
  runner: CtxRunner;
}

export class ScenarioRunError extends Error {
  override name = 'ScenarioRunError';
}

/** Makes the scenario's world live: the object's Testbed with its environment and map entries. */
export async function prepareScenario(scenario: Scenario, read: FileReader, specOverride?: ObjectSpec): Promise<CtxRunner> {
  // __kconfig externs: the scenario's values over the loader's defaults, CONFIG_HZ following the
  // emulated clock (src/loader/kconfig.ts)
  const hz = scenario.environment?.clock?.hz;
  const kconfig = { ...(hz !== undefined ? { CONFIG_HZ: hz } : {}), ...scenario.kconfig };
  const spec = specOverride ? withKconfig(specOverride, kconfig) : loadObject(read(scenario.object), { name: scenario.object.split('/').pop(), kconfig });
  const env = Environment.fromSpec(scenario.environment ?? {});
  const runner = await CtxRunner.create(spec, {
    environment: env,
    nrCpus: scenario.cpus,
    cpu: scenario.cpu,
    budget: scenario.budget,
    deviceExists: (ifindex) => env.deviceByIndex(0, ifindex) !== undefined,
  });
  for (const binding of scenario.programs) {
    runner.bed.program(binding.program); // names the programs there are when one is missing
    if (binding.device !== undefined && !env.deviceByName(0, binding.device)) {
      throw new ScenarioRunError(`programs: ${binding.program} is attached to device ${binding.device}, which environment.devices does not define`);
    }
  }
  const present = new Set(runner.bed.maps.map((m) => m.name));
  if (scenario.cluster) {
    // The control plane's entries first; the scenario's own `maps:` may then add or override.
    const text = new TextDecoder().decode(read(scenario.cluster.objects));
    const { maps, maglev } = clusterMapEntries(text, scenario.cluster.node, scenario.cluster.objects);
    for (const [name, entries] of Object.entries(maps)) {
      if (!present.has(name)) continue; // the object does not use this map
      const map = runner.bed.typedMap(name);
      entries.forEach((entry, i) => {
        const rc = map.set(entry.key as TypedValue, entry.value as TypedValue);
        if (rc !== 0) throw new ScenarioRunError(`cluster: ${name}[${i}]: the map refused the entry (errno ${-rc})`);
      });
    }
    // Maglev tables: inner maps of lb4_maglev / lb6_maglev (src/k8s/maglev-maps.ts).
    applyMaglevToTestbed(runner.bed, maglev);
    // The node's own addresses, for programs that tell local addresses apart (bpf/kpr/sock_maps.h).
    for (const address of scenario.cluster.node.addresses) {
      const v6 = parseIP(address, 'cluster.node.addresses').family === 6;
      const name = v6 ? 'lb6_node_addrs' : 'lb4_node_addrs';
      if (present.has(name)) runner.bed.typedMap(name).set(address, { flags: 0 });
    }
  }
  for (const [name, entries] of Object.entries(scenario.maps ?? {})) {
    const map = runner.bed.typedMap(name);
    entries.forEach((entry, i) => {
      const rc = map.set(entry.key as TypedValue, entry.value as TypedValue);
      if (rc !== 0) throw new ScenarioRunError(`maps.${name}[${i}]: the map refused the entry (errno ${-rc})`);
    });
  }
  return runner;
}

const decodeSummary = (frame: Uint8Array) => summarizePacket(decodePacket(frame));

export async function runScenario(scenario: Scenario, read: FileReader, opts: ScenarioRunOptions = {}): Promise<ScenarioRunResult> {
  const runner = await prepareScenario(scenario, read);
  opts.onPrepared?.(runner);
  const env = runner.bed.env;
  const pipeline = new Pipeline(runner, env, scenario.programs, scenario.budget, opts.traceLimit);
  const outputs = new OutputSet();
  const input = scenario.input;
  const capture = input ? readCapture(read(input.pcap)) : { packets: [] as CapturedPacket[], error: undefined };
  const report = startReport(scenario, capture.error ? `${input!.pcap}: ${capture.error.message}` : undefined);
  const feed = new CaptureFeed(input, env);
  capture.packets.forEach((pkt, i) => {
    if (addToReport(report, outputs, pkt, feed.feed(pipeline, pkt))) opts.onPacket?.(i + 1, capture.packets.length);
  });
  report.outputs = outputs.names().map((name) => ({ name, packets: outputs.packets(name).length }));
  checkExpectations(scenario, read, runner, report, outputs);
  report.ok = report.mismatches.length === 0;
  return { report, outputs, runner };
}

/** A report before the first packet; a problem reading the capture is its first mismatch. */
export function startReport(scenario: Pick<Scenario, 'object' | 'description'>, captureError?: string): RunReport {
  const report: RunReport = {
    object: scenario.object,
    description: scenario.description,
    packets: [],
    outputs: [],
    mismatches: [],
    totals: { packets: 0, faults: 0, dropped: 0, instructions: 0 },
    ok: true,
  };
  if (captureError) {
    report.captureError = captureError;
    report.mismatches.push({ what: 'capture', message: captureError });
  }
  return report;
}

type PacketOverride = NonNullable<PacketInput['packets']>[number];

/** One packet fed: its report row and, unless the capture's packet could not be read, what became of it. */
export interface FedPacket {
  entry: PacketReport;
  /** The Ethernet frame that went in (undefined when the capture's packet could not be read). */
  frame?: Uint8Array;
  fate?: PacketFate;
}

/**
 * runScenario's per-packet step, which the playground's replay (src/playground/engine) shares: the
 * device and direction each packet comes with (input.device, else the first device that is not
 * lo; per-packet overrides), the clock advanced by the capture's gaps, the pipeline, the row.
 */
export class CaptureFeed {
  /** Capture time of the last packet fed: the clock advances by the gap to the next one. */
  previousTs: bigint | undefined;
  private readonly overrides: Map<number, PacketOverride>;
  private readonly defaultDevice: string;

  constructor(
    private readonly input: PacketInput | undefined,
    private readonly env: Environment,
  ) {
    this.overrides = new Map((input?.packets ?? []).map((p) => [p.packet, p]));
    this.defaultDevice = input?.device ?? env.state.devices.find((d) => d.name !== 'lo')?.name ?? 'lo';
  }

  /** Feeds `pkt` through `pipeline`; `summarise: false` leaves out what only a report reads (the world changes the same). */
  feed(pipeline: Pipeline, pkt: CapturedPacket, summarise = true): FedPacket {
    const input = this.input;
    const override = this.overrides.get(pkt.index);
    const device = override?.device ?? this.defaultDevice;
    const direction = override?.direction ?? input?.direction ?? 'ingress';
    // Time passes between packets as the capture says (unless the scenario says otherwise).
    if (input?.followTimestamps !== false && this.previousTs !== undefined && pkt.timestampNs > this.previousTs) {
      this.env.advance(Number(pkt.timestampNs - this.previousTs));
    }
    this.previousTs = pkt.timestampNs;
    const entry: PacketReport = { packet: pkt.index, device, direction, input: '', output: 'drop', verdict: '-', hops: [], changes: [] };
    let frame: Uint8Array;
    try {
      frame = toEthernetFrame(pkt);
      if (summarise) entry.input = decodeSummary(frame);
    } catch (err) {
      entry.error = (err as Error).message;
      return { entry };
    }
    const fate = pipeline.process(frame, device, direction, { ...input?.metadata, ...override });
    entry.output = fate.output;
    entry.hops = fate.hops;
    entry.verdict = fate.hops.at(-1)?.verdict ?? '-';
    if (fate.reason) entry.reason = fate.reason;
    if (fate.data && summarise) {
      entry.result = decodeSummary(fate.data);
      entry.changes = formatDiff(diffPackets(decodePacket(frame), decodePacket(fate.data)));
    }
    return { entry, frame, fate };
  }
}

/**
 * Adds a fed packet to the report (its row, faults, totals) and what left to `outputs`. False
 * when the capture's packet could not be read (a capture mismatch, nothing run).
 */
export function addToReport(report: RunReport, outputs: OutputSet, pkt: CapturedPacket, { entry, frame, fate }: FedPacket): boolean {
  report.packets.push(entry);
  if (!fate || !frame) {
    report.mismatches.push({ what: 'capture', packet: pkt.index, message: entry.error ?? 'unreadable packet' });
    return false;
  }
  outputs.add(fate.output, { packet: pkt.index, data: fate.data ?? frame, timestampNs: pkt.timestampNs });
  for (const clone of fate.clones) outputs.add(clone.output, { packet: pkt.index, data: clone.data, timestampNs: pkt.timestampNs });
  for (const hop of fate.hops) {
    report.totals.instructions += hop.insnCount;
    if (hop.fault) {
      report.totals.faults++;
      report.mismatches.push({ what: 'fault', packet: pkt.index, message: `packet ${pkt.index}: ${hop.program}: ${hop.fault}` });
    }
  }
  if (fate.output === 'drop') report.totals.dropped++;
  report.totals.packets++;
  return true;
}

function checkExpectations(scenario: Scenario, read: FileReader, runner: CtxRunner, report: RunReport, outputs: OutputSet): void {
  const expect = scenario.expect;
  if (!expect) return;
  expect.verdicts?.forEach((want, i) => {
    const packet = typeof want === 'string' ? i + 1 : want.packet;
    const got = report.packets.find((p) => p.packet === packet);
    if (!got) {
      report.mismatches.push({ what: 'verdict', packet, message: `packet ${packet}: expected, but the capture has no such packet` });
      return;
    }
    const verdict = typeof want === 'string' ? want : want.verdict;
    if (verdict !== undefined && got.verdict !== verdict) {
      report.mismatches.push({ what: 'verdict', packet, message: `packet ${packet}: verdict ${got.verdict}, expected ${verdict}` });
    }
    if (typeof want !== 'string' && want.output !== undefined && got.output !== want.output) {
      report.mismatches.push({ what: 'output', packet, message: `packet ${packet}: went to ${got.output}, expected ${want.output}` });
    }
  });
  for (const [name, file] of Object.entries(expect.outputs ?? {})) {
    const expected = readCapture(read(file));
    if (expected.error) report.mismatches.push({ what: 'capture', message: `${file}: ${expected.error.message}` });
    for (const m of compareOutput(name, expected.packets, outputs.packets(name))) report.mismatches.push(outputMismatch(m));
  }
  for (const [name, entries] of Object.entries(expect.maps ?? {})) {
    const map = runner.bed.typedMap(name);
    entries.forEach((entry) => {
      const key = entry.key as TypedValue;
      const present = map.get(key) !== undefined;
      if (entry.absent) {
        if (present) report.mismatches.push({ what: 'map', message: `${name}: entry ${JSON.stringify(key)} should be absent` });
        return;
      }
      const diffs = entry.value === undefined ? (present ? [] : [`${name}: no entry for key ${JSON.stringify(key)}`]) : map.diff(key, entry.value as TypedValue);
      if (diffs.length > 0) report.mismatches.push({ what: 'map', message: diffs[0], details: diffs.slice(1) });
    });
  }
  if (expect.printk) {
    const got = report.packets.flatMap((p) => p.hops.flatMap((h) => h.printk));
    if (JSON.stringify(got) !== JSON.stringify(expect.printk)) {
      report.mismatches.push({ what: 'printk', message: 'bpf_printk output differs', details: [`expected: ${JSON.stringify(expect.printk)}`, `got:      ${JSON.stringify(got)}`] });
    }
  }
}

function outputMismatch(m: OutputMismatch): Mismatch {
  return {
    what: 'output',
    packet: m.packet,
    message: `${m.output} packet ${m.position}${m.packet !== undefined ? ` (input packet ${m.packet})` : ''}: ${m.problem}`,
    details: m.changes,
  };
}
