// bpf/kpr/nodeport.c in the running kernel, for what the scenario parity test cannot compare by
// value: a random SNAT port after a collision (bpf_get_prandom_u32 differs between the kernel
// and bpfbed, so the rule is checked on each side), and which CT entries survive LRU pressure
// (the kernel's LRU, kernel/bpf/bpf_lru_list.c, against bpfbed's, on one CPU). Root only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { runScenarioInKernel } from '../../src/node/kernel-scenario.js';
import { decodeNatEntry, decodeTupleKey, decodeCtEntry, NAT_DIR_EGRESS, NAT_DIR_INGRESS } from '../../src/kpr/layout.js';
import { TCP_ACK, TCP_SYN } from '../../src/kpr/frames.js';
import { firstSnatPort } from '../../src/kpr/snat-port.js';
import { PcapWriter } from '../../src/pcap/write.js';
import { prepareScenario } from '../../src/run/scenario-run.js';
import { fromPod, loadScenario, PORT_MAX, PORT_MIN, remoteNode, SCENARIOS, toNodePort } from './nodeport-node.js';

const kernel = kernelAvailable();
const root = join(import.meta.dirname, '../..');
/** num_possible_cpus() of this machine: the kernel's LRU spreads its free nodes over them. */
const POSSIBLE_CPUS = (() => {
  try {
    const last = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(/[-,]/).pop();
    return Number(last) + 1;
  } catch {
    return 1;
  }
})();
const TUPLE = { saddr: '10.0.0.1', daddr: '10.244.1.5', sport: 40000, dport: 8080, proto: 6 };

describe.skipIf(!kernel.ok)('nodeport.c in the kernel', () => {
  it('a taken hashed SNAT port: the kernel too picks another in range and records it both ways', async () => {
    const { scenario, read } = loadScenario('kpr-remote.yaml');
    const hashed = firstSnatPort(TUPLE, PORT_MIN, PORT_MAX);
    scenario.maps!.snat4 = [{ key: { saddr: '10.244.1.5', daddr: '10.0.0.2', sport: 8080, dport: hashed, proto: 6, dir: NAT_DIR_INGRESS }, value: { to_addr: '10.0.0.99', to_port: 1234 } }];
    const prepared = await prepareScenario(scenario, read);
    // The NAT entries are written before the route lookup, so the host's routes do not matter here.
    const k = runScenarioInKernel(join(SCENARIOS, scenario.object), 'nodeport_ingress', prepared, [{ packet: 1, data: toNodePort() }]);
    const nat = k.maps.snat4.map((e) => ({ key: decodeTupleKey(e.key), entry: decodeNatEntry(e.value) }));
    const egress = nat.find((n) => n.key.dir === NAT_DIR_EGRESS)!;
    expect(egress.key).toMatchObject(TUPLE);
    const port = egress.entry.toPort;
    expect(port).not.toBe(hashed);
    expect(port).toBeGreaterThanOrEqual(PORT_MIN);
    expect(port).toBeLessThanOrEqual(PORT_MAX);
    expect(nat).toContainEqual({ key: { saddr: '10.244.1.5', daddr: '10.0.0.2', sport: 8080, dport: port, proto: 6, dir: NAT_DIR_INGRESS }, entry: { toAddr: '10.0.0.1', toPort: 40000 } });
    expect(nat).toHaveLength(3); // the other connection's entry is untouched
    const stats = k.maps.np_stats.find((e) => e.key[0] === 8)!; // NP_SNAT_COLLISION
    expect(new DataView(stats.value.buffer, stats.value.byteOffset).getBigUint64(0, true)).toBeGreaterThanOrEqual(1n);
  });

  it('LRU pressure on a 16-entry CT map: the kernel keeps the same entries as bpfbed', async () => {
    // the packets of test/kpr/nodeport-lru.test.ts
    const live = firstSnatPort(TUPLE, PORT_MIN, PORT_MAX);
    const frames = [toNodePort(), fromPod(live, { flags: TCP_SYN | TCP_ACK })];
    for (let i = 0; i < 60; i++) frames.push(toNodePort({ sport: 41000 + i }), toNodePort({ flags: TCP_ACK }));
    const dir = mkdtempSync(join(tmpdir(), 'bpfbed-kpr-lru-'));
    const w = new PcapWriter();
    frames.forEach((f, i) => w.add(f, 1_000_000_000n + BigInt(i) * 10_000_000n));
    writeFileSync(join(dir, 'lru.pcap'), w.bytes());
    const text = readFileSync(join(SCENARIOS, 'kpr-remote.yaml'), 'utf8')
      .split('\nexpect:')[0]
      .replace('object: ../obj/kpr/nodeport.o', `object: ${join(root, 'fixtures/obj/kpr/nodeport_lru.o')}`)
      .replace('pcap: ../kpr/pcap/remote-flow.pcap', `pcap: ${join(dir, 'lru.pcap')}`);
    writeFileSync(join(dir, 'lru.yaml'), text);
    // one CPU for every bpftool run: the kernel's LRU takes free nodes from per-CPU lists
    const res = spawnSync('node', [join(root, 'scripts/kpr-netns.mjs'), join(dir, 'lru.yaml'), '--', 'taskset', '-c', '0', 'node', join(root, 'scripts/kpr-kernel-json.mjs'), join(dir, 'lru.yaml')], { encoding: 'utf8', maxBuffer: 64 << 20 });
    expect(res.status, res.stderr).toBe(0);
    const k = JSON.parse(res.stdout) as { packets: { retval: number }[]; maps: Record<string, { key: string; value: string }[]> };
    const unhex = (h: string) => Uint8Array.from(h.match(/../g)!, (x) => parseInt(x, 16));
    const kernelCt = k.maps.ct4.map((e) => ({ ...decodeTupleKey(unhex(e.key)), packets: decodeCtEntry(unhex(e.value)).packets }));

    const node = await remoteNode('../obj/kpr/nodeport_lru.o', POSSIBLE_CPUS);
    for (const f of frames) node.send(f);
    const ours = node.ct().map((c) => ({ ...c.key, packets: c.entry.packets }));
    const order = (a: { sport: number; dir: number }, b: { sport: number; dir: number }) => a.sport - b.sport || a.dir - b.dir;
    expect(k.packets.every((p) => p.retval === 7)).toBe(true);
    expect(ours.length).toBeLessThan(frames.length); // evictions happened
    expect(ours.sort(order)).toEqual(kernelCt.sort(order));
  });
});
