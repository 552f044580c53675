// DEVMAP, DEVMAP_HASH, CPUMAP and XSKMAP through bpfbed's public API: bpf_redirect_map on each in
// the scenario pipeline (fixtures/scenarios/xdp-devmap.yaml, whose verdicts, output bytes and
// `seen` counters the kernel produced), where each redirect leads, DEVMAP entry programs, and
// saving and restoring the maps. Host-side semantics against the kernel: devmap-kernel.test.ts.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareScenario, runScenario } from '../../src/run/scenario-run.js';
import { Pipeline } from '../../src/run/pipeline.js';
import { parseScenario } from '../../src/scenario/parse.js';
import { readCapture } from '../../src/pcap/read.js';
import { toEthernetFrame } from '../../src/pcap/ethernet.js';
import { createMap, MapRegistry } from '../../src/maps/registry.js';
import { BPF_MAP_TYPE } from '../../src/maps/uapi.js';
import type { BpfMap } from '../../src/maps/types.js';
import { Machine } from '../../src/vm/machine.js';

const file = resolve(import.meta.dirname, '../../fixtures/scenarios/xdp-devmap.yaml');
const read = (p: string) => new Uint8Array(readFileSync(resolve(dirname(file), p)));
const scenario = () => parseScenario(readFileSync(file, 'utf8'), file);
const frames = () => readCapture(read('xdp-devmap/input.pcap')).packets.map(toEthernetFrame);
const u32 = (n: number) => new Uint8Array(Uint32Array.of(n).buffer);
const u32s = (...n: number[]) => new Uint8Array(Uint32Array.from(n).buffer);

/** The scenario's world with the maps as it fills them, `change` applied, and a pipeline over it. */
async function world(change: (maps: Record<string, BpfMap>, progId: (name: string) => number) => void = () => {}) {
  const s = scenario();
  const runner = await prepareScenario(s, read);
  const maps = Object.fromEntries(runner.bed.maps.map((m) => [m.name, m]));
  change(maps, (name) => runner.bed.program(name).id);
  const pipeline = new Pipeline(runner, runner.bed.env, s.programs);
  const send = (dport: number) => pipeline.process(frames()[dport - 1], 'eth0', 'ingress');
  return { runner, maps, send };
}

describe('bpf_redirect_map in the scenario pipeline', () => {
  it('xdp-devmap.yaml meets the expectations the kernel produced', async () => {
    const { report } = await runScenario(scenario(), read);
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  });

  it('a DEVMAP or DEVMAP_HASH entry sends the frame out of its device unchanged', async () => {
    const { send } = await world();
    const devmap = send(1);
    expect(devmap.output).toBe('lxc1');
    expect(devmap.data).toEqual(frames()[0]);
    expect(devmap.hops[0].redirect).toMatchObject({ kind: 'redirect_map', map: 'tx_ports', device: 'lxc1' });
    expect(send(3)).toMatchObject({ output: 'lxc2', hops: [{ redirect: { map: 'tx_by_ifindex', device: 'lxc2' } }] });
  });

  it('a miss returns the low flag bits as the verdict', async () => {
    const { send } = await world();
    expect(send(2)).toMatchObject({ output: 'stack', hops: [{ verdict: 'XDP_PASS' }] });
    expect(send(4)).toMatchObject({ output: 'drop', hops: [{ verdict: 'XDP_DROP' }] });
    expect(send(10)).toMatchObject({ output: 'eth0', hops: [{ verdict: 'XDP_TX' }] });
  });

  it('BPF_F_BROADCAST sends a copy to every device of the map, without the ingress one when asked', async () => {
    const { send } = await world();
    const excluding = send(6);
    expect([excluding.output, ...excluding.clones.map((c) => c.output)].sort()).toEqual(['lxc1', 'lxc2']);
    expect(excluding.hops[0].redirect?.devices).toEqual(['lxc1', 'lxc2']);
    const all = send(7);
    expect([all.output, ...all.clones.map((c) => c.output)].sort()).toEqual(['eth0', 'lxc1', 'lxc2']);
    for (const c of all.clones) expect(c.data).toEqual(frames()[6]);
  });

  it('BPF_F_BROADCAST over an empty map drops the frame', async () => {
    const { send } = await world((maps) => {
      for (const k of [0, 1, 3]) maps.tx_ports.delete(u32(k));
    });
    expect(send(7)).toMatchObject({ output: 'drop', clones: [] });
  });

  it('a CPUMAP entry passes the frame up the stack on that CPU, and the next packet starts on the scenario CPU', async () => {
    const { runner, send } = await world();
    const fate = send(5);
    expect(fate.output).toBe('stack');
    expect(fate.hops[0].redirect).toMatchObject({ map: 'cpus', cpu: 1 });
    expect(runner.bed.cpu).toBe(0);
  });

  it('a CPUMAP entry with a program runs it on the target CPU first: XDP_PASS goes up the stack, XDP_DROP drops', async () => {
    const { runner, send } = await world((maps, progId) => {
      expect(maps.cpus.update(u32(1), u32s(64, progId('cpumap_stack')))).toBe(0);
    });
    const passed = send(5);
    expect(passed.output).toBe('stack');
    expect(passed.hops.map((h) => h.program)).toEqual(['devmap_redirect', 'cpumap_stack']);
    expect(passed.data![10]).toBe(0xc1); // marked with bpf_get_smp_processor_id(): CPU 1
    const port12 = frames()[4].slice();
    port12[37] = 12; // UDP destination port 12: the same CPUMAP entry, dropped by its program
    const pipeline = new Pipeline(runner, runner.bed.env, scenario().programs);
    expect(pipeline.process(port12, 'eth0', 'ingress')).toMatchObject({ output: 'drop', hops: [{ verdict: 'XDP_REDIRECT' }, { program: 'cpumap_stack', verdict: 'XDP_DROP' }] });
  });

  it('BPF_F_BROADCAST on a CPUMAP is XDP_ABORTED', async () => {
    const { send } = await world();
    expect(send(8)).toMatchObject({ output: 'drop', hops: [{ verdict: 'XDP_ABORTED' }] });
  });

  it('an XSKMAP entry delivers the frame to its AF_XDP socket, which the program can look up', async () => {
    const { runner, send } = await world((maps) => {
      expect(maps.xsks.update(u32(0), u32(7))).toBe(0);
    });
    const fate = send(11);
    expect(fate.output).toBe('xsk:7');
    expect(fate.hops[0].redirect).toMatchObject({ map: 'xsks', socket: 7 });
    expect(runner.bed.typedMap('seen').get(5)).toBe(1n);
  });

  it('a DEVMAP entry with a program runs it at the egress of its device, with egress_ifindex', async () => {
    const { send } = await world((maps, progId) => {
      const egress = progId('devmap_egress');
      expect(maps.tx_ports.update(u32(1), u32s(3, egress))).toBe(0);
      expect(maps.tx_ports.update(u32(3), u32s(4, egress))).toBe(0);
    });
    const one = send(1);
    expect(one.output).toBe('lxc1');
    expect(one.hops.map((h) => h.program)).toEqual(['devmap_redirect', 'devmap_egress']);
    expect(one.data![11]).toBe(3); // source MAC's last byte: the egress ifindex
    // the copy for lxc2 is dropped by the entry's program (egress_ifindex 4)
    const broadcast = send(6);
    expect([broadcast.output, ...broadcast.clones.map((c) => c.output)]).toEqual(['lxc1']);
  });

  it('a program reads the DEVMAP and DEVMAP_HASH values it looks up, and NULL for an empty slot', async () => {
    const { runner, maps, send } = await world((m, progId) => {
      expect(m.tx_ports.update(u32(1), u32s(3, progId('devmap_egress')))).toBe(0);
    });
    send(9);
    const seen = runner.bed.typedMap('seen');
    expect([1, 2, 3, 4].map((k) => seen.get(k))).toEqual([3n, BigInt(runner.bed.program('devmap_egress').id), 1n, 4n]);
    // the host reads back the program's id, as the kernel's bpf_devmap_val.bpf_prog.id
    expect(maps.tx_ports.read(u32(1))).toEqual(u32s(3, runner.bed.program('devmap_egress').id));
  });
});

