// bpfbed example (what `npm start` runs): load the bundled example object, run each of its
// programs on every packet of the bundled capture, and print what they computed.
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { decodePacket } from '../../packet/decode.js';
import { summarizePacket } from '../../packet/summary.js';
import { readCapture } from '../../pcap/read.js';
import { toEthernetFrame } from '../../pcap/ethernet.js';
import { Testbed } from '../../testbed/testbed.js';
import { CtxRunner } from '../../ctx/runner.js';
import { parseScenario } from '../../scenario/parse.js';
import { runScenario } from '../../run/scenario-run.js';
import { formatEndpoint, SocketHost } from '../../sockets/socket-host.js';
import { parseClusterYaml } from '../../k8s/objects.js';
import { applyToTestbed, buildLbMaps } from '../../k8s/lb-maps.js';
import { describePlan } from '../../k8s/describe.js';
import type { RunReport } from '../../run/scenario-run.js';
import { dirname } from 'node:path';
import { hex64 } from '../io.js';
import { packageRoot } from '../paths.js';
import { formatTable } from '../table.js';

const OBJECT = 'fixtures/obj/examples/packet_summary.o';
const DNAT_SCENARIO = 'fixtures/scenarios/dnat.yaml';
/**
 * The kube-proxy replacement datapath (bpf/kpr) on its bundled scenarios and cluster: tc NodePort
 * to a local and a remote backend, a service without backends, the XDP fast path, and IPv6.
 */
const NODEPORT_SCENARIOS = [
  'fixtures/scenarios/kpr-local.yaml',
  'fixtures/scenarios/kpr-remote.yaml',
  'fixtures/scenarios/kpr-no-backend.yaml',
  'fixtures/scenarios/kpr-xdp-remote.yaml',
  'fixtures/scenarios/kpr-v6-remote.yaml',
];
const SOCK_LB = 'fixtures/obj/kpr/sock.o';
const CLUSTER = 'fixtures/k8s/cluster.yaml';
const NODE = 'fixtures/k8s/node-1.json';
const CAPTURE = 'fixtures/examples/packets.pcap';
/** struct packet in bpf/examples/packet_summary.c: __u32 len; __u8 bytes[128]. */
const PACKET_BYTES = 128;

export function registerExample(program: Command): void {
  program
    .command('example')
    .description('run the bundled example object on the bundled capture and print the results')
    .option('--json', 'print JSON for machines')
    .action(async (opts: { json?: boolean }) => {
      process.exitCode = await runExample(opts);
    });
}

