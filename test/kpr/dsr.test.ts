// NodePort Direct Server Return (bpf/kpr/dsr.h): the load-balancing node's XDP path inserts the
// frontend in an IPv4 option and does not SNAT (kpr-dsr.yaml, bpf/kpr/nodeport_xdp.c); the
// backend's node reads it and sends the pod's replies from the frontend (kpr-dsr-backend.yaml,
// bpf/kpr/dsr_backend.c). Both scenarios' outputs were produced by the kernel.
import { describe, expect, it } from 'vitest';
import { checkIpv4Checksums, checkIpv6Checksums, ipv4Frame, ipv6Frame, TCP_ACK, TCP_SYN } from '../../src/kpr/frames.js';
import { readCapture } from '../../src/pcap/read.js';
import { Pipeline } from '../../src/run/pipeline.js';
import { prepareScenario, runScenario } from '../../src/run/scenario-run.js';
import { loadScenario, MAC, toNodePort, view as viewNoOptions } from './nodeport-node.js';

const POD_MAC = '02:00:00:00:0f:05';
const LXC0_MAC = '02:00:00:00:0f:01'; // node2's pod-side device
const DSR_STAT = { NEW: 0, KNOWN: 1, REPLY: 2, PASS: 3 };

async function world(name: string) {
  const { scenario, read } = loadScenario(name);
  const runner = await prepareScenario(scenario, read);
  const pipeline = new Pipeline(runner, runner.bed.env, scenario.programs);
  return { runner, send: (frame: Uint8Array, device = 'eth0') => pipeline.process(frame, device, 'ingress'), stat: (i: number) => runner.bed.typedMap('dsr_stats').get(i) };
}

/** nodeport-node.ts's view of a frame, wherever IHL puts the ports. */
function view(frame: Uint8Array) {
  const ihl = (frame[14] & 0x0f) * 4;
  const flat = new Uint8Array(frame.length - (ihl - 20));
  flat.set(frame.subarray(0, 34));
  flat.set(frame.subarray(14 + ihl), 34);
  return viewNoOptions(flat);
}

/** The IPv4 options of an Ethernet frame (the bytes between the base header and L4). */
const options = (frame: Uint8Array) => [...frame.subarray(34, 14 + (frame[14] & 0x0f) * 4)];

/** What the pod sends back to the client with DSR: to the client itself (it saw no SNAT). */
const podReply = (dport: number, flags = TCP_SYN | TCP_ACK, proto: 'tcp' | 'udp' = 'tcp') =>
  ipv4Frame({ srcMac: POD_MAC, dstMac: LXC0_MAC, src: '10.244.1.5', dst: '10.0.0.1', sport: 8080, dport, proto, flags });

describe('the load-balancing node (kpr-dsr.yaml, XDP)', () => {
  it('DNATs without SNAT and inserts the option 0x9a, 8, port, address on the SYN and the UDP request only', async () => {
    const { scenario, read } = loadScenario('kpr-dsr.yaml');
    const { report, outputs, runner } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]); // verdicts and bytes the kernel produced
    const sent = outputs.packets('eth0');
    expect(sent).toHaveLength(7);
    // SYN: 10.0.0.2:30080 = 0x7580, 0a 00 00 02; the UDP request: :30053 = 0x7565
    expect(options(sent[0].data)).toEqual([0x9a, 0x08, 0x75, 0x80, 0x0a, 0x00, 0x00, 0x02]);
    expect(options(sent[6].data)).toEqual([0x9a, 0x08, 0x75, 0x65, 0x0a, 0x00, 0x00, 0x02]);
    for (const p of sent.slice(1, 6)) expect(options(p.data)).toEqual([]); // TCP after the SYN: no option
    for (const p of sent) {
      expect(view(p.data)).toMatchObject({ dstMac: MAC.node2, srcMac: MAC.node, src: '10.0.0.1', dst: '10.244.1.5', dport: 8080, ttl: 63 });
      expect(checkIpv4Checksums(p.data)).toEqual({ ip: true, l4: true });
    }
    expect(runner.bed.map('snat4').entries()).toEqual([]);
  });

  it('grows the SYN by the option: IHL 7, total length + 8, L4 bytes unchanged', async () => {
    const lb = await world('kpr-dsr.yaml');
    const syn = toNodePort();
    const out = lb.send(syn).data!;
    expect(out.length).toBe(syn.length + 8);
    expect(out[14]).toBe(0x47);
    expect((out[16] << 8) | out[17]).toBe(((syn[16] << 8) | syn[17]) + 8);
    // the TCP header and payload: only the destination port and the checksum changed
    const before = [...syn.subarray(34)], after = [...out.subarray(42)];
    expect(after.filter((b, i) => b !== before[i] && ![2, 3, 16, 17].includes(i))).toEqual([]);
  });
});

