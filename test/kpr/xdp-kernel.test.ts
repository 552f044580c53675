// The XDP NodePort path and DSR against the running kernel (root): the kpr-xdp-*, kpr-dsr* and
// kpr-dsr6* scenarios hop by hop (XDP, then tc on XDP_PASS; each packet on its own device)
// through the parity harness, and the hand-written RFC 1624 checksum updates of nodeport_xdp.c against the
// kernel's own csum helpers: for many tuples, the kernel's XDP output, the kernel's tc output
// (bpf_l3_csum_replace / bpf_l4_csum_replace) and bpfbed's XDP output are the same bytes.
// Skipped, saying why, without root and BPF.
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { runScenarioInKernel, type KernelFrame } from '../../src/node/kernel-scenario.js';
import { buildNetns } from '../../src/node/parity/netns.js';
import { comparePacketScenario } from '../../src/node/parity/packet-scenario.js';
import { Workspace } from '../../src/node/parity/workspace.js';
import { Pipeline } from '../../src/run/pipeline.js';
import { prepareScenario } from '../../src/run/scenario-run.js';
import { checkIpv4Checksums, checkIpv6Checksums, ipv6Frame } from '../../src/kpr/frames.js';
import { loadScenario, MAC, SCENARIOS, toNodePort } from './nodeport-node.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`XDP / DSR kernel parity: skipped (${kernel.why})`);
const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

async function withWorkspace<T>(body: (ws: Workspace) => Promise<T> | T): Promise<T> {
  const ws = new Workspace();
  try {
    return await body(ws);
  } finally {
    ws.dispose();
  }
}

describe.skipIf(!kernel.ok)('XDP NodePort and DSR scenarios agree with the kernel', () => {
  it.each(['kpr-xdp-remote.yaml', 'kpr-xdp-local.yaml', 'kpr-dsr.yaml', 'kpr-dsr-backend.yaml', 'kpr-dsr6.yaml', 'kpr-dsr6-backend.yaml'])('%s: every hop\'s verdict, the bytes, the maps', async (name) => {
    const { scenario } = loadScenario(name);
    const item = await withWorkspace((ws) => comparePacketScenario(scenario, join(SCENARIOS, name), name, ws));
    expect(item.mismatches).toEqual([]);
    expect(item.status).toBe('agree');
    expect(item.counts.packets).toBeGreaterThan(0);
    expect(item.counts.bytes).toBeGreaterThan(0);
  });
});

