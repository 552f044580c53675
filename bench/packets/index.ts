// The per-packet benchmark (issue 4, "Figures"): packet_lb of bpf/bench/packet.c, a tc program
// that parses Ethernet/IPv4/TCP, looks up two hash maps and rewrites the destination with the
// checksum helpers, over a generated capture of 100,000 packets. Reports bpfbed's ns per packet
// through CtxRunner.runSkb next to the kernel's BPF_PROG_TEST_RUN time for the same program and
// a representative packet of each kind (maps filled the same way), with where bpfbed's time goes.
import { skbFromFrame } from '../../src/ctx/skb.js';
import { readCapture } from '../../src/pcap/read.js';
import { runCapture, runFrame, timeCapture, timeFrame } from './bpfbed.js';
import { breakDown, type PacketBreakdown } from './breakdown.js';
import { profilePass } from './profile.js';
import { KernelPacketProgram, kernelJitEnabled, kernelUnavailable } from './kernel.js';
import { generateTraffic, sampleFrame } from './traffic.js';
import { PACKET_OBJECT, PACKET_PROGRAM, packetObjectPath, preparePacketRunner } from './workload.js';
import { EXPECTED_VERDICT, PACKET_CLASSES, makeWorld, type PacketClass } from './world.js';

export { formatPacketBench } from './report.js';

export const DEFAULT_PACKET_COUNT = 100_000;
/** Runs per BPF_PROG_TEST_RUN and test runs per packet for the kernel column. */
const KERNEL_REPEAT = 200_000;
const KERNEL_BATCHES = 5;

export interface PacketBenchOptions {
  /** Time given to the timed pass over the capture (at least one pass) and to each packet kind. */
  minSeconds: number;
  log: (s: string) => void;
  /** Run the kernel column where root is available. */
  kernel: boolean;
  /** Packets in the generated capture (default 100,000). */
  packets?: number;
}

export type KernelColumn =
  | {
      nsPerPacket: number;
      runs: number;
      /** True for the capture row: the kernel's per-kind times weighted by the capture's mix. */
      estimated: boolean;
      /** net.core.bpf_jit_enable was on (undefined: unknown). */
      jit?: boolean;
    }
  | { na: string };

export interface PacketBenchResult {
  /** 'capture' for the whole generated capture, else the packet kind (PacketClass). */
  name: string;
  what: string;
  /** Packets in the row's input (the capture's size, or 1). */
  packets: number;
  /** Verdict name -> packets. */
  verdicts: Record<string, number>;
  bpfbed: { nsPerPacket: number; runs: number; insnsPerPacket: number };
  kernel: KernelColumn;
  /** bpfbed ns / kernel ns (how many times slower bpfbed is); undefined without the kernel. */
  ratio?: number;
  /** Disagreements with the expected verdicts or with the kernel (verdict, output bytes). */
  mismatches: string[];
  /** Only on the capture row. */
  breakdown?: PacketBreakdown;
}

const WHAT: Record<PacketClass, string> = {
  tracked: 'service, tracked connection: 2 lookups, DNAT, redirect',
  syn: 'service, new connection (SYN): 2 lookups, DNAT, redirect',
  untracked: 'service, untracked mid-stream: 2 lookups, shot',
  'no-service': 'TCP to no service: 1 lookup, ok',
  udp: 'UDP: parsed, not looked up, ok',
};

const firstDifference = (a: Uint8Array, b: Uint8Array): number => {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
};

