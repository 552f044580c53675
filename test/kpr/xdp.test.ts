// The XDP NodePort fast path (bpf/kpr/nodeport_xdp.c: an XDP program and nodeport.c's tc program
// on one device, sharing the maps) in bpfbed: the kpr-xdp-* scenarios (real captures; expected
// outputs from the kernel), the bytes XDP writes against the bytes the tc path writes for the
// same packets, and what XDP leaves to tc.
import { describe, expect, it } from 'vitest';
import { checkIpv4Checksums, ipv4Frame, TCP_ACK, TCP_SYN } from '../../src/kpr/frames.js';
import { readCapture } from '../../src/pcap/read.js';
import { Pipeline } from '../../src/run/pipeline.js';
import { prepareScenario, runScenario } from '../../src/run/scenario-run.js';
import { CT_DIR_FORWARD, CT_DIR_SERVICE, decodeCtEntry, decodeTupleKey } from '../../src/kpr/layout.js';
import { firstSnatPort } from '../../src/kpr/snat-port.js';
import { fromPod, loadScenario, MAC, PORT_MAX, PORT_MIN, toNodePort, view } from './nodeport-node.js';

// enum np_stat (nodeport.c) and enum np_xdp_stat (nodeport_xdp.c)
const NP_PASS = 0, NP_REMOTE = 2, NP_NO_BACKEND = 4, NP_NEIGH = 7;
const NPX_TX = 0, NPX_PASS = 2;

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

/**
 * The node of kpr-xdp-remote.yaml (or kpr-xdp-local.yaml): XDP and tc on eth0, or (tcOnly) the
 * same object's tc program alone — nodeport.c's path, for comparison.
 */
async function node(name = 'kpr-xdp-remote.yaml', opts: { tcOnly?: boolean; edit?: (s: ReturnType<typeof loadScenario>['scenario']) => void } = {}) {
  const { scenario, read } = loadScenario(name);
  if (opts.tcOnly) scenario.programs = scenario.programs.filter((p) => p.attach !== 'xdp');
  opts.edit?.(scenario);
  const runner = await prepareScenario(scenario, read);
  const pipeline = new Pipeline(runner, runner.bed.env, scenario.programs);
  const stat = (map: string, index: number) => runner.bed.typedMap(map).get(index) as bigint;
  return {
    runner,
    send: (frame: Uint8Array, device = 'eth0') => pipeline.process(frame, device, 'ingress'),
    np: (i: number) => stat('np_stats', i),
    npx: (i: number) => stat('np_xdp_stats', i),
    ct: () => runner.bed.map('ct4').entries().map((e) => ({ key: decodeTupleKey(e.key), entry: decodeCtEntry(e.value) })),
    natCount: () => runner.bed.map('snat4').entries().length,
  };
}

describe('XDP NodePort to a remote backend (kpr-xdp-remote.yaml, real captures)', () => {
  it('translates the client packets at XDP and the replies at tc, with the bytes and verdicts the kernel produced', async () => {
    const { scenario, read } = loadScenario('kpr-xdp-remote.yaml');
    const { report, outputs } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]);
    const client = report.packets.filter((p) => p.input.startsWith('10.0.0.1'));
    const pod = report.packets.filter((p) => p.input.startsWith('10.244.1.5'));
    expect(client.map((p) => p.hops.map((h) => `${h.program} ${h.verdict}`))).toEqual(Array(7).fill(['nodeport_xdp XDP_TX']));
    expect(pod.map((p) => p.hops.map((h) => `${h.program} ${h.verdict}`))).toEqual(Array(5).fill(['nodeport_xdp XDP_PASS', 'nodeport_ingress TC_ACT_REDIRECT']));
    for (const p of outputs.packets('eth0')) expect(checkIpv4Checksums(p.data)).toEqual({ ip: true, l4: true });
  });

  it('leaves eth0 with exactly the bytes the tc-only path (kpr-remote.yaml, kernel-produced) sends', async () => {
    const { scenario, read } = loadScenario('kpr-xdp-remote.yaml');
    const { outputs } = await runScenario(scenario, read);
    const tcPath = readCapture(read('kpr-remote/expected/eth0.pcap')).packets.map((p) => hex(p.data));
    expect(outputs.packets('eth0').map((p) => hex(p.data))).toEqual(tcPath);
  });
});

