// The RFC 9669 corpus (fixtures/isa/*.data, bpf_conformance format): every program is assembled,
// run with execRaw the way ubpf_test / bpf_conformance run programs (r1 = memory, r2 = its
// length) and its r0 or its fault compared with the file's expectation.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { parseConformanceTest, type ConformanceTest } from '../../src/asm/conformance.js';
import { formatInsn } from '../../src/asm/disasm.js';
import { encodeInsns, type Insn } from '../../src/asm/insn.js';
import { execRaw } from '../../src/vm/exec.js';

const DIR = join(import.meta.dirname, '../../fixtures/isa');
const FILES = readdirSync(DIR)
  .filter((f) => f.endsWith('.data'))
  .sort();

interface CorpusEntry {
  name: string;
  test: ConformanceTest;
  insns: Insn[];
  group: string;
}

const CORPUS: CorpusEntry[] = FILES.map((file) => {
  const test = parseConformanceTest(readFileSync(join(DIR, file), 'utf8'));
  const group = test.comments.find((c) => c.startsWith('group: '))?.slice('group: '.length) ?? '';
  return { name: file.replace(/\.data$/, ''), test, insns: assemble(test.asm), group };
});

const hex = (v: bigint) => `0x${v.toString(16)}`;

/** Runtime fault codes (src/vm/types.ts FaultCode); any other `-- error` text is a load error. */
const FAULT_CODES = ['read_oob', 'write_oob', 'budget', 'call_depth', 'bad_callx'];

describe('RFC 9669 corpus: shape', () => {
  it('has well over 150 programs', () => {
    expect(CORPUS.length).toBeGreaterThan(150);
  });

  it('every file says what it tests, cites RFC 9669 and names a conformance group', () => {
    const GROUPS = ['base32', 'base64', 'atomic32', 'atomic64', 'divmul32', 'divmul64', 'packet', 'callx'];
    for (const { name, test, group } of CORPUS) {
      expect(test.comments[0], name).toMatch(/\w/);
      expect(test.comments.some((c) => c.startsWith('RFC 9669 §')), name).toBe(true);
      expect(GROUPS, name).toContain(group);
      expect(test.result !== undefined || test.error !== undefined, `${name} expects nothing`).toBe(true);
    }
  });

  it('covers every conformance group', () => {
    const groups = new Set(CORPUS.map((c) => c.group));
    for (const g of ['base32', 'base64', 'atomic32', 'atomic64', 'divmul32', 'divmul64', 'packet', 'callx']) {
      expect(groups, g).toContain(g);
    }
  });

  it('uses every instruction form of RFC 9669 that runs without a kernel environment', () => {
    // A form is the opcode plus what else selects the operation: off for sdiv/smod/movsx, imm for
    // byte swaps and atomics, src for calls. Helper calls and lddw pseudo sources other than
    // code_addr need maps or helpers and are covered elsewhere.
    const formOf = (i: Insn): string => {
      const cls = i.opcode & 7;
      const op = i.opcode & 0xf0;
      if ((cls === 4 || cls === 7) && (op === 0x30 || op === 0x90 || op === 0xb0)) return `${i.opcode}/off${i.off}`;
      if ((cls === 4 || cls === 7) && op === 0xd0) return `${i.opcode}/imm${i.imm}`;
      if (cls === 3 && (i.opcode & 0xe0) === 0xc0) return `${i.opcode}/imm${i.imm}`;
      if (i.opcode === 0x85) return `${i.opcode}/src${i.src}`;
      return `${i.opcode}`;
    };
    const used = new Set<string>();
    for (const { insns } of CORPUS) {
      for (let k = 0; k < insns.length; k++) {
        used.add(formOf(insns[k]));
        if (insns[k].opcode === 0x18) k++; // skip the second lddw slot
      }
    }
    const expected: string[] = [];
    for (const cls of [0x04, 0x07]) {
      for (const op of [0x00, 0x10, 0x20, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xc0]) {
        expected.push(`${cls | op}`, `${cls | op | 8}`);
      }
      for (const op of [0x30, 0x90]) for (const off of [0, 1]) expected.push(`${cls | op}/off${off}`, `${cls | op | 8}/off${off}`);
      expected.push(`${cls | 0xb0}/off0`, `${cls | 0xb8}/off0`, `${cls | 0x80}`);
      for (const off of cls === 0x07 ? [8, 16, 32] : [8, 16]) expected.push(`${cls | 0xb8}/off${off}`);
      for (const imm of [16, 32, 64]) {
        expected.push(`${cls | 0xd0}/imm${imm}`);
        if (cls === 0x04) expected.push(`${cls | 0xd8}/imm${imm}`);
      }
    }
    for (const cls of [0x05, 0x06]) {
      for (const op of [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]) expected.push(`${cls | op}`, `${cls | op | 8}`);
      expected.push(`${cls}`); // ja / gotol
    }
    expected.push('133/src1', '141', '149', '24'); // local call, callx, exit, lddw
    for (const size of [0x00, 0x08, 0x10]) expected.push(`${0x20 | size}`, `${0x40 | size}`, `${0x81 | size}`); // ABS, IND, MEMSX
    for (const size of [0x00, 0x08, 0x10, 0x18]) expected.push(`${0x61 | size}`, `${0x62 | size}`, `${0x63 | size}`); // LDX, ST, STX
    for (const opcode of [0xc3, 0xdb]) {
      for (const imm of [0x00, 0x40, 0x50, 0xa0]) expected.push(`${opcode}/imm${imm}`, `${opcode}/imm${imm | 1}`);
      expected.push(`${opcode}/imm${0xe1}`, `${opcode}/imm${0xf1}`);
    }
    const missing = expected.filter((f) => !used.has(f));
    expect(missing).toEqual([]);
  });

  it('disassembles every instruction of the programs that load (no <unknown>)', () => {
    for (const { name, insns, test } of CORPUS) {
      if (test.error !== undefined && !FAULT_CODES.includes(test.error)) continue; // rejected at load

      insns.forEach((_, k) => expect(formatInsn(insns, k), `${name} slot ${k}`).not.toBe('<unknown>'));
    }
  });
});

describe('RFC 9669 corpus: execution', () => {
  for (const { name, test, insns } of CORPUS) {
    const what = test.comments[0];
    if (test.error !== undefined && FAULT_CODES.includes(test.error)) {
      it(`${name}: ${what} (faults with ${test.error})`, async () => {
        const run = await execRaw(encodeInsns(insns), test.mem);
        expect(run.fault?.code, `r0 = ${hex(run.r0)}`).toBe(test.error);
      });
    } else if (test.error !== undefined) {
      it(`${name}: ${what} (rejected at load: ${test.error})`, async () => {
        await expect(execRaw(encodeInsns(insns), test.mem)).rejects.toThrow(test.error);
      });
    } else {
      it(`${name}: ${what}`, async () => {
        const run = await execRaw(encodeInsns(insns), test.mem);
        expect(run.fault?.message).toBeUndefined();
        expect(hex(run.r0)).toBe(hex(test.result!));
      });
    }
  }
});
