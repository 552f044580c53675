// The benchmark programs (bpf/bench/*.c, committed as fixtures/obj/bench/*.o) compute what their
// C says, in bpfbed and in the kernel, and clang compiled their loops to the documented size.
// A benchmark of a program that computes something else would measure nothing.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { encodeInsns } from '../../src/asm/insn.js';
import { kernelAvailable, runInKernel } from '../../src/node/kernel.js';
import { loadBenchProgram, prepareBpfbed } from '../../bench/bpfbed.js';
import { WORKLOADS } from '../../bench/workloads.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const workload = (name: string) => WORKLOADS.find((w) => w.name === name)!;
const programOf = (name: string) =>
  loadBenchProgram(readFileSync(root + workload(name).object), workload(name).object, name);

async function inBpfbed(name: string, input: Uint8Array) {
  return (await prepareBpfbed(programOf(name), name, input)).run();
}

// Reference implementations in plain TypeScript, from the definitions, not from the C.
function fnv1a(bytes: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const b of bytes) hash = BigInt.asUintN(64, (hash ^ BigInt(b)) * 0x100000001b3n);
  return hash;
}
const newlines = (bytes: Uint8Array): bigint => BigInt(bytes.filter((b) => b === 0x0a).length);
function primesBelow(limit: number): bigint {
  const sieve = new Uint8Array(limit).fill(1);
  let count = 0n;
  for (let n = 2; n < limit; n++) {
    if (!sieve[n]) continue;
    count++;
    for (let m = n * n; m < limit; m += n) sieve[m] = 0;
  }
  return count;
}
const u32le = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);

describe('benchmark programs', () => {
  const sample = workload('fnv1a').input().subarray(0, 1000);
  const text = workload('bytescan').input().subarray(0, 3000);

  it('fnv1a computes 64-bit FNV-1a of its memory in bpfbed', async () => {
    expect((await inBpfbed('fnv1a', sample)).r0).toBe(fnv1a(sample));
  });

  it('fnv1a runs 7 BPF instructions per byte, the loop the 300 M/s target is quoted for', async () => {
    const short = await inBpfbed('fnv1a', sample.subarray(0, 100));
    const long = await inBpfbed('fnv1a', sample.subarray(0, 200));
    expect(long.insnCount - short.insnCount).toBe(7 * 100);
  });

  it('bytescan counts the newlines in its memory in bpfbed', async () => {
    const expected = newlines(text);
    expect(expected).toBeGreaterThan(10n);
    expect((await inBpfbed('bytescan', text)).r0).toBe(expected);
  });

  it('primes counts the primes below the limit at the start of its memory in bpfbed', async () => {
    expect((await inBpfbed('primes', u32le(1000))).r0).toBe(primesBelow(1000));
    expect((await inBpfbed('primes', u32le(2))).r0).toBe(0n);
  });
});

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`benchmark programs in the kernel skipped: ${kernel.why}`);

describe.skipIf(!kernel.ok)('benchmark programs in the kernel', () => {
  it('fnv1a and bytescan return in the kernel what they return in bpfbed, on the bench inputs', async () => {
    for (const name of ['fnv1a', 'bytescan']) {
      const { kernelInput } = workload(name);
      if (typeof kernelInput !== 'function') throw new Error(`${name} has no kernel input`);
      const input = kernelInput();
      const inKernel = await runInKernel(encodeInsns(programOf(name)), { mem: input });
      expect(inKernel.accepted, `${name} accepted by the verifier`).toBe(true);
      expect(inKernel.accepted && inKernel.r0, name).toBe((await inBpfbed(name, input)).r0);
    }
  });
});
