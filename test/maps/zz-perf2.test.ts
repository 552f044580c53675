import { it } from 'vitest';
import { MAP_HELPERS } from '../../src/helpers/map-helpers.js';
import { def, env, u32, u64 } from './setup.js';

it('perf2', async () => {
  for (const type of ['hash', 'lru_hash', 'array', 'percpu_hash', 'lpm'] as const) {
    const e = await env({ nrCpus: 2 });
    const henv = { mem: e.machine, maps: e.registry, cpu: 0, nrCpus: 2 };
    const m = type === 'lpm' ? e.make(def('lpm_trie', { maxEntries: 1024, keySize: 8, valueSize: 8, flags: 1 })) : e.make(def(type, { maxEntries: 1024, keySize: 4, valueSize: 8 }));
    for (let i = 0; i < 1024; i++) {
      if (type === 'lpm') { const k = new Uint8Array(8); k[0] = 24; k[4] = 10; k[5] = i >> 8; k[6] = i & 255; m.update(k, u64(i)); }
      else m.update(u32(i), type === 'percpu_hash' ? new Uint8Array(16) : u64(i));
    }
    const keys = e.machine.alloc(8192);
    const dv = new DataView(e.machine.bytes().buffer);
    for (let i = 0; i < 1024; i++) { if (type === 'lpm') { dv.setUint32(keys + 8 * i, 32, true); dv.setUint32(keys + 8 * i + 4, 0x0a | ((i >> 8) << 8) | ((i & 255) << 16) | (7 << 24), true); } else dv.setUint32(keys + 4 * i, i, true); }
    const addrs = Array.from({ length: 1024 }, (_, i) => e.machine.toVirtual(keys + (type === 'lpm' ? 8 : 4) * i));
    const lookup = MAP_HELPERS.get(1)!;
    const N = 1_000_000;
    let best = Infinity;
    for (let rep = 0; rep < 5; rep++) {
      const t0 = performance.now();
      let acc = 0n;
      for (let i = 0; i < N; i++) acc ^= lookup(henv, [m.handle, addrs[i & 1023], 0n, 0n, 0n]);
      best = Math.min(best, performance.now() - t0);
    }
    console.log(type, `${((best / N) * 1e6).toFixed(0)} ns per helper call (JS side only)`);
  }
}, 120000);