describe('the same SYN through XDP and through tc', () => {
  it('is DNATed and SNATed to the same bytes, with checksums that hold when recomputed', async () => {
    const xdp = await node();
    const tc = await node('kpr-xdp-remote.yaml', { tcOnly: true });
    const syn = toNodePort();
    const a = xdp.send(syn);
    const b = tc.send(syn);
    expect(a.hops.map((h) => h.verdict)).toEqual(['XDP_TX']);
    expect(b.hops.map((h) => h.verdict)).toEqual(['TC_ACT_REDIRECT']);
    expect([a.output, b.output]).toEqual(['eth0', 'eth0']);
    expect(hex(a.data!)).toBe(hex(b.data!));
    const port = firstSnatPort({ saddr: '10.0.0.1', daddr: '10.244.1.5', sport: 40000, dport: 8080, proto: 6 }, PORT_MIN, PORT_MAX);
    expect(view(a.data!)).toEqual({ dstMac: MAC.node2, srcMac: MAC.node, src: '10.0.0.2', sport: port, dst: '10.244.1.5', dport: 8080, ttl: 63 });
    expect(checkIpv4Checksums(a.data!)).toEqual({ ip: true, l4: true });
    // and the same connection state: CT and NAT entries as tc writes them
    expect(xdp.ct().map((c) => ({ ...c, entry: { ...c.entry, expiresNs: 0n, createdNs: 0n } }))).toEqual(
      tc.ct().map((c) => ({ ...c, entry: { ...c.entry, expiresNs: 0n, createdNs: 0n } })),
    );
    expect(xdp.runner.bed.map('snat4').entries()).toEqual(tc.runner.bed.map('snat4').entries());
  });

  it('writes the same bytes as tc for many tuples, TCP and UDP, with and without a UDP checksum (RFC 1624 against the helpers)', async () => {
    const xdp = await node();
    const tc = await node('kpr-xdp-remote.yaml', { tcOnly: true });
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const proto = i % 2 ? 'udp' : 'tcp';
      const payload = Uint8Array.from({ length: i * 7 }, (_, j) => (j * 31 + i) & 0xff);
      const f = toNodePort({ proto, sport: 1024 + i * 1597, src: `10.0.0.${1 + (i % 5)}`, payload, id: i * 4099, ttl: 2 + i });
      if (proto === 'udp' && i % 4 === 3) f[40] = f[41] = 0; // UDP without a checksum (RFC 768: 0 = none)
      frames.push(f);
    }
    for (const [i, f] of frames.entries()) {
      const a = xdp.send(f);
      const b = tc.send(f);
      expect(a.hops[0].verdict, `frame ${i}`).toBe('XDP_TX');
      expect(hex(a.data!), `frame ${i}`).toBe(hex(b.data!));
      const sum = checkIpv4Checksums(a.data!);
      expect(sum, `frame ${i}`).toEqual({ ip: true, l4: true });
      if (f[23] === 17 && f[40] === 0 && f[41] === 0) expect([a.data![40], a.data![41]], `frame ${i}: no checksum stays none`).toEqual([0, 0]);
    }
  });
});

