// The tc NodePort datapath over IPv6 (bpf/kpr/nodeport.c nodeport_v6): the kpr-v6-* scenarios
// (real captures, expected outputs from the kernel) through the public scenario API, and
// packet-by-packet behaviours on the same node: SNAT ports, collisions, CT lifetimes and the GC
// sweep over ct6/snat6, extension headers, hop limit, the neighbour fallback.
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/scenario-run.js';
import { readCapture } from '../../src/pcap/read.js';
import { checkIpv6Checksums, ipv6Frame, TCP_ACK, TCP_FIN, TCP_SYN } from '../../src/kpr/frames.js';
import { sweepConntrack } from '../../src/kpr/ct-gc.js';
import { CT_DIR_FORWARD, CT_DIR_SERVICE, CT_F_CLOSING, CT_F_REMOTE, CT_F_SEEN_REPLY, NAT_DIR_EGRESS, NAT_DIR_INGRESS } from '../../src/kpr/layout.js';
import { backendSlot6, firstSnatPort6 } from '../../src/kpr/snat-port.js';
import { parseIPv6 } from '../../src/env/addr.js';
import { loadScenario, MAC, PORT_MAX, PORT_MIN } from './nodeport-node.js';
import { fromPod6, ports6, toNodePort6, V6, v6Node, view6 } from './nodeport-v6-node.js';

// enum np_stat in nodeport.c
const NP_PASS = 0, NP_REMOTE = 2, NP_REPLY = 3, NP_NO_BACKEND = 4, NP_NEIGH = 7, NP_SNAT_COLLISION = 8;
const TCP6 = { saddr: V6.client, daddr: V6.pod, sport: 40000, dport: 8080, proto: 6 };

async function run(name: string) {
  const { scenario, read } = loadScenario(name);
  return runScenario(scenario, read);
}

/** RFC 4443 section 2.3: the ICMPv6 checksum, pseudo header included, holds. */
function icmp6ChecksumHolds(frame: Uint8Array): boolean {
  const len = (frame[18] << 8) | frame[19];
  const body = frame.subarray(54, 54 + len);
  let sum = 0;
  const add = (b: Uint8Array) => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  };
  add(frame.subarray(22, 54));
  sum += len + 58;
  add(body);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum === 0xffff;
}