describe('a DSR packet the option would make too big for the route', () => {
  it('is dropped at XDP and counted; one that still fits with the option is sent', async () => {
    const { scenario, read } = loadScenario('kpr-dsr.yaml');
    scenario.environment!.devices![0].mtu = 100;
    const runner = await prepareScenario(scenario, read);
    const lb = new Pipeline(runner, runner.bed.env, scenario.programs);
    const request = (bytes: number) => toNodePort({ proto: 'udp', payload: new Uint8Array(bytes) });
    // 20 + 8 + 72 = 100 bytes: fits without the option, not with it (net/core/filter.c
    // bpf_ipv4_fib_lookup: tot_len > the route's MTU gives BPF_FIB_LKUP_RET_FRAG_NEEDED)
    expect(lb.process(request(72), 'eth0', 'ingress')).toMatchObject({ output: 'drop', reason: 'XDP_DROP' });
    expect(runner.bed.typedMap('np_xdp_stats').get(4)).toBe(1n); // NPX_DSR_FRAG_NEEDED
    expect(runner.bed.map('ct4').entries()).toEqual([]);
    const fits = lb.process(request(64), 'eth0', 'ingress');
    expect(fits.hops[0].verdict).toBe('XDP_TX');
    expect((fits.data![16] << 8) | fits.data![17]).toBe(100);
  });
});

describe('the backend node (kpr-dsr-backend.yaml, tc)', () => {
  it('records the frontend, passes the packets on to the pod with the option, and sends the replies from the frontend', async () => {
    const { scenario, read } = loadScenario('kpr-dsr-backend.yaml');
    const { report, outputs, runner } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]); // verdicts and bytes the kernel produced
    const toPod = outputs.packets('lxc0');
    expect(toPod).toHaveLength(7);
    expect(options(toPod[0].data)).toEqual([0x9a, 0x08, 0x75, 0x80, 0x0a, 0x00, 0x00, 0x02]); // left in, as Cilium does
    for (const p of toPod) {
      expect(view(p.data)).toMatchObject({ dstMac: POD_MAC, srcMac: LXC0_MAC, src: '10.0.0.1', dst: '10.244.1.5', dport: 8080, ttl: 62 });
      expect(checkIpv4Checksums(p.data)).toEqual({ ip: true, l4: true });
    }
    const toClient = outputs.packets('eth0');
    expect(toClient).toHaveLength(5);
    for (const p of toClient) {
      const udp = p.data[23] === 17;
      expect(view(p.data)).toEqual({ dstMac: MAC.client, srcMac: MAC.node2, src: '10.0.0.2', sport: udp ? 30053 : 30080, dst: '10.0.0.1', dport: udp ? 40001 : 40000, ttl: 63 });
      expect(checkIpv4Checksums(p.data)).toEqual({ ip: true, l4: true });
    }
    expect(runner.bed.typedMap('dsr4_ct').entries()).toHaveLength(2);
  });

  it('passes what is not DSR: no option and no entry, an option of another type or length, an unknown reply', async () => {
    const be = await world('kpr-dsr-backend.yaml');
    const plain = ipv4Frame({ srcMac: MAC.node, dstMac: MAC.node2, src: '10.0.0.1', dst: '10.244.1.5', sport: 41000, dport: 8080, proto: 'tcp' });
    const withOption = (type: number, len: number) => {
      const g = new Uint8Array(plain.length + 8);
      g.set(plain.subarray(0, 34));
      g.set([type, len, 0x75, 0x80, 10, 0, 0, 2], 34);
      g.set(plain.subarray(34), 42);
      g[14] = 0x47;
      g[17] += 8;
      return g;
    };
    for (const f of [plain, withOption(0x9b, 8), withOption(0x9a, 6)]) {
      const fate = be.send(f);
      expect(fate).toMatchObject({ output: 'stack' });
      expect(fate.data).toEqual(f);
    }
    const stray = be.send(podReply(41000), 'lxc0');
    expect(stray.output).toBe('stack');
    expect(be.stat(DSR_STAT.PASS)).toBe(4n);
    expect(be.runner.bed.map('dsr4_ct').entries()).toEqual([]);
  });
});

