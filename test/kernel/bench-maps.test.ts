// The map workloads of `npm run bench` (bpf/bench/maps.c) compute the same thing in bpfbed and
// in the kernel, with the maps filled the same way: a benchmark that disagrees measures nothing.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { prepareMapBench } from '../../bench/bpfbed-maps.js';
import { runMapProgramInKernel } from '../../bench/kernel-maps.js';
import { MAP_WORKLOADS, mapFill, MAPS_OBJECT } from '../../bench/map-workloads.js';
import { readFileSync } from 'node:fs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const kernel = kernelAvailable();

describe.skipIf(!kernel.ok)(`map workloads against the kernel${kernel.ok ? '' : ` (skipped: ${kernel.why})`}`, () => {
  const object = readFileSync(root + MAPS_OBJECT);

  for (const w of MAP_WORKLOADS) {
    it(`${w.name} returns the same value in bpfbed and in the kernel, on the first and on later runs`, async () => {
      const fill = mapFill();
      const bench = await prepareMapBench(object, w.name, fill);
      const first = bench.runOnce();
      const later = bench.run(); // runs change map state (updates): results must stay the same
      // A tc test run reports the return value as a u32 (net/bpf/test_run.c).
      const once = runMapProgramInKernel(root, MAPS_OBJECT, w.name, fill, 1, 1);
      const repeated = runMapProgramInKernel(root, MAPS_OBJECT, w.name, fill, 50, 1);
      expect(Number(BigInt.asUintN(32, first.r0))).toBe(once.retval);
      expect(Number(BigInt.asUintN(32, later.r0))).toBe(repeated.retval);
    });
  }
});
