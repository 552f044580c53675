// Random scenarios on hash maps (LRU above all), run on the kernel and on the emulated maps,
// must give the same results (return codes), host reads and surviving keys. The kernel side is
// oracle/lru-oracle.c (each operation from a BPF program on a pinned CPU), built here with cc and
// libbpf; it needs root, as every kernel test (kernelAvailable() says why it is skipped).
// BPFBED_LRU_ORACLE may name an oracle binary built elsewhere.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { runLruScript } from './lru-script.js';

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`hash map kernel comparison skipped: ${kernel.why}`);

function buildOracle(): string {
  if (process.env.BPFBED_LRU_ORACLE) return process.env.BPFBED_LRU_ORACLE;
  const out = join(mkdtempSync(join(tmpdir(), 'bpfbed-lru-')), 'lru-oracle');
  const source = new URL('./oracle/lru-oracle.c', import.meta.url).pathname;
  execFileSync('cc', ['-O1', '-Wall', '-o', out, source, '-lbpf'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return out;
}

/** num_possible_cpus(): "0-1" in /sys/devices/system/cpu/possible gives 2. */
function possibleCpus(): number {
  const text = readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim();
  return text.split(',').reduce((n, part) => {
    const [lo, hi] = part.split('-').map(Number);
    return n + (hi === undefined ? 1 : hi - lo + 1);
  }, 0);
}

function rng(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

/** Updates, lookups, deletes, host updates and host reads of random keys, from random CPUs, with dumps. */
function scenario(seed: number, type: number, flags: number, nrCpus: number): string {
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

describe.skipIf(!kernel.ok)('hash maps against the kernel', () => {
  const oracle = kernel.ok ? buildOracle() : '';
  const nrCpus = kernel.ok ? possibleCpus() : 1;
  for (const [type, flags, name] of [
    [1, 0, 'hash'],
    [1, 1, 'hash with BPF_F_NO_PREALLOC'],
    [5, 0, 'percpu_hash'],
    [9, 0, 'lru_hash'],
    [9, 2, 'lru_hash with BPF_F_NO_COMMON_LRU'],
    [10, 0, 'lru_percpu_hash'],
    [10, 2, 'lru_percpu_hash with BPF_F_NO_COMMON_LRU'],
  ] as const) {
    it(`${name}: 40 random scenarios end with the kernel's results and survivors`, async () => {
      for (let seed = 1; seed <= 40; seed++) {
        const script = scenario(seed * 7919 + type * 31 + flags, type, flags, nrCpus);
        const inKernel = execFileSync(oracle, { input: script }).toString();
        expect(await runLruScript(script, nrCpus), `seed ${seed}:\n${script}`).toBe(inKernel);
      }
    });
  }
});
