// The per-packet workload of the benchmark (bench/packets/): the generated capture, the maps and
// packet_lb's verdicts on a small capture, and the benchmark's report, all without root.
import { describe, expect, it } from 'vitest';
import { classify, type ProfileNode } from '../../bench/packets/profile.js';
import { benchPackets, formatPacketBench } from '../../bench/packets/index.js';
import { runCapture, runFrame } from '../../bench/packets/bpfbed.js';
import { generateTraffic, sampleFrame } from '../../bench/packets/traffic.js';
import { PACKET_PROGRAM, preparePacketRunner } from '../../bench/packets/workload.js';
import { EXPECTED_VERDICT, PACKET_CLASSES, ipv4Text, makeWorld } from '../../bench/packets/world.js';
import { verifyChecksums } from '../../src/csum/verify.js';
import { readCapture } from '../../src/pcap/read.js';

const ETH_HLEN = 14;
const ipDst = (frame: Uint8Array): string => [...frame.subarray(30, 34)].join('.');
const tcpDport = (frame: Uint8Array): number => (frame[36] << 8) | frame[37];

describe('per-packet benchmark workload', () => {
  const world = makeWorld();

  it('generates the same capture for the same seed, with valid IPv4 and L4 checksums', () => {
    const a = generateTraffic(world, 1000);
    const b = generateTraffic(world, 1000);
    expect(a.pcap).toEqual(b.pcap);
    const capture = readCapture(a.pcap);
    expect(capture.error).toBeUndefined();
    expect(capture.packets).toHaveLength(1000);
    for (const p of capture.packets) expect(verifyChecksums(p.data, ETH_HLEN)).toEqual({ ipv4: true, l4: true });
    expect(new Set(a.classes)).toEqual(new Set(PACKET_CLASSES));
  });

  it('gives every packet of a 1,000-packet capture the verdict of its kind', async () => {
    const traffic = generateTraffic(world, 1000);
    const frames = readCapture(traffic.pcap).packets.map((p) => p.data);
    const runner = await preparePacketRunner(world);
    const run = runCapture(runner, PACKET_PROGRAM, frames);
    const expected: Record<string, number> = {};
    for (const cls of traffic.classes) expected[EXPECTED_VERDICT[cls]] = (expected[EXPECTED_VERDICT[cls]] ?? 0) + 1;
    expect(run.verdicts).toEqual(expected);
    expect(run.perPacket).toEqual(traffic.classes.map((c) => EXPECTED_VERDICT[c]));
  });

  it('translates a tracked connection to its backend with valid checksums and counts it in conntrack', async () => {
    const runner = await preparePacketRunner(world);
    const flow = world.flows.find((f) => f.cls === 'tracked')!;
    const res = runFrame(runner, PACKET_PROGRAM, sampleFrame(flow));
    expect(res.verdict.name).toBe('TC_ACT_REDIRECT');
    expect(res.redirect?.ifindex).toBe(3);
    expect(ipDst(res.skb.data)).toBe(ipv4Text(flow.backend!.addr));
    expect(tcpDport(res.skb.data)).toBe(flow.backend!.port);
    expect(verifyChecksums(res.skb.data, ETH_HLEN)).toEqual({ ipv4: true, l4: true });
    const entry = runner.bed.typedMap('conntrack').get({ saddr: ipv4Text(flow.client.addr), daddr: ipv4Text(flow.server.addr), sport: flow.client.port, dport: flow.server.port, proto: 6 });
    expect(entry).toMatchObject({ packets: 1n });
  });

  it('takes a translated packet back through the same path (what the kernel repeat runs see)', async () => {
    const runner = await preparePacketRunner(world);
    for (const cls of PACKET_CLASSES) {
      const frame = sampleFrame(world.flows.find((f) => f.cls === cls)!);
      const first = runFrame(runner, PACKET_PROGRAM, frame);
      const second = runFrame(runner, PACKET_PROGRAM, first.skb.data);
      expect(second.verdict.name, cls).toBe(first.verdict.name);
      expect(second.insnCount, cls).toBe(first.insnCount);
      expect(second.skb.data, cls).toEqual(frame);
    }
  });

  it('reports both engines per packet kind and the breakdown of the capture row', async () => {
    const lines: string[] = [];
    const results = await benchPackets({ minSeconds: 0.01, log: (s) => lines.push(s), kernel: false, packets: 1000 });
    expect(results.map((r) => r.name)).toEqual(['capture', ...PACKET_CLASSES]);
    const capture = results[0];
    expect(capture.mismatches).toEqual([]);
    expect(Object.values(capture.verdicts).reduce((a, b) => a + b, 0)).toBe(1000);
    expect(capture.kernel).toEqual({ na: 'not asked for' });
    const b = capture.breakdown!;
    expect(b.helpers.map((h) => h.helper).sort()).toEqual(['bpf_l3_csum_replace', 'bpf_l4_csum_replace', 'bpf_map_lookup_elem', 'bpf_redirect', 'bpf_skb_store_bytes']);
    for (const h of b.helpers) expect(h.callsPerPacket, h.helper).toBeGreaterThan(0);
    expect(b.insnsPerPacket).toBeGreaterThan(10);
    // The profiler ran and split its samples (which functions it catches varies run to run, so
    // the classification itself is checked on fixed stacks below).
    expect(b.profile!.samples).toBeGreaterThan(0);
    expect(b.profile!.parts.length).toBeGreaterThan(0);
    const text = formatPacketBench(results);
    for (const r of results) expect(text).toContain(r.name);
    expect(text).toContain('(c) helper calls');
  });

  it("classifies profiler stacks by bpfbed's function names (helper calls, interpreter, context setup)", () => {
    const frame = (functionName: string, url = 'file:///x/dist/src/other.js', id = 0): ProfileNode => ({ id, callFrame: { functionName, url } });
    const machineRun = frame('run', 'file:///x/dist/src/vm/machine.js');
    expect(classify([frame('skbStoreBytes'), frame('hostHelper', 'file:///x/dist/src/vm/machine.js'), frame('wasm-function[12]'), machineRun])).toEqual(['(c) helper calls', 'skbStoreBytes']);
    expect(classify([frame('wasm-function[3]'), machineRun])).toEqual(['(b) instructions (wasm)', 'interpreter']);
    expect(classify([frame('load'), frame('runSkb')])).toEqual(['(a) context setup + collect', 'load']);
    expect(classify([frame('(garbage collector)')])).toEqual(['garbage collection', 'gc']);
  });
});
