// LPM tries against the kernel: random inserts and deletes of overlapping IPv4 prefixes, done
// on a kernel LPM_TRIE through `bpftool batch` and on the emulated trie, must leave the same
// entries in the same get_next_key order, and longest-prefix lookups must agree. Needs root and
// bpftool (kernelAvailable() says why it is skipped).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { BPF_F_NO_PREALLOC } from '../../src/maps/uapi.js';
import { def, env } from './setup.js';

const kernel = kernelAvailable();
const bpftool = spawnSync('bpftool', ['version'], { stdio: 'ignore' }).status === 0;
const why = !kernel.ok ? kernel.why : !bpftool ? 'bpftool is not installed' : '';
if (why) console.log(`LPM kernel comparison skipped: ${why}`);

function rng(seed: number): () => number {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32;
  };
}

const hexBytes = (a: string[]): number[] => a.map((x) => parseInt(x, 16));

describe.skipIf(why !== '')('LPM tries against the kernel', () => {
  const pin = `/sys/fs/bpf/bpfbed-lpm-${process.pid}`;
  const dir = why ? '' : mkdtempSync(join(tmpdir(), 'bpfbed-lpm-'));
  afterAll(() => {
    rmSync(pin, { force: true });
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('30 random runs leave the kernel\'s entries, order and longest-prefix matches', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const r = rng(seed * 101);
      const { make } = await env();
      const trie = make(def('lpm_trie', { keySize: 8, valueSize: 4, maxEntries: 1000, flags: BPF_F_NO_PREALLOC }));
      // Few distinct bits, so prefixes overlap and the trie needs intermediate nodes.
      const address = () => [Math.floor(r() * 2) * 10, Math.floor(r() * 4), Math.floor(r() * 256) & 0xf0, Math.floor(r() * 256)];
      const commands: string[] = [];
      const added: number[][] = [];
      for (let i = 0; i < 150; i++) {
        if (r() < 0.75 || added.length === 0) {
          const key = [Math.floor(r() * 33), 0, 0, 0, ...address()];
          const value = [i & 255, 0, 0, 0];
          expect(trie.update(new Uint8Array(key), new Uint8Array(value))).toBe(0);
          commands.push(`map update pinned ${pin} key ${key.join(' ')} value ${value.join(' ')}`);
          added.push(key);
        } else {
          const key = added.splice(Math.floor(r() * added.length), 1)[0];
          // bpftool batch stops at the first error: only send deletes the emulation accepted.
          if (trie.delete(new Uint8Array(key)) === 0) commands.push(`map delete pinned ${pin} key ${key.join(' ')}`);
        }
      }
      rmSync(pin, { force: true });
      execFileSync('bpftool', ['map', 'create', pin, 'type', 'lpm_trie', 'key', '8', 'value', '4', 'entries', '1000', 'flags', '1', 'name', 'bpfbed_lpm']);
      writeFileSync(join(dir, 'batch'), commands.join('\n') + '\n');
      execFileSync('bpftool', ['batch', 'file', join(dir, 'batch')]);
      const dump = JSON.parse(execFileSync('bpftool', ['-j', 'map', 'dump', 'pinned', pin]).toString()) as { key: string[]; value: string[] }[];
      const inKernel = dump.map((e) => [hexBytes(e.key), hexBytes(e.value)]);
      expect(trie.entries().map((e) => [Array.from(e.key), Array.from(e.value)]), `seed ${seed}`).toEqual(inKernel);
      for (let j = 0; j < 20; j++) {
        const key = [32, 0, 0, 0, ...address()];
        const got = spawnSync('bpftool', ['-j', 'map', 'lookup', 'pinned', pin, 'key', ...key.map(String)], { encoding: 'utf8' });
        const kernelValue = got.status === 0 ? hexBytes((JSON.parse(got.stdout) as { value: string[] }).value) : undefined;
        const ours = trie.read(new Uint8Array(key));
        expect(ours && Array.from(ours), `seed ${seed}, lookup ${key.slice(4).join('.')}`).toEqual(kernelValue);
      }
    }
  });
});
