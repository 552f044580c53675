import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
import { execFileSync } from 'node:child_process';
import { it, expect } from 'vitest';
import { runLruScript } from './lru-script.js';

function rng(seed: number) { return () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 2 ** 32; }; }

function scenario(seed: number, type: number, flags: number): string {
  const r = rng(seed);
  const max = [4, 8, 16, 32, 64][Math.floor(r() * 5)];
  const keyspace = max * 2 + Math.floor(r() * max);
  const lines = [`create ${type} ${max} ${flags}`];
  const n = 50 + Math.floor(r() * 200);
  for (let i = 0; i < n; i++) {
    const x = r();
    const k = Math.floor(r() * keyspace);
    if (x < 0.05) lines.push(`cpu ${Math.floor(r() * 2)}`);
    else if (x < 0.45) lines.push(`u ${k} ${r() < 0.8 ? 0 : Math.floor(r() * 3)}`);
    else if (x < 0.85) lines.push(`l ${k}`);
    else if (x < 0.95) lines.push(`d ${k}`);
    else lines.push(`su ${k}`);
    if (r() < 0.05) lines.push('dump');
  }
  lines.push('dump');
  return lines.join('\n') + '\n';
}

it('emulated LRU maps match the kernel on random scenarios', async () => {
  let bad = 0;
  for (const [type, flags] of [[9, 0], [9, 2], [10, 0], [10, 2]]) {
    for (let seed = 1; seed <= 40; seed++) {
      const s = scenario(seed * 7919 + type * 31 + flags, type, flags);
      const kernel = execFileSync('/tmp/lru-oracle/oracle', { input: s }).toString();
      const emu = await runLruScript(s, 2);
      if (kernel !== emu) {
        bad++;
        if (bad === 1) require('node:fs').writeFileSync('/tmp/lru-oracle/s.txt', s); if (bad <= 1) console.log(`MISMATCH type ${type} flags ${flags} seed ${seed}\n${s}\nkernel: ${kernel}\nemu:    ${emu}`);
      }
    }
  }
  expect(bad).toBe(0);
});