describe.skipIf(!kernel.ok)('RFC 1624 at XDP against the kernel\'s checksum helpers', () => {
  // IPv4: kpr-xdp-remote.yaml's node; IPv6: kpr-v6-remote.yaml's, with nodeport_xdp.o in front.
  const worlds = {
    IPv4: () => loadScenario('kpr-xdp-remote.yaml'),
    IPv6: () => {
      const w = loadScenario('kpr-v6-remote.yaml');
      w.scenario.object = '../obj/kpr/nodeport_xdp.o';
      w.scenario.programs = [{ program: 'nodeport_xdp', attach: 'xdp', device: 'eth0' }, ...w.scenario.programs];
      return w;
    },
  };
  const frame = (family: 'IPv4' | 'IPv6', i: number) => {
    const proto = i % 3 === 1 ? 'udp' : 'tcp';
    const payload = Uint8Array.from({ length: (i * 13) % 97 }, (_, j) => (j * 131 + i * 7) & 0xff);
    const sport = 1024 + ((i * 7919) % 60000);
    if (family === 'IPv6') {
      const dport = proto === 'tcp' ? 30080 : 30053;
      return ipv6Frame({ srcMac: MAC.client, dstMac: MAC.node, src: `fd00::${1 + (i % 9)}`, dst: 'fd00::2', proto, sport, dport, payload, hopLimit: 2 + ((i * 37) % 250) });
    }
    const data = toNodePort({ proto, sport, src: `10.0.0.${1 + (i % 9)}`, payload, id: (i * 40503) & 0xffff, ttl: 2 + ((i * 37) % 250) });
    if (proto === 'udp' && i % 2 === 0) data[40] = data[41] = 0; // no UDP checksum
    return data;
  };

  it.each(['IPv4', 'IPv6'] as const)('%s: XDP in the kernel, tc in the kernel and XDP in bpfbed write the same bytes for 48 tuples', async (family) => {
    const { scenario, read } = worlds[family]();
    const frames: KernelFrame[] = Array.from({ length: 48 }, (_, i) => ({ packet: i + 1, data: frame(family, i), device: 'eth0', ifindex: 2 }));
    const object = resolve(SCENARIOS, scenario.object);
    const xdpOnly = scenario.programs.filter((p) => p.attach === 'xdp');
    const tcOnly = scenario.programs.filter((p) => p.attach !== 'xdp');
    const { xdpRun, tcRun } = await withWorkspace(async (ws) => {
      const netns = buildNetns(ws, scenario.environment ?? {});
      try {
        const xdpRun = runScenarioInKernel(object, xdpOnly, await prepareScenario(scenario, read), frames, { pinDir: ws.pinDir('xdp'), netns });
        const tcRun = runScenarioInKernel(object, tcOnly, await prepareScenario(scenario, read), frames, { pinDir: ws.pinDir('tc'), netns });
        return { xdpRun, tcRun };
      } finally {
        ws.deleteNetns(netns);
      }
    });
    const runner = await prepareScenario(scenario, read);
    const pipeline = new Pipeline(runner, runner.bed.env, xdpOnly);
    for (const [i, f] of frames.entries()) {
      const k = xdpRun.packets[i];
      expect(k.retval, `frame ${f.packet}: XDP_TX`).toBe(3);
      expect(tcRun.packets[i].retval, `frame ${f.packet}: TC_ACT_REDIRECT`).toBe(7);
      expect(hex(k.dataOut), `frame ${f.packet}: kernel XDP vs kernel tc`).toBe(hex(tcRun.packets[i].dataOut));
      expect(hex(pipeline.process(f.data, 'eth0', 'ingress').data!), `frame ${f.packet}: bpfbed XDP vs kernel XDP`).toBe(hex(k.dataOut));
      expect(family === 'IPv4' ? checkIpv4Checksums(k.dataOut) : checkIpv6Checksums(k.dataOut), `frame ${f.packet}`).toMatchObject({ l4: true });
    }
  });
});

describe.skipIf(!kernel.ok)('the DSR option and the MTU, in the kernel', () => {
  it('a UDP request that fits only without the option is dropped (BPF_FIB_LKUP_RET_FRAG_NEEDED), as in bpfbed', async () => {
    const { scenario, read } = loadScenario('kpr-dsr.yaml');
    scenario.environment!.devices![0].mtu = 100;
    const xdpOnly = scenario.programs.filter((p) => p.attach === 'xdp');
    const frames: KernelFrame[] = [72, 64].map((bytes, i) => ({ packet: i + 1, data: toNodePort({ proto: 'udp', payload: new Uint8Array(bytes) }), device: 'eth0', ifindex: 2 }));
    const object = resolve(dirname(join(SCENARIOS, 'kpr-dsr.yaml')), scenario.object);
    const k = await withWorkspace(async (ws) => {
      const netns = buildNetns(ws, scenario.environment ?? {});
      try {
        return runScenarioInKernel(object, xdpOnly, await prepareScenario(scenario, read), frames, { pinDir: ws.pinDir('mtu'), netns });
      } finally {
        ws.deleteNetns(netns);
      }
    });
    const runner = await prepareScenario(scenario, read);
    const pipeline = new Pipeline(runner, runner.bed.env, xdpOnly);
    const ours = frames.map((f) => pipeline.process(f.data, 'eth0', 'ingress'));
    expect(k.packets.map((p) => p.retval)).toEqual([1, 3]); // XDP_DROP, XDP_TX
    expect(ours.map((f) => f.hops[0].verdict)).toEqual(['XDP_DROP', 'XDP_TX']);
    expect(hex(ours[1].data!)).toBe(hex(k.packets[1].dataOut));
  });
});
