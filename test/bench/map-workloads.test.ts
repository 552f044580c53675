// The map workloads of `npm run bench` compute what bpf/bench/maps.c says on the maps as
// mapFill() fills them, in bpfbed (the kernel comparison is test/kernel/bench-maps.test.ts).
// Expected values come from the fill's definition, not from running anything.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fillTestbed, prepareMapBench } from '../../bench/bpfbed-maps.js';
import { FILLED_FLOWS, flowKey, MAP_WORKLOADS, mapFill, MAPS_OBJECT } from '../../bench/map-workloads.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const object = readFileSync(root + MAPS_OBJECT);

// From the header of maps.c: flow i has packets = 7i + 1, bytes = i; backend i has packets = i + 100.
const flowPackets = (i: number) => 7 * i + 1;
const backendPackets = (i: number) => i + 100;
const sum = (n: number, f: (i: number) => number) => Array.from({ length: n }, (_, i) => f(i)).reduce((a, b) => a + b, 0);

const expected: Record<string, number> = {
  hash_lookups: sum(16, flowPackets),
  lru_lookups: sum(16, flowPackets),
  array_lookups: sum(16, backendPackets),
  hash_update: 3 + 1500,
  // conntrack flow 3, service flow 9 whose `bytes` (9) names the backend
  per_packet: flowPackets(3) + backendPackets(9),
};

const u64At = (bytes: Uint8Array | undefined, off: number) => new DataView(bytes!.buffer, bytes!.byteOffset).getBigUint64(off, true);

describe('map workloads in bpfbed', () => {
  it('cover every workload the bench lists', () => {
    expect(MAP_WORKLOADS.map((w) => w.name).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const w of MAP_WORKLOADS) {
    it(`${w.name} returns ${expected[w.name]} on the filled maps, the first time and after many runs`, async () => {
      const bench = await prepareMapBench(object, w.name, mapFill());
      expect(bench.runOnce().r0).toBe(BigInt(expected[w.name]));
      for (let i = 0; i < 100; i++) bench.run();
      expect(bench.run().r0).toBe(BigInt(expected[w.name]));
    });
  }

  it('fills every map with its flows through the host API', async () => {
    const bed = await fillTestbed(object, mapFill());
    for (const name of ['flows', 'lru_flows']) expect(bed.map(name).entries().length).toBe(FILLED_FLOWS);
    expect(u64At(bed.map('flows').read(flowKey(200)), 0)).toBe(BigInt(flowPackets(200)));
    // An array's entries all exist; the fill sets the first FILLED_FLOWS.
    const backend = (i: number) => u64At(bed.map('backends').read(Uint8Array.of(i & 0xff, i >> 8, 0, 0)), 0);
    expect([backend(FILLED_FLOWS - 1), backend(FILLED_FLOWS)]).toEqual([BigInt(backendPackets(FILLED_FLOWS - 1)), 0n]);
  });

  it('hash_update and per_packet leave their updates in the maps', async () => {
    const update = await fillTestbed(object, mapFill());
    update.runWithMemory('hash_update', new Uint8Array(64));
    const flow7 = update.map('flows').read(flowKey(7));
    expect([u64At(flow7, 0), u64At(flow7, 8)]).toEqual([3n, 1500n]);

    const packet = await fillTestbed(object, mapFill());
    packet.runWithMemory('per_packet', new Uint8Array(64));
    const flow5 = packet.map('lru_flows').read(flowKey(5));
    expect([u64At(flow5, 0), u64At(flow5, 8)]).toEqual([BigInt(expected.per_packet), 64n]);
  });
});
