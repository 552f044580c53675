// Regression cases of the differential test against the kernel (fixtures/differential/*.json,
// written by src/node/differential/fixtures.ts): each holds a program, its input memory and the
// memory the kernel left (every register, stack slot and data byte, src/node/differential/
// layout.ts). bpfbed must reproduce the kernel's memory without root, except where the case
// records a kernel bug, where it must produce the recorded correct answer instead.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { compareOutcomes } from '../../src/node/differential/compare.js';
import { fromHex, loadRegressionCases } from '../../src/node/differential/fixtures.js';
import { generateProgram } from '../../src/node/differential/generator.js';
import { MEM_LEN } from '../../src/node/differential/layout.js';
import { encodeInsns } from '../../src/asm/insn.js';
import { execRaw } from '../../src/vm/exec.js';

const DIR = fileURLToPath(new URL('../../fixtures/differential', import.meta.url));
const cases = loadRegressionCases(DIR);

async function runCase(code: Uint8Array, mem: Uint8Array) {
  const result = await execRaw(code, mem);
  return result.fault ? { fault: `${result.fault.code}: ${result.fault.message}`, mem: result.mem } : { mem: result.mem, r0: result.r0 };
}

describe('differential regression cases', () => {
  it('there is at least one case', () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it.for(cases.map((c) => [c.file, c.case] as const))('%s: bpfbed ends with the recorded memory', async ([file, c]) => {
    const code = fromHex(c.code, `${file} code`);
    const mem = fromHex(c.mem, `${file} mem`);
    const expected = fromHex(c.kernelDeviation?.bpfbedExpectedMem ?? c.expectedMem, `${file} expected memory`);
    const diffs = compareOutcomes(expected, await runCase(code, mem));
    expect(diffs, c.description).toEqual([]);
  });

  it.for(cases.filter((c) => c.case.kernelDeviation).map((c) => [c.file, c.case] as const))(
    '%s: the recorded kernel answer differs from the correct one only where the case says',
    ([file, c]) => {
      const kernelMem = fromHex(c.expectedMem, `${file} expectedMem`);
      const diffs = compareOutcomes(kernelMem, { mem: fromHex(c.kernelDeviation!.bpfbedExpectedMem, file), r0: 0n });
      expect(diffs.length).toBeGreaterThan(0);
      for (const d of diffs) expect(c.kernelDeviation!.differsAt).toContain(d.where);
    },
  );
});

describe('the differential comparison', () => {
  it('names the register whose final value differs', () => {
    const kernel = new Uint8Array(MEM_LEN);
    const bpfbed = kernel.slice();
    bpfbed[8 * 3] = 1; // r3's low byte
    expect(compareOutcomes(kernel, { mem: bpfbed, r0: 0n })).toEqual([
      { where: 'r3', kernel: '0x0000000000000000', bpfbed: '0x0000000000000001' },
    ]);
  });

  it('reports a bpfbed fault and a refused program as differences', () => {
    const kernel = new Uint8Array(MEM_LEN);
    expect(compareOutcomes(kernel, { fault: 'read_oob: ...', mem: kernel.slice() }).map((d) => d.where)).toEqual(['fault']);
    expect(compareOutcomes(kernel, { loadError: 'bad opcode' }).map((d) => d.where)).toEqual(['load']);
  });
});

describe('the differential program generator', () => {
  it('gives the same program and memory for the same seed and index', () => {
    const a = generateProgram(7, 123);
    const b = generateProgram(7, 123);
    expect(encodeInsns(a.insns)).toEqual(encodeInsns(b.insns));
    expect(a.mem).toEqual(b.mem);
    expect(encodeInsns(generateProgram(7, 124).insns)).not.toEqual(encodeInsns(a.insns));
  });

  it('writes programs that bpfbed loads and runs to their exit without a fault', async () => {
    for (let index = 0; index < 200; index++) {
      const p = generateProgram(99, index);
      const result = await execRaw(encodeInsns(p.insns), p.mem);
      expect(result.fault?.message, `program ${index} of seed 99`).toBeUndefined();
      expect(result.r0).toBe(0n); // the epilogue returns 0 after storing the state
    }
  });
});