describe('NodePort over IPv6 to a backend on another node (kpr-v6-remote.yaml, real captures)', () => {
  it('the SYN leaves eth0 DNATed to the pod and SNATed to [fd00::2] and the hashed port, hop limit 63, TCP checksum valid', async () => {
    const { report, outputs } = await run('kpr-v6-remote.yaml');
    expect(report.mismatches).toEqual([]); // verdicts, bytes and entries the kernel produced
    const syn = outputs.packets('eth0').find((p) => p.packet === 1)!.data;
    expect(view6(syn)).toEqual({ dstMac: MAC.node2, srcMac: MAC.node, src: V6.node, dst: V6.pod, hopLimit: 63, nextHeader: 6 });
    expect(ports6(syn)).toEqual({ sport: firstSnatPort6(TCP6, PORT_MIN, PORT_MAX), dport: 8080 });
    expect(checkIpv6Checksums(syn)).toEqual({ l4: true });
  });

  it('the pod answers (TCP and the DNS answer) come back from [fd00::2]:30080 / :30053 to the client, checksums valid', async () => {
    const { report, outputs } = await run('kpr-v6-remote.yaml');
    const replies = report.packets.filter((p) => p.input.includes(V6.pod) && !/ICMP/i.test(p.input));
    expect(replies).toHaveLength(5);
    for (const r of replies) {
      const out = outputs.packets('eth0').find((p) => p.packet === r.packet)!.data;
      const udp = out[20] === 17;
      expect(view6(out)).toMatchObject({ dstMac: MAC.client, srcMac: MAC.node, src: V6.node, dst: V6.client, hopLimit: 63 });
      expect(ports6(out)).toEqual({ sport: udp ? 30053 : 30080, dport: udp ? 40001 : 40000 });
      expect(checkIpv6Checksums(out)).toEqual({ l4: true });
    }
  });

  it("a router's Packet Too Big about the TCP connection reaches the client from the router, MTU kept, as the kernel does", async () => {
    const { outputs } = await run('kpr-v6-remote.yaml');
    const err = outputs.packets('eth0').find((p) => p.packet === 15)!.data;
    expect(view6(err)).toMatchObject({ dstMac: MAC.client, src: V6.node2, dst: V6.client, nextHeader: 58 });
    expect([err[54], new DataView(err.buffer, err.byteOffset).getUint32(58)]).toEqual([2, 1280]);
    expect(icmp6ChecksumHolds(err)).toBe(true);
    expect(ports6(err, 62 + 40)).toEqual({ sport: 40000, dport: 30080 });
  });

  it("node2's ICMPv6 port unreachable reaches the client from fd00::2, quoting the datagram as the client sent it", async () => {
    const { outputs } = await run('kpr-v6-remote.yaml');
    const err = outputs.packets('eth0').find((p) => p.packet === 14)!.data;
    expect(view6(err)).toMatchObject({ dstMac: MAC.client, src: V6.node, dst: V6.client, hopLimit: 63, nextHeader: 58 });
    expect(err[54]).toBe(1); // destination unreachable
    expect(icmp6ChecksumHolds(err)).toBe(true);
    // the quoted packet: an Ethernet header in front makes it a frame the checkers read
    const quoted = new Uint8Array(14 + err.length - 62);
    quoted.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd]);
    quoted.set(err.subarray(62), 14);
    expect(view6(quoted)).toMatchObject({ src: V6.client, dst: V6.node });
    expect(ports6(quoted)).toEqual({ sport: 40003, dport: 30081 });
    expect(checkIpv6Checksums(quoted)).toEqual({ l4: true });
  });

  it('keeps IPv6 connections in ct6 and snat6, apart from the IPv4 maps', async () => {
    const { runner } = await run('kpr-v6-remote.yaml');
    expect(runner.bed.typedMap('np_stats').get(NP_REMOTE)).toBe(8n);
    expect(runner.bed.typedMap('np_stats').get(NP_REPLY)).toBe(7n);
    expect(runner.bed.map('ct6').entries()).toHaveLength(6); // TCP, DNS, :30081: service + forward
    expect(runner.bed.map('snat6').entries()).toHaveLength(6); // egress + ingress each
    expect(runner.bed.map('ct4').entries()).toHaveLength(0);
    expect(runner.bed.map('snat4').entries()).toHaveLength(0);
  });
});

/** An ICMPv6 error of `type` from `src` to `dst` quoting `quoted` (an IPv6 packet without Ethernet), checksum right. */
function icmp6Error(type: number, code: number, word: number, src: string, dst: string, quoted: Uint8Array): Uint8Array {
  const body = new Uint8Array(8 + quoted.length);
  body[0] = type;
  body[1] = code;
  new DataView(body.buffer).setUint32(4, word);
  body.set(quoted, 8);
  const frame = new Uint8Array(54 + body.length);
  frame.set([...MAC.node.split(':').map((h) => parseInt(h, 16)), ...MAC.node2.split(':').map((h) => parseInt(h, 16)), 0x86, 0xdd]);
  new DataView(frame.buffer).setUint32(14, 0x60000000);
  new DataView(frame.buffer).setUint16(18, body.length);
  frame[20] = 58;
  frame[21] = 64;
  frame.set(parseIPv6(src), 22);
  frame.set(parseIPv6(dst), 38);
  frame.set(body, 54);
  let sum = 0;
  const add = (b: Uint8Array) => {
    for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  };
  add(frame.subarray(22, 54));
  sum += body.length + 58;
  add(body);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  new DataView(frame.buffer).setUint16(56, ~sum & 0xffff);
  return frame;
}