async function runExample(opts: { json?: boolean }): Promise<number> {
  const root = packageRoot();
  const bed = await Testbed.fromObject(new Uint8Array(readFileSync(join(root, OBJECT))), { name: 'packet_summary.o' });
  const capture = readCapture(new Uint8Array(readFileSync(join(root, CAPTURE))));
  const rows = [];
  let faults = 0;
  for (const pkt of capture.packets) {
    const frame = toEthernetFrame(pkt);
    const ctx = new Uint8Array(4 + PACKET_BYTES);
    new DataView(ctx.buffer).setUint32(0, Math.min(frame.length, PACKET_BYTES), true);
    ctx.set(frame.subarray(0, PACKET_BYTES), 4);
    const results = bed.programs.map((p) => {
      const r = bed.runWithMemory(p.name, ctx);
      if (r.fault) faults++;
      return { program: p.name, r0: r.fault ? undefined : hex64(BigInt.asUintN(32, r.r0)), insns: r.insnCount, fault: r.fault?.message };
    });
    rows.push({ packet: pkt.index, summary: summarizePacket(decodePacket(frame)), checksumInPacket: ipv4ChecksumField(frame), results });
  }
  const counters = bed.maps.map((m) => ({ map: m.name, entries: m.dump().entries.length, firstValue: firstValueHex(m.dump().entries[0]?.value) }));

  if (!opts.json) {
    console.log(`bpfbed example: ${OBJECT} on ${relative(root, join(root, CAPTURE))} (${capture.packets.length} packets)\n`);
    console.log(
      formatTable(
        ['#', 'packet', ...bed.programs.map((p) => p.name), 'ip.checksum', 'insns'],
        rows.map((r) => [
          String(r.packet),
          r.summary,
          ...r.results.map((x) => x.r0 ?? 'fault'),
          r.checksumInPacket ?? '-',
          r.results.map((x) => x.insns).join('/'),
        ]),
        { right: [0] },
      ),
    );
    console.log('\nmaps after the run:');
    for (const m of bed.maps) {
      const [entry] = m.dump().entries;
      console.log(`  ${m.name.padEnd(24)} ${entry ? hexBytes(entry.value) : '(empty)'}`);
    }
    for (const r of rows) for (const x of r.results) if (x.fault) console.log(`\npacket ${r.packet}, ${x.program}: ${x.fault}`);
  }
  if (capture.error) console.error(`bpfbed example: ${capture.error.message}`);

  // 2. A tc DNAT on the same capture, in a scenario whose expected outputs came from the kernel.
  const scenarioPath = join(root, DNAT_SCENARIO);
  const scenario = parseScenario(readFileSync(scenarioPath, 'utf8'), DNAT_SCENARIO);
  const { report } = await runScenario(scenario, (p) => new Uint8Array(readFileSync(join(dirname(scenarioPath), p))));
  // 3. The kube-proxy replacement: NodePort on tc ingress, on real captures, and ClusterIP at the
  //    socket level with the maps filled from Kubernetes objects by the control plane.
  const nodeport: { scenario: string; description?: string; report: RunReport }[] = [];
  for (const file of NODEPORT_SCENARIOS) {
    const path = join(root, file);
    const s = parseScenario(readFileSync(path, 'utf8'), file);
    const run = await runScenario(s, (p) => new Uint8Array(readFileSync(join(dirname(path), p))));
    nodeport.push({ scenario: file, description: s.description, report: run.report });
  }
  const { flows, frontends } = await socketLbFlows(root);

  const failed = faults > 0 || capture.error !== undefined || !report.ok || nodeport.some((n) => !n.report.ok);
  if (opts.json) {
    const dnat = { scenario: DNAT_SCENARIO, ok: report.ok, outputs: report.outputs, mismatches: report.mismatches };
    const np = nodeport.map((n) => ({ scenario: n.scenario, ok: n.report.ok, outputs: n.report.outputs, packets: n.report.packets.map((p) => ({ packet: p.packet, input: p.input, verdict: p.verdict, output: p.output, changes: p.changes })) }));
    console.log(JSON.stringify({ object: OBJECT, capture: CAPTURE, packets: rows, maps: counters, dnat, nodeport: np, sockets: flows, frontends }, null, 2));
    return failed ? 1 : 0;
  }
  console.log(`\n${DNAT_SCENARIO}: ${scenario.description}`);
  for (const p of report.packets.filter((x) => x.output !== 'stack')) {
    console.log(`  packet ${String(p.packet).padStart(2)}  ${p.verdict.padEnd(16)} -> ${p.output.padEnd(5)} ${p.changes.filter((c) => !c.includes('checksum')).join(', ')}`);
  }
  console.log(`  ${report.outputs.map((o) => `${o.name}: ${o.packets} packets`).join(', ')}; ${report.ok ? 'matches what the kernel produced' : `${report.mismatches.length} mismatches`}`);
  for (const n of nodeport) {
    console.log(`\n${n.scenario}: ${n.description}`);
    for (const p of n.report.packets) {
      const changes = p.changes.filter((c) => !c.includes('checksum') && !c.startsWith('eth.')).join(', ');
      console.log(`  ${String(p.packet).padStart(2)}  ${p.input}\n      ${p.verdict} -> ${p.output}${p.reason ? ` (${p.reason})` : ''}${changes ? `: ${changes}` : ''}`);
    }
    console.log(`  ${n.report.ok ? 'matches what the kernel produced' : `${n.report.mismatches.length} mismatches`}`);
  }
  console.log(`\n${SOCK_LB}: socket-level ClusterIP (cgroup hooks, no per-packet NAT), maps from ${CLUSTER}`);
  for (const line of frontends.slice(0, 6)) console.log(`  ${line}`);
  if (frontends.length > 6) console.log(`  ... ${frontends.length - 6} more frontends`);
  for (const line of flows) console.log(`  ${line}`);
  return failed ? 1 : 0;
}

/**
 * The control plane fills the socket datapath's maps from the bundled cluster; then a DNS query
 * and a TCP connection to ClusterIPs, told from the application's side.
 */
async function socketLbFlows(root: string): Promise<{ flows: string[]; frontends: string[] }> {
  const runner = await CtxRunner.fromObject(new Uint8Array(readFileSync(join(root, SOCK_LB))), {
    name: 'sock.o',
    environment: { devices: [{ name: 'eth0', ifindex: 2, addrs: ['192.168.1.10/24'] }], seed: 1 },
  });
  const node = JSON.parse(readFileSync(join(root, NODE), 'utf8'));
  const plan = buildLbMaps(parseClusterYaml(readFileSync(join(root, CLUSTER), 'utf8'), CLUSTER), node);
  applyToTestbed(runner.bed, plan.entries);
  const host = new SocketHost(runner);
  const udp = host.socket('udp');
  const sent = udp.sendmsg(new TextEncoder().encode('query'), '10.96.0.10:53');
  udp.deliver(formatEndpoint(sent.value!.to), new TextEncoder().encode('answer'));
  const reply = udp.recvmsg();
  const tcp = host.socket('tcp');
  tcp.connect('10.96.100.20:80');
  const flows = [
    `udp sendto 10.96.0.10:53    -> sent to ${formatEndpoint(sent.value!.to)} (sendmsg4 chose a kube-dns backend)`,
    `udp recvfrom                <- from ${formatEndpoint(reply.value!.from)} (recvmsg4 restored the VIP)`,
    `tcp connect 10.96.100.20:80 -> connected to ${formatEndpoint(tcp.peer!)}; getpeername says ${formatEndpoint(tcp.getpeername().value!)}`,
  ];
  return { flows, frontends: describePlan(plan) };
}

function ipv4ChecksumField(frame: Uint8Array): string | undefined {
  if (frame.length < 34 || frame[12] !== 0x08 || frame[13] !== 0x00) return undefined;
  return '0x' + ((frame[24] << 8) | frame[25]).toString(16);
}

const hexBytes = (b: Uint8Array): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');
const firstValueHex = (b: Uint8Array | undefined): string | undefined => (b ? hexBytes(b) : undefined);
