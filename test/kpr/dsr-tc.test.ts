// NodePort Direct Server Return on the tc path (bpf/kpr/nodeport.c dsr_set_opt4 / dsr_set_ext6,
// Cilium's functions of those names): with no XDP program (kpr-dsr-tc.yaml, kpr-dsr-tc6.yaml,
// outputs produced by the kernel) and for a packet XDP passes on. The option goes in with
// bpf_skb_adjust_room(BPF_ADJ_ROOM_NET); the packets leave exactly as XDP sends them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkIpv4Checksums, checkIpv6Checksums } from '../../src/kpr/frames.js';
import { readCapture } from '../../src/pcap/read.js';
import { Pipeline } from '../../src/run/pipeline.js';
import { prepareScenario, runScenario } from '../../src/run/scenario-run.js';
import { loadScenario, MAC, SCENARIOS, toNodePort } from './nodeport-node.js';

const NP = { REMOTE: 2, FIB_FAIL: 6, DSR_OPT: 11 };
const CT_F_DSR = 0x80;

/** The IPv4 options of an Ethernet frame (the bytes between the base header and L4). */
const options = (frame: Uint8Array) => [...frame.subarray(34, 14 + (frame[14] & 0x0f) * 4)];
const captured = (path: string) => readCapture(new Uint8Array(readFileSync(join(SCENARIOS, path)))).packets.map((p) => [...p.data]);

describe('DSR at tc without XDP (kpr-dsr-tc.yaml)', () => {
  it('DNATs without SNAT and inserts the option 0x9a, 8, port, address on the SYN and the UDP request only', async () => {
    const { scenario, read } = loadScenario('kpr-dsr-tc.yaml');
    const { report, outputs, runner } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]); // verdicts and bytes the kernel produced, the maps listed
    const sent = outputs.packets('eth0');
    expect(sent).toHaveLength(7);
    expect(options(sent[0].data)).toEqual([0x9a, 0x08, 0x75, 0x80, 0x0a, 0x00, 0x00, 0x02]);
    expect(options(sent[6].data)).toEqual([0x9a, 0x08, 0x75, 0x65, 0x0a, 0x00, 0x00, 0x02]);
    for (const p of sent.slice(1, 6)) expect(options(p.data)).toEqual([]);
    for (const p of sent) expect(checkIpv4Checksums(p.data)).toEqual({ ip: true, l4: true });
    expect(runner.bed.map('snat4').entries()).toEqual([]);
    expect(runner.bed.typedMap('np_stats').get(NP.DSR_OPT)).toBe(2n);
  });

  it('sends the bytes XDP sends for the same packets (kpr-dsr.yaml), IPv4 and IPv6, as the kernel produced both', () => {
    expect(captured('kpr-dsr-tc/expected/eth0.pcap')).toEqual(captured('kpr-dsr/expected/eth0.pcap'));
    expect(captured('kpr-dsr-tc6/expected/eth0.pcap')).toEqual(captured('kpr-dsr6/expected/eth0.pcap'));
  });

  it('IPv6: the SYN and the UDP query get the destination options header, Payload Length + 24, checksums unchanged and valid', async () => {
    const { scenario, read } = loadScenario('kpr-dsr-tc6.yaml');
    const { report, outputs } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]);
    const input = readCapture(read(scenario.input!.pcap)).packets;
    const sent = outputs.packets('eth0');
    for (const i of [0, 6]) {
      const out = sent[i].data;
      expect(out.length).toBe(input[i].data.length + 24);
      expect(out[20]).toBe(60); // Next Header: destination options
      expect([...out.subarray(54, 58)]).toEqual([input[i].data[20], 2, 0x1b, 20]); // its Next Header, length, option type, option length
      expect(((out[18] << 8) | out[19]) - ((input[i].data[18] << 8) | input[i].data[19])).toBe(24);
      expect(checkIpv6Checksums(out)).toEqual({ l4: true });
    }
  });
});

describe('DSR at tc behind XDP', () => {
  it('takes over a DSR packet XDP passed (sessionAffinity stays with tc): option inserted at tc, the same bytes as XDP would send', async () => {
    const { scenario, read } = loadScenario('kpr-dsr.yaml');
    const plain = await prepareScenario(scenario, read);
    const xdpOnly = new Pipeline(plain, plain.bed.env, scenario.programs).process(toNodePort(), 'eth0', 'ingress');
    // the TCP service also gets sessionAffinity: ClientIP, which nodeport_xdp leaves to tc
    const slot0 = scenario.maps!.lb4_services!.find((e) => (e.key as { backend_slot: number; proto: number }).backend_slot === 0)!;
    (slot0.value as { flags: number; backend_id: number }).flags |= 1 << 4; // SVC_FLAG_AFFINITY
    (slot0.value as { backend_id: number }).backend_id = 60;
    const runner = await prepareScenario(scenario, read);
    const lb = new Pipeline(runner, runner.bed.env, scenario.programs);
    const fate = lb.process(toNodePort(), 'eth0', 'ingress');
    expect(fate.hops.map((h) => h.verdict)).toEqual(['XDP_PASS', 'TC_ACT_REDIRECT']);
    expect(fate.output).toBe('eth0');
    expect(options(fate.data!)).toEqual([0x9a, 0x08, 0x75, 0x80, 0x0a, 0x00, 0x00, 0x02]);
    expect(checkIpv4Checksums(fate.data!)).toEqual({ ip: true, l4: true });
    expect([...fate.data!]).toEqual([...xdpOnly.data!]); // what XDP_TX sends without affinity
    const stat = (i: number) => runner.bed.typedMap('np_stats').get(i);
    expect([stat(NP.DSR_OPT), stat(NP.REMOTE)]).toEqual([1n, 1n]);
    expect(runner.bed.map('snat4').entries()).toEqual([]);
    const ct = runner.bed.typedMap('ct4').entries() as unknown as { value: { flags: number } }[];
    expect(ct).toHaveLength(2);
    for (const e of ct) expect(e.value.flags & CT_F_DSR).toBe(CT_F_DSR);
  });

  it('drops a packet the option makes too big for the route (BPF_FIB_LKUP_RET_FRAG_NEEDED); one that still fits is sent', async () => {
    const { scenario, read } = loadScenario('kpr-dsr-tc.yaml');
    scenario.environment!.devices![0].mtu = 100;
    const runner = await prepareScenario(scenario, read);
    const lb = new Pipeline(runner, runner.bed.env, scenario.programs);
    const request = (bytes: number) => toNodePort({ proto: 'udp', payload: new Uint8Array(bytes) });
    expect(lb.process(request(72), 'eth0', 'ingress')).toMatchObject({ output: 'drop' });
    expect(runner.bed.typedMap('np_stats').get(NP.FIB_FAIL)).toBe(1n);
    const fits = lb.process(request(64), 'eth0', 'ingress');
    expect(fits.output).toBe('eth0');
    expect((fits.data![16] << 8) | fits.data![17]).toBe(100);
    expect(fits.data![14]).toBe(0x47);
  });
});