describe('an ICMPv6 Packet Too Big from a router between the node and the backend', () => {
  it('reaches the client from the router, the quoted SYN (TCP checksum included) translated back to client -> NodePort', async () => {
    const node = await v6Node();
    const out = node.send(toNodePort6()).data!;
    const ptb = icmp6Error(2, 0, 1280, V6.node2, V6.node, out.subarray(14));
    const back = node.send(ptb);
    expect(back.output).toBe('eth0');
    const err = back.data!;
    expect(view6(err)).toMatchObject({ dstMac: MAC.client, src: V6.node2, dst: V6.client, hopLimit: 63, nextHeader: 58 });
    expect([err[54], new DataView(err.buffer, err.byteOffset).getUint32(58)]).toEqual([2, 1280]); // type and MTU kept
    expect(icmp6ChecksumHolds(err)).toBe(true);
    const quoted = new Uint8Array(14 + err.length - 62);
    quoted.set([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd]);
    quoted.set(err.subarray(62), 14);
    expect(view6(quoted)).toMatchObject({ src: V6.client, dst: V6.node });
    expect(ports6(quoted)).toEqual({ sport: 40000, dport: 30080 });
    expect(checkIpv6Checksums(quoted)).toEqual({ l4: true });
    // the quote is what the client sent, but for the hop limit the node took off
    const sent = toNodePort6();
    expect(quoted.subarray(22)).toEqual(sent.subarray(22));
  });

  it('about a connection it does not know goes to the stack untouched', async () => {
    const node = await v6Node();
    const stray = ipv6Frame({ srcMac: MAC.node, dstMac: MAC.node2, src: V6.node, dst: V6.pod, proto: 'tcp', sport: 33333, dport: 8080 });
    const ptb = icmp6Error(2, 0, 1280, V6.node2, V6.node, stray.subarray(14));
    const fate = node.send(ptb);
    expect(fate.output).toBe('stack');
    expect(fate.data).toEqual(ptb);
  });
});

describe('NodePort over IPv6 to a backend on this node (kpr-v6-local.yaml)', () => {
  it('DNATs the connection to [fd00:244::5]:8080 and redirects it to lxc0 with the pod MAC, the client address kept', async () => {
    const { report, outputs } = await run('kpr-v6-local.yaml');
    expect(report.mismatches).toEqual([]);
    const lxc0 = outputs.packets('lxc0').filter((p) => p.packet <= 6);
    expect(lxc0).toHaveLength(6);
    expect(report.packets.filter((p) => p.output === 'lxc0')).toHaveLength(9); // with the three behind extension headers
    for (const p of lxc0) {
      expect(view6(p.data)).toEqual({ dstMac: '02:00:00:00:0d:05', srcMac: MAC.lxc0, src: V6.client, dst: V6.localPod, hopLimit: 63, nextHeader: 6 });
      expect(ports6(p.data)).toEqual({ sport: 40000, dport: 8080 });
      expect(checkIpv6Checksums(p.data)).toEqual({ l4: true });
    }
  });

  it('skips hop-by-hop, destination options and routing headers: the SYN behind them is translated, its checksum right', async () => {
    const { outputs } = await run('kpr-v6-local.yaml');
    const hopDest = outputs.packets('lxc0').find((p) => p.packet === 9)!.data;
    const routing = outputs.packets('lxc0').find((p) => p.packet === 10)!.data;
    expect(view6(hopDest)).toMatchObject({ dst: V6.localPod, nextHeader: 0 });
    expect(ports6(hopDest, 54 + 8 + 8)).toEqual({ sport: 40200, dport: 8080 });
    expect(checkIpv6Checksums(hopDest)).toEqual({ l4: true });
    expect(view6(routing)).toMatchObject({ dst: V6.localPod, nextHeader: 43 });
    expect(ports6(routing, 54 + 8)).toEqual({ sport: 40201, dport: 8080 });
    expect(checkIpv6Checksums(routing)).toEqual({ l4: true });
  });

  it('translates a first fragment (it holds the TCP header) and leaves a later fragment and "no next header" to the stack untouched', async () => {
    const { scenario, read } = loadScenario('kpr-v6-local.yaml');
    const { report, outputs } = await runScenario(scenario, read);
    const first = outputs.packets('lxc0').find((p) => p.packet === 11)!.data;
    expect(view6(first)).toMatchObject({ dst: V6.localPod, nextHeader: 44 });
    expect(ports6(first, 62)).toEqual({ sport: 40202, dport: 8080 });
    const stack = outputs.packets('stack').filter((p) => p.packet >= 12);
    expect(stack.map((p) => p.packet)).toEqual([12, 13]);
    const input = readInputs(read, scenario.input!.pcap);
    for (const p of stack) expect(p.data).toEqual(input[p.packet - 1]); // byte for byte
    expect(report.packets.filter((p) => p.packet >= 12).map((p) => p.verdict)).toEqual(['TC_ACT_OK', 'TC_ACT_OK']);
  });
});