describe('what XDP hands to tc', () => {
  it('the SYN-ACK of the pod passes XDP untouched and is reverse-translated by tc', async () => {
    const n = await node();
    const out = n.send(toNodePort());
    const port = view(out.data!).sport;
    const reply = n.send(fromPod(port, { flags: TCP_SYN | TCP_ACK }));
    expect(reply.hops.map((h) => `${h.program} ${h.verdict}`)).toEqual(['nodeport_xdp XDP_PASS', 'nodeport_ingress TC_ACT_REDIRECT']);
    expect(view(reply.data!)).toEqual({ dstMac: MAC.client, srcMac: MAC.node, src: '10.0.0.2', sport: 30080, dst: '10.0.0.1', dport: 40000, ttl: 63 });
    expect(checkIpv4Checksums(reply.data!)).toEqual({ ip: true, l4: true });
  });

  it('non-service traffic passes XDP and tc to the stack unchanged, with no map written', async () => {
    const n = await node();
    const other = toNodePort({ dport: 22 });
    const fate = n.send(other);
    expect(fate.hops.map((h) => `${h.program} ${h.verdict}`)).toEqual(['nodeport_xdp XDP_PASS', 'nodeport_ingress TC_ACT_OK']);
    expect(fate.output).toBe('stack');
    expect(hex(fate.data!)).toBe(hex(other));
    expect(n.ct()).toEqual([]);
    expect([n.npx(NPX_PASS), n.np(NP_PASS)]).toEqual([1n, 1n]);
  });

  it('IP options, fragments and ICMP to the NodePort are not XDP\'s: passed with no trace', async () => {
    const n = await node();
    const withOptions = (() => {
      const f = toNodePort();
      const g = new Uint8Array(f.length + 4);
      g.set(f.subarray(0, 34));
      g.set([1, 1, 1, 0], 34); // NOP NOP NOP EOL
      g.set(f.subarray(34), 38);
      g[14] = 0x46;
      g[17] += 4;
      return g;
    })();
    const fragment = toNodePort();
    fragment[20] = 0x20; // MF: a first fragment
    const icmp = toNodePort();
    icmp[23] = 1;
    for (const f of [withOptions, fragment, icmp]) {
      expect(n.send(f).hops[0]).toMatchObject({ program: 'nodeport_xdp', verdict: 'XDP_PASS' });
    }
    expect(n.npx(NPX_PASS)).toBe(3n);
    expect(n.ct()).toEqual([]);
  });

  it('a TTL about to expire is left to tc (and the stack), which counts the connection once', async () => {
    const n = await node();
    const fate = n.send(toNodePort({ ttl: 1 }));
    expect(fate.hops.map((h) => h.verdict)).toEqual(['XDP_PASS', 'TC_ACT_OK']);
    expect(n.ct().map((c) => c.entry.packets)).toEqual([1n, 1n]);
  });

  it('without a neighbour entry XDP passes, and tc sends with bpf_redirect_neigh; CT counts the packet once', async () => {
    const n = await node('kpr-xdp-remote.yaml', { edit: (s) => (s.environment!.neighbours = s.environment!.neighbours!.filter((x) => x.ip !== '10.0.0.5')) });
    const fate = n.send(toNodePort());
    expect(fate.hops.map((h) => `${h.program} ${h.verdict}`)).toEqual(['nodeport_xdp XDP_PASS', 'nodeport_ingress TC_ACT_REDIRECT']);
    expect(fate.hops[1].redirect).toMatchObject({ kind: 'redirect_neigh', ifindex: 2 });
    expect(n.np(NP_NEIGH)).toBe(1n);
    const byDir = Object.fromEntries(n.ct().map((c) => [c.key.dir, c.entry.packets]));
    expect(byDir).toEqual({ [CT_DIR_SERVICE]: 1n, [CT_DIR_FORWARD]: 1n });
    expect(n.natCount()).toBe(2);
  });

  it('services with session affinity or externalTrafficPolicy: Local are left to tc, which implements them', async () => {
    for (const flag of [1 << 4, 1 << 2]) { // SVC_FLAG_AFFINITY, SVC_FLAG_LOCAL_SCOPE (lb.h)
      const n = await node('kpr-xdp-remote.yaml', { edit: (s) => (s.maps!.lb4_services = s.maps!.lb4_services!.map((e) => ((e.key as { backend_slot: number }).backend_slot === 0 ? { ...e, value: { ...(e.value as object), flags: 66 | flag } } : e))) });
      const fate = n.send(toNodePort());
      expect(fate.hops[0]).toMatchObject({ program: 'nodeport_xdp', verdict: 'XDP_PASS' });
      expect(fate.hops[1]?.program).toBe('nodeport_ingress');
      expect(n.npx(NPX_PASS)).toBe(1n);
    }
  });

  it('a service without backends is dropped at XDP and counted', async () => {
    const n = await node('kpr-xdp-remote.yaml', { edit: (s) => (s.maps!.lb4_services = s.maps!.lb4_services!.map((e) => ((e.key as { backend_slot: number }).backend_slot === 0 ? { ...e, value: { ...(e.value as object), count: 0 } } : e))) });
    const fate = n.send(toNodePort());
    expect(fate).toMatchObject({ output: 'drop', reason: 'XDP_DROP' });
    expect(n.np(NP_NO_BACKEND)).toBe(1n);
    expect(n.ct()).toEqual([]);
  });

  it('the next packets of a connection XDP opened keep its backend and SNAT port', async () => {
    const n = await node();
    const first = view(n.send(toNodePort()).data!);
    const next = n.send(toNodePort({ flags: TCP_ACK }));
    expect(next.hops[0].verdict).toBe('XDP_TX');
    expect(view(next.data!)).toEqual(first);
    expect([n.np(NP_REMOTE), n.npx(NPX_TX), BigInt(n.natCount())]).toEqual([2n, 2n, 2n]);
  });
});