describe('redirect maps: state', () => {
  async function make(type: keyof typeof BPF_MAP_TYPE, valueSize: number) {
    const m = await Machine.create();
    return createMap(m, { name: type, type: BPF_MAP_TYPE[type], keySize: 4, valueSize, maxEntries: 8, flags: 0 }, { nrCpus: 2, registry: new MapRegistry() });
  }
  const contents = (m: BpfMap) => m.entries().map((e) => [[...e.key].join('.'), [...e.value].join('.')]);

  it.each([
    ['BPF_MAP_TYPE_DEVMAP', 8, [[1, [3, 0]], [6, [9, 0]]]],
    ['BPF_MAP_TYPE_DEVMAP_HASH', 4, [[12, [12]], [4, [4]], [20, [2]], [3, [3]]]],
    ['BPF_MAP_TYPE_CPUMAP', 8, [[1, [256, 0]]]],
  ] as const)('a %s restores into a fresh map with the same entries in the same order', async (type, valueSize, fill) => {
    const a = await make(type, valueSize);
    for (const [k, v] of fill) expect(a.update(u32(k), u32s(...v))).toBe(0);
    const b = await make(type, valueSize);
    b.restoreState(a.saveState());
    expect(contents(b)).toEqual(contents(a));
    expect(contents(b).length).toBe(fill.length);
    // and both go on alike: one more entry (key 0: a possible CPU too), one fewer
    for (const m of [a, b]) {
      expect(m.update(u32(0), u32s(...fill[0][1]))).toBe(0);
      expect(m.delete(u32(fill[0][0]))).toBe(0);
    }
    expect(contents(b)).toEqual(contents(a));
  });

  it('an XSKMAP restores its sockets', async () => {
    const a = await make('BPF_MAP_TYPE_XSKMAP', 4);
    expect(a.update(u32(2), u32(7))).toBe(0);
    const b = await make('BPF_MAP_TYPE_XSKMAP', 4);
    b.restoreState(a.saveState());
    expect((b as unknown as { target(k: number): unknown }).target(2)).toEqual({ kind: 'xsk', key: 2, socket: 7 });
  });
});

describe('DEVMAP entries in a testbed', () => {
  it('refuses a device the environment does not have, with EINVAL as the kernel does', async () => {
    const { maps } = await world();
    const devmap = maps.tx_ports;
    // ifindex 3 (lxc1) exists in the scenario's environment; 77 does not (kernel/bpf/devmap.c
    // __dev_map_alloc_node: dev_get_by_index fails -> -EINVAL).
    // The value is struct bpf_devmap_val { ifindex; bpf_prog.fd } (the map's value size is 8).
    expect(devmap.update(u32(0), u32s(3, 0), 0)).toBe(0);
    expect(devmap.update(u32(0), u32s(77, 0), 0)).toBe(-22);
  });
});