function readInputs(read: (p: string) => Uint8Array, pcap: string): Uint8Array[] {
  return readCapture(read(pcap)).packets.map((p) => p.data);
}

describe('IPv6 SNAT ports', () => {
  it('a second client with the same source port gets its own port', async () => {
    const node = await v6Node();
    const a = node.send(toNodePort6());
    const b = node.send(toNodePort6({ src: 'fd00::7', srcMac: MAC.client2 }));
    const pa = ports6(a.data!).sport;
    const pb = ports6(b.data!).sport;
    expect(pa).toBe(firstSnatPort6(TCP6, PORT_MIN, PORT_MAX));
    expect(pb).not.toBe(pa);
    expect(node.nat().filter((n) => n.key.dir === NAT_DIR_EGRESS)).toHaveLength(2);
  });

  it('a hashed port already taken is replaced by a random one, recorded both ways and used by the reply', async () => {
    const node = await v6Node();
    const hashed = firstSnatPort6(TCP6, PORT_MIN, PORT_MAX);
    const taken = node.runner.bed.typedMap('snat6').set({ saddr: V6.pod, daddr: V6.node, sport: 8080, dport: hashed, proto: 6, dir: NAT_DIR_INGRESS }, { to_addr: 'fd00::99', to_port: 1234 });
    expect(taken).toBe(0);
    const out = node.send(toNodePort6());
    const port = ports6(out.data!).sport;
    expect(port).not.toBe(hashed);
    expect(port).toBeGreaterThanOrEqual(PORT_MIN);
    expect(port).toBeLessThanOrEqual(PORT_MAX);
    expect(node.stat(NP_SNAT_COLLISION)).toBeGreaterThanOrEqual(1n);
    expect(node.nat()).toContainEqual({ key: { ...TCP6, dir: NAT_DIR_EGRESS }, entry: { toAddr: V6.node, toPort: port } });
    expect(node.nat()).toContainEqual({ key: { saddr: V6.pod, daddr: V6.node, sport: 8080, dport: port, proto: 6, dir: NAT_DIR_INGRESS }, entry: { toAddr: V6.client, toPort: 40000 } });
    const reply = node.send(fromPod6(port, { flags: TCP_SYN | TCP_ACK }));
    expect(view6(reply.data!)).toMatchObject({ src: V6.node, dst: V6.client });
    expect(ports6(reply.data!)).toEqual({ sport: 30080, dport: 40000 });
    expect(checkIpv6Checksums(reply.data!)).toEqual({ l4: true });
  });

  it('the backend slot is the hash of the folded IPv6 tuple', () => {
    const t = { saddr: V6.client, daddr: V6.node, sport: 40000, dport: 30080, proto: 6 };
    expect([1, 2, 3]).toContain(backendSlot6(t, 3));
    expect(backendSlot6(t, 3)).toBe(backendSlot6(t, 3));
  });
});