describe('end to end: client -> load-balancing node -> backend node -> client', () => {
  it('the pod answers the client directly, from the address and port the client connected to', async () => {
    const lb = await world('kpr-dsr.yaml');
    const be = await world('kpr-dsr-backend.yaml');
    const syn = lb.send(toNodePort({ sport: 45678 }));
    expect(syn.hops[0].verdict).toBe('XDP_TX');
    const atPod = be.send(syn.data!);
    expect(atPod.output).toBe('lxc0');
    expect(view(atPod.data!)).toMatchObject({ src: '10.0.0.1', sport: 45678, dst: '10.244.1.5', dport: 8080 });
    const synAck = be.send(podReply(45678), 'lxc0');
    expect(synAck.output).toBe('eth0');
    expect(view(synAck.data!)).toEqual({ dstMac: MAC.client, srcMac: MAC.node2, src: '10.0.0.2', sport: 30080, dst: '10.0.0.1', dport: 45678, ttl: 63 });
    expect(checkIpv4Checksums(synAck.data!)).toEqual({ ip: true, l4: true });
    // the next client packet has no option: the backend node knows the connection by its entry
    const ack = lb.send(toNodePort({ sport: 45678, flags: TCP_ACK }));
    expect(options(ack.data!)).toEqual([]);
    expect(be.send(ack.data!).output).toBe('lxc0');
    expect([be.stat(DSR_STAT.NEW), be.stat(DSR_STAT.KNOWN), be.stat(DSR_STAT.REPLY)]).toEqual([1n, 1n, 1n]);
  });
});

