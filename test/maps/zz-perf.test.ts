import { it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { installMapHelpers, MAP_HELPERS } from '../../src/helpers/map-helpers.js';
import { def, env, u32, u64 } from './setup.js';

it('perf', async () => {
  for (const type of ['hash', 'lru_hash', 'array', 'empty'] as const) {
    const e = await env({ nrCpus: 2 });
    installMapHelpers(e.machine, { mem: e.machine, maps: e.registry, cpu: 0, nrCpus: 2 });
    const m = e.make(def(type === 'empty' ? 'array' : type, { maxEntries: 1024, keySize: 4, valueSize: 8 }));
    for (let i = 0; i < 1024; i++) m.update(u32(i), u64(i));
    if (type === 'empty') e.machine.setHelper(1, () => 0n);
    const N = 200000;
    const prog = e.machine.loadProgram(assemble(`
      mov %r6, 0
    loop:
      mov %r1, %r6
      and %r1, 1023
      stxw [%r10-4], %r1
      lddw %r1, 0x${m.handle.toString(16)}
      mov %r2, %r10
      add %r2, -4
      call 1
      add %r6, 1
      jlt %r6, ${N}, loop
      exit`), { name: 'p', helpers: new Set(MAP_HELPERS.keys()) });
    e.machine.run(prog, [], { budget: 1e9 });
    const t0 = performance.now();
    const r = e.machine.run(prog, [], { budget: 1e9 });
    const dt = performance.now() - t0;
    console.log(type, r.fault?.message.slice(0, 400) ?? '', `${((dt / N) * 1e6).toFixed(0)} ns per lookup`);
  }
}, 120000);