describe('IPv6 connection tracking (ct6): lifetimes, TCP flags and the GC sweep', () => {
  it('a SYN without reply lives 60 s: the sweep keeps it before, removes it and its NAT pair after', async () => {
    const node = await v6Node();
    node.send(toNodePort6());
    const created = node.nowNs();
    const fwd = node.ct().find((c) => c.key.dir === CT_DIR_FORWARD)!;
    expect(fwd.key).toEqual({ ...TCP6, dir: CT_DIR_FORWARD });
    expect(fwd.entry).toMatchObject({ flags: CT_F_REMOTE, frontendAddr: V6.node, frontendPort: 30080 });
    expect(fwd.entry.expiresNs - created).toBe(60_000_000_000n);
    const maps = { ct: node.runner.bed.map('ct6'), nat: node.runner.bed.map('snat6') };
    node.advance(59);
    expect(sweepConntrack(maps, node.nowNs())).toEqual({ expired: 0, orphanNat: 0, liveCt: 2 });
    node.advance(1);
    expect(sweepConntrack(maps, node.nowNs())).toEqual({ expired: 2, orphanNat: 2, liveCt: 0 });
    expect(node.nat()).toEqual([]);
  });

  it('a connection whose reply was seen lives 6 h, and 10 s after a FIN', async () => {
    const node = await v6Node();
    const port = ports6(node.send(toNodePort6()).data!).sport;
    node.send(fromPod6(port, { flags: TCP_SYN | TCP_ACK }));
    const service = () => node.ct().find((c) => c.key.dir === CT_DIR_SERVICE)!.entry;
    expect(service().flags & CT_F_SEEN_REPLY).toBe(CT_F_SEEN_REPLY);
    expect(service().expiresNs - node.nowNs()).toBe(21_600_000_000_000n);
    node.advance(5);
    node.send(toNodePort6({ flags: TCP_FIN | TCP_ACK }));
    expect(service().flags & CT_F_CLOSING).toBe(CT_F_CLOSING);
    expect(service().expiresNs - node.nowNs()).toBe(10_000_000_000n);
    expect(service().tcpFlagsSeen).toBe(TCP_SYN | TCP_ACK | TCP_FIN);
  });

  it('an expired entry is not used: a late reply goes to the stack untranslated', async () => {
    const node = await v6Node();
    const port = ports6(node.send(toNodePort6()).data!).sport;
    node.advance(61);
    const late = node.send(fromPod6(port, { flags: TCP_SYN | TCP_ACK }));
    expect(late.output).toBe('stack');
    expect(view6(late.data!)).toMatchObject({ src: V6.pod, dst: V6.node });
  });
});