export async function benchPackets(opts: PacketBenchOptions): Promise<PacketBenchResult[]> {
  const count = opts.packets ?? DEFAULT_PACKET_COUNT;
  const world = makeWorld();
  opts.log(`packets: generating a capture of ${count} packets`);
  const traffic = generateTraffic(world, count);
  const capture = readCapture(traffic.pcap);
  if (capture.error) throw new Error(`packets: the generated capture does not read back: ${capture.error.message}`);
  const frames = capture.packets.map((p) => p.data);

  const runner = await preparePacketRunner(world);
  // The kernel gets the maps before any packet ran (conntrack's packet counters at 0).
  let kernel: KernelPacketProgram | undefined;
  let kernelNa = opts.kernel ? kernelUnavailable() : 'not asked for';
  if (!kernelNa) {
    try {
      opts.log('packets: loading packet.o in the kernel');
      kernel = KernelPacketProgram.open(packetObjectPath(), runner);
    } catch (err) {
      kernelNa = (err as Error).message;
    }
  }

  try {
    // Verdicts first (also warms up the runner), then the timed passes.
    opts.log(`packets: bpfbed, ${count} packets`);
    const checked = runCapture(runner, PACKET_PROGRAM, frames);
    const mismatches: string[] = [];
    const wrong = new Map<string, number>();
    checked.perPacket.forEach((v, i) => {
      const want = EXPECTED_VERDICT[traffic.classes[i]];
      if (v === want) return;
      const what = `${traffic.classes[i]}: ${v} instead of ${want}`;
      wrong.set(what, (wrong.get(what) ?? 0) + 1);
    });
    for (const [what, n] of wrong) mismatches.push(`${n} packets of kind ${what}`);
    const timed = timeCapture(runner, PACKET_PROGRAM, frames, opts.minSeconds);

    // One representative packet per kind: bpfbed and kernel on the same bytes.
    const rows: PacketBenchResult[] = [];
    for (const cls of PACKET_CLASSES) {
      const flow = world.flows.find((f) => f.cls === cls);
      if (!flow) continue;
      const frame = sampleFrame(flow);
      const once = runFrame(runner, PACKET_PROGRAM, frame);
      opts.log(`packets: ${cls}: bpfbed`);
      const t = timeFrame(runner, PACKET_PROGRAM, frame, opts.minSeconds / 2);
      const rowMismatches: string[] = [];
      if (once.verdict.name !== EXPECTED_VERDICT[cls]) rowMismatches.push(`bpfbed verdict ${once.verdict.name}, expected ${EXPECTED_VERDICT[cls]}`);
      let kernelColumn: KernelColumn = { na: kernelNa ?? 'unavailable' };
      let ratio: number | undefined;
      if (kernel) {
        opts.log(`packets: ${cls}: kernel`);
        const first = kernel.run(PACKET_PROGRAM, frame, 1);
        if (first.retval !== once.verdict.value) rowMismatches.push(`kernel returned ${first.retval}, bpfbed ${once.verdict.value} (${once.verdict.name})`);
        const at = firstDifference(first.dataOut, once.skb.data);
        if (at >= 0) rowMismatches.push(`output packets differ from byte ${at} (kernel ${first.dataOut.length} bytes, bpfbed ${once.skb.data.length})`);
        const k = kernel.timeFrame(PACKET_PROGRAM, frame, KERNEL_REPEAT, KERNEL_BATCHES);
        // The maps' mirror entries keep every repeat on the first run's path (bench/packets/maps.ts).
        if (k.retval !== first.retval) rowMismatches.push(`kernel repeats took another path (returned ${k.retval}, first run ${first.retval})`);
        kernelColumn = { nsPerPacket: k.nsPerRun, runs: k.runs, estimated: false, jit: kernelJitEnabled() };
        ratio = t.nsPerPacket / k.nsPerRun;
      }
      rows.push({
        name: cls,
        what: WHAT[cls],
        packets: 1,
        verdicts: { [once.verdict.name]: 1 },
        bpfbed: { nsPerPacket: t.nsPerPacket, runs: t.packets, insnsPerPacket: once.insnCount },
        kernel: kernelColumn,
        ...(ratio === undefined ? {} : { ratio }),
        mismatches: rowMismatches,
      });
    }

    opts.log('packets: where the time goes');
    const tracked = world.flows.find((f) => f.cls === 'tracked')!;
    const breakdown = breakDown(runner, PACKET_PROGRAM, frames, timed.nsPerPacket, checked.insnsPerPacket, sampleFrame(tracked), opts.minSeconds / 4);
    breakdown.profile = await profilePass(() => {
      for (const frame of frames) runner.runSkb(PACKET_PROGRAM, skbFromFrame(frame));
    });

    // The capture row's kernel time: each kind's time weighted by its share of the capture.
    let captureKernel: KernelColumn = { na: kernelNa ?? 'unavailable' };
    let captureRatio: number | undefined;
    if (kernel) {
      let ns = 0;
      let runs = 0;
      for (const row of rows) {
        if ('na' in row.kernel) continue;
        const share = traffic.classes.filter((c) => c === row.name).length / count;
        ns += share * row.kernel.nsPerPacket;
        runs += row.kernel.runs;
      }
      captureKernel = { nsPerPacket: ns, runs, estimated: true, jit: kernelJitEnabled() };
      captureRatio = timed.nsPerPacket / ns;
    }
    const captureRow: PacketBenchResult = {
      name: 'capture',
      what: `${count} generated packets (${PACKET_OBJECT} ${PACKET_PROGRAM})`,
      packets: count,
      verdicts: checked.verdicts,
      bpfbed: { nsPerPacket: timed.nsPerPacket, runs: timed.packets, insnsPerPacket: checked.insnsPerPacket },
      kernel: captureKernel,
      ...(captureRatio === undefined ? {} : { ratio: captureRatio }),
      mismatches,
      breakdown,
    };
    return [captureRow, ...rows];
  } finally {
    kernel?.close();
  }
}
