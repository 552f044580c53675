// Random scenarios on hash maps (LRU above all), run on the kernel and on the emulated maps,
// must give the same results (return codes) and the same surviving keys. Needs root and the compiled oracle:
//   gcc -O1 -o /tmp/lru-oracle test/maps/oracle/lru-oracle.c -lbpf
//   BPFBED_LRU_ORACLE=/tmp/lru-oracle npx vitest run test/maps/lru-kernel.test.ts
// The emulation assumes the machine's possible CPU count (BPFBED_LRU_CPUS, default 2).
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runLruScript } from './lru-script.js';

const oracle = process.env.BPFBED_LRU_ORACLE;
const nrCpus = Number(process.env.BPFBED_LRU_CPUS ?? 2);

function rng(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

/** Updates, lookups, deletes, host updates and host reads of random keys, from random CPUs, with dumps. */
function scenario(seed: number, type: number, flags: number): string {
  const r = rng(seed);
  const max = [4, 8, 16, 32, 64, 300, 1000][Math.floor(r() * 7)];
  const keyspace = max * 2 + Math.floor(r() * max);
  const words = [`create ${type} ${max} ${flags}`];
  const n = 50 + Math.floor(r() * 200) + (max > 64 ? 4000 : 0);
  for (let i = 0; i < n; i++) {
    const x = r();
    const k = Math.floor(r() * keyspace);
    if (x < 0.05) words.push(`cpu ${Math.floor(r() * nrCpus)}`);
    else if (x < 0.45) words.push(`u ${k} ${r() < 0.8 ? 0 : Math.floor(r() * 3)}`);
    else if (x < 0.85) words.push(`l ${k}`);
    else if (x < 0.92) words.push(`d ${k}`);
    else if (x < 0.95) words.push(`pr ${k}`);
    else words.push(`su ${k}`);
    if (r() < 0.05) words.push('dump');
  }
  words.push('dump');
  return words.join('\n') + '\n';
}

describe.skipIf(!oracle)('hash maps against the kernel (BPFBED_LRU_ORACLE)', () => {
  for (const [type, flags, name] of [
    [1, 0, 'hash'],
    [1, 1, 'hash with BPF_F_NO_PREALLOC'],
    [5, 0, 'percpu_hash'],
    [9, 0, 'lru_hash'],
    [9, 2, 'lru_hash with BPF_F_NO_COMMON_LRU'],
    [10, 0, 'lru_percpu_hash'],
    [10, 2, 'lru_percpu_hash with BPF_F_NO_COMMON_LRU'],
  ] as const) {
    it(`${name}: 60 random scenarios end with the kernel's results and survivors`, async () => {
      for (let seed = 1; seed <= 60; seed++) {
        const script = scenario(seed * 7919 + type * 31 + flags, type, flags);
        const kernel = execFileSync(oracle!, { input: script }).toString();
        expect(await runLruScript(script, nrCpus), `seed ${seed}:\n${script}`).toBe(kernel);
      }
    });
  }
});