describe('DSR over IPv6 (kpr-dsr6.yaml at XDP, kpr-dsr6-backend.yaml at tc)', () => {
  const FD00_2 = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
  const addr6 = (frame: Uint8Array, at: number) => [...frame.subarray(at, at + 16)];

  it('the SYN and the UDP query carry a destination options header: Next Header 60, option 0x1B, length 20, address, port', async () => {
    const { scenario, read } = loadScenario('kpr-dsr6.yaml');
    const { report, outputs, runner } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]); // verdicts and bytes the kernel produced
    const sent = outputs.packets('eth0');
    const syn = sent[0].data;
    expect(syn[20]).toBe(60); // IPv6 Next Header: destination options
    // next header TCP, Hdr Ext Len 2 (24 bytes), option 0x1B with 20 bytes: fd00::2, 30080, padding
    expect([...syn.subarray(54, 78)]).toEqual([6, 2, 0x1b, 20, ...FD00_2, 0x75, 0x80, 0, 0]);
    const query = sent.find((p) => p.packet === 7)!.data;
    expect([...query.subarray(54, 78)]).toEqual([17, 2, 0x1b, 20, ...FD00_2, 0x75, 0x65, 0, 0]);
    const input = readCapture(read('../kpr/pcap/dsr6-client.pcap')).packets;
    expect((syn[18] << 8) | syn[19]).toBe(((input[0].data[18] << 8) | input[0].data[19]) + 24);
    for (const p of sent.filter((p) => p.packet >= 2 && p.packet <= 6)) expect(p.data[20]).toBe(6); // TCP after the SYN: none
    for (const p of sent.filter((p) => p.packet <= 7)) {
      expect(addr6(p.data, 22)).toEqual(addr6(input[0].data, 22)); // the client's address kept: no SNAT
      expect(checkIpv6Checksums(p.data)).toEqual({ l4: true });
    }
    // the service without DSR: SNATed to fd00::2 (at XDP too)
    expect(report.packets[7].hops.map((h) => h.verdict)).toEqual(['XDP_TX']);
    expect(addr6(sent[7].data, 22)).toEqual(FD00_2);
    expect(runner.bed.map('snat6').entries()).toHaveLength(2); // that datagram's pair only
  });

  it('the backend node keeps the header for the pod and answers the client from [fd00::2]:30080 / :30053', async () => {
    const { scenario, read } = loadScenario('kpr-dsr6-backend.yaml');
    const { report, outputs } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]);
    const toPod = outputs.packets('lxc0');
    expect(toPod[0].data[20]).toBe(60);
    expect([...toPod[0].data.subarray(56, 58)]).toEqual([0x1b, 20]);
    for (const p of toPod) expect(p.data[21]).toBe(62); // hop limit: 64 at the client, - 1 per node
    for (const p of outputs.packets('eth0')) {
      expect(addr6(p.data, 22)).toEqual(FD00_2);
      expect((p.data[54] << 8) | p.data[55]).toBe(p.data[20] === 17 ? 30053 : 30080);
      expect(checkIpv6Checksums(p.data)).toEqual({ l4: true });
    }
    expect(outputs.packets('stack').map((p) => p.packet)).toEqual([13]); // the SNATed datagram: no DSR
  });

  it('a destination option of another type is not DSR', async () => {
    const be = await world('kpr-dsr6-backend.yaml');
    const f = ipv6Frame({ srcMac: MAC.node, dstMac: MAC.node2, src: 'fd00::1', dst: 'fd00:244:1::5', sport: 41000, dport: 8080, proto: 'tcp', ext: [{ type: 'dest', length: 22 }] });
    expect(f[55]).toBe(2); // a 24-byte header, as the DSR one, holding PadN
    expect(be.send(f)).toMatchObject({ output: 'stack' });
    expect(be.runner.bed.map('dsr6_ct').entries()).toEqual([]);
  });
});

describe('what the client receives', () => {
  // With DSR the reply leaves the backend's node instead of the load-balancing node; everything
  // from the IP header on must be what the client got through SNAT (both kernel-produced).
  it.each([
    ['IPv4', 'kpr-remote', 'kpr-dsr-backend'],
    ['IPv6', 'kpr-v6-remote', 'kpr-dsr6-backend'],
  ])('%s: the same reply bytes as through SNAT, only the sending node\'s MAC differs', (_, snat, dsr) => {
    const { read } = loadScenario(`${snat}.yaml`);
    const fromNode = (name: string) =>
      readCapture(read(`${name}/expected/eth0.pcap`))
        .packets.map((p) => p.data)
        .filter((d) => [...d.subarray(0, 6)].join() === '2,0,0,0,10,1'); // to the client's MAC
    const viaSnat = fromNode(snat).map((d) => hex(d.subarray(12)));
    const viaDsr = fromNode(dsr).map((d) => hex(d.subarray(12)));
    expect(viaDsr.length).toBeGreaterThanOrEqual(5);
    expect(viaSnat.filter((r) => viaDsr.includes(r))).toEqual(viaDsr);
  });
});

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