describe('IPv6 forwarding details', () => {
  it('falls back to bpf_redirect_neigh with an IPv6 next hop when the FIB has no neighbour (BPF_FIB_LKUP_RET_NO_NEIGH)', async () => {
    const node = await v6Node('kpr-v6-remote.yaml', (s) => {
      s.environment!.neighbours = s.environment!.neighbours!.filter((n) => n.ip !== V6.node2);
    });
    const fate = node.send(toNodePort6());
    expect(fate.hops[0]).toMatchObject({ verdict: 'TC_ACT_REDIRECT', redirect: { kind: 'redirect_neigh', ifindex: 2 } });
    expect(node.stat(NP_NEIGH)).toBe(1n);
    node.runner.bed.env.addNeighbour({ ip: V6.node2, mac: MAC.node2, dev: 'eth0', state: 'stale' }, 'test');
    const next = node.send(toNodePort6({ flags: TCP_ACK }));
    expect(view6(next.data!)).toMatchObject({ dstMac: MAC.node2, dst: V6.pod });
  });

  it('a packet with hop limit 1 is left to the stack (which answers time exceeded), untranslated', async () => {
    const node = await v6Node();
    const frame = toNodePort6({ hopLimit: 1 });
    const fate = node.send(frame);
    expect(fate.output).toBe('stack');
    expect(fate.data).toEqual(frame);
  });

  it('a NodePort on an IPv6 address that is not the node\'s is not a service: to the stack', async () => {
    const node = await v6Node();
    const fate = node.send(toNodePort6({ dst: 'fd00::77' }));
    expect(fate.output).toBe('stack');
    expect(node.stat(NP_PASS)).toBe(1n);
    expect(node.stat(NP_REMOTE)).toBe(0n);
  });

  it('a service without backends drops with TC_ACT_SHOT, counted in NP_NO_BACKEND', async () => {
    const node = await v6Node('kpr-v6-remote.yaml', (s) => {
      s.maps!.lb6_services = s.maps!.lb6_services!.map((e) => ((e.key as { backend_slot: number }).backend_slot === 0 ? { ...e, value: { ...(e.value as object), count: 0 } } : e));
    });
    const fate = node.send(toNodePort6());
    expect(fate.hops[0].verdict).toBe('TC_ACT_SHOT');
    expect(node.stat(NP_NO_BACKEND)).toBe(1n);
    expect(node.ct()).toEqual([]);
  });

  it('a UDP service over IPv6 is translated with the UDP checksum kept valid', async () => {
    const node = await v6Node();
    const out = node.send(toNodePort6({ proto: 'udp', sport: 40001, payload: new TextEncoder().encode('query') }));
    expect(out.output).toBe('eth0');
    expect(ports6(out.data!)).toEqual({ sport: firstSnatPort6({ ...TCP6, sport: 40001, proto: 17 }, PORT_MIN, PORT_MAX), dport: 8080 });
    expect(checkIpv6Checksums(out.data!)).toEqual({ l4: true });
    expect(node.stat(NP_REMOTE)).toBe(1n);
  });

  it('the frame builder and checker agree with a frame whose checksum is broken', () => {
    const f = ipv6Frame({ srcMac: MAC.client, dstMac: MAC.node, src: V6.client, dst: V6.node, proto: 'tcp', sport: 1, dport: 2 });
    expect(checkIpv6Checksums(f)).toEqual({ l4: true });
    f[54 + 16] ^= 1;
    expect(checkIpv6Checksums(f)).toEqual({ l4: false });
    expect(f.subarray(22, 38)).toEqual(parseIPv6(V6.client));
  });
});

describe('the reply of a local IPv6 backend (the same program on the pod device lxc0 too)', () => {
  it('comes back from [fd00::2]:30080, out of eth0 to the client, TCP checksum valid', async () => {
    const node = await v6Node('kpr-v6-local.yaml', (s) => {
      s.programs.push({ program: 'nodeport_ingress', attach: 'tc/ingress', device: 'lxc0' });
    });
    expect(node.send(toNodePort6()).output).toBe('lxc0');
    const reply = ipv6Frame({ srcMac: '02:00:00:00:0d:05', dstMac: MAC.lxc0, src: V6.localPod, dst: V6.client, sport: 8080, dport: 40000, proto: 'tcp', flags: TCP_SYN | TCP_ACK });
    const back = node.send(reply, 'lxc0');
    expect(back.output).toBe('eth0');
    expect(view6(back.data!)).toEqual({ dstMac: MAC.client, srcMac: MAC.node, src: V6.node, dst: V6.client, hopLimit: 63, nextHeader: 6 });
    expect(ports6(back.data!)).toEqual({ sport: 30080, dport: 40000 });
    expect(checkIpv6Checksums(back.data!)).toEqual({ l4: true });
  });

  it('a UDP header cut short (fewer than 8 bytes) goes to the stack untouched', async () => {
    const node = await v6Node();
    const full = toNodePort6({ proto: 'udp', sport: 40001 });
    const cut = full.slice(0, 54 + 6);
    cut[19] = 6; // payload length: what arrived
    const fate = node.send(cut);
    expect(fate.output).toBe('stack');
    expect(fate.data).toEqual(cut);
  });
});