describe('XDP NodePort to a local backend (kpr-xdp-local.yaml, real capture)', () => {
  it('redirects the DNATed connection to lxc0 with the pod MAC; the UDP request for no service reaches the stack', async () => {
    const { scenario, read } = loadScenario('kpr-xdp-local.yaml');
    const { report, outputs } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]);
    expect(report.packets[0].hops[0]).toMatchObject({ program: 'nodeport_xdp', verdict: 'XDP_REDIRECT', redirect: { kind: 'redirect', ifindex: 3 } });
    for (const p of outputs.packets('lxc0')) {
      expect(view(p.data)).toMatchObject({ dstMac: MAC.pod, srcMac: MAC.lxc0, src: '10.0.0.1', sport: 40000, dst: '10.244.0.5', dport: 8080, ttl: 63 });
      expect(checkIpv4Checksums(p.data)).toEqual({ ip: true, l4: true });
    }
    const tcPath = readCapture(read('kpr-local/expected/lxc0.pcap')).packets.map((p) => hex(p.data));
    expect(outputs.packets('lxc0').map((p) => hex(p.data))).toEqual(tcPath);
    expect(outputs.packets('stack').map((p) => view(p.data).dport)).toEqual([30053]);
  });

  it('a local backend behind another device is a redirect, never XDP_TX', async () => {
    const n = await node('kpr-xdp-local.yaml');
    const fate = n.send(ipv4Frame({ srcMac: MAC.client, dstMac: MAC.node, src: '10.0.0.9', dst: '10.0.0.2', sport: 5555, dport: 30080, proto: 'tcp' }));
    expect(fate.hops[0]).toMatchObject({ verdict: 'XDP_REDIRECT', redirect: { kind: 'redirect', ifindex: 3 } });
    expect(fate.output).toBe('lxc0');
  });
});

describe('the other NodePort captures through XDP first', () => {
  // The tc-only scenarios' worlds with nodeport_xdp.o and its XDP program in front: whatever XDP
  // translates itself or passes to tc, every device must see exactly the bytes the kernel
  // produced for the tc-only path (their expected/*.pcap).
  it.each(['kpr-icmp.yaml', 'kpr-edge.yaml', 'kpr-second-client.yaml', 'kpr-no-backend.yaml', 'kpr-v6-remote.yaml', 'kpr-v6-local.yaml'])('%s: the same bytes leave every device', async (name) => {
    const { scenario, read } = loadScenario(name);
    const expected = scenario.expect!.outputs!;
    delete scenario.expect; // its verdicts are tc's
    scenario.object = '../obj/kpr/nodeport_xdp.o';
    scenario.programs = [{ program: 'nodeport_xdp', attach: 'xdp', device: 'eth0' }, ...scenario.programs];
    const { report, outputs } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]);
    for (const [output, pcap] of Object.entries(expected)) {
      const want = readCapture(read(pcap as string)).packets.map((p) => hex(p.data));
      expect(outputs.packets(output).map((p) => hex(p.data)), output).toEqual(want);
    }
    expect(report.packets.every((p) => p.hops[0]?.program === 'nodeport_xdp')).toBe(true);
  });
});
