// Regression cases of the differential test (fixtures/differential/*.json): a program's bytes,
// its input memory and the memory the kernel left (registers, stack, data: layout.ts), so that
// bpfbed can be checked against the kernel's answer without root
// (test/vm/differential-regressions.test.ts). Every mismatch the differential run finds is saved
// as one; the expected memory is always the kernel's, never written by hand.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { decodeInsns } from '../../asm/insn.js';
import { disassemble } from '../../asm/disasm.js';

export interface RegressionCase {
  /** What the case shows (for a mismatch: the differences found when it was recorded). */
  description: string;
  /** Where the expected memory came from: always the kernel, named by its release. */
  expectedFrom: string;
  /** Where the program came from (the generator may have changed since: `code` is authoritative). */
  seed: number;
  index: number;
  /** Raw 8-byte instruction slots, hex. */
  code: string;
  /** The memory handed to the program (r1, r2 = its length), hex. */
  mem: string;
  /** The memory after the kernel ran the program, hex. */
  expectedMem: string;
  /**
   * Set where the kernel is wrong and bpfbed deliberately differs (a kernel bug, not a
   * semantic to emulate): what bpfbed must produce instead, and why. Absent: bpfbed must
   * produce expectedMem exactly.
   */
  kernelDeviation?: {
    reason: string;
    /** False while the kernel bug is only suspected (bpfbed's answer recorded, awaiting analysis). */
    confirmed: boolean;
    bpfbedExpectedMem: string;
    /** The locations (compareOutcomes' `where`) where the kernel's answer differs. */
    differsAt: string;
  };
  /** For readers; not used by the test. */
  disassembly: string[];
}

export const toHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export function fromHex(hex: string, what: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`${what}: not an even-length hex string`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A case from a program and the kernel's answer for it. */
export function makeRegressionCase(
  seed: number,
  index: number,
  code: Uint8Array,
  mem: Uint8Array,
  kernelMem: Uint8Array,
  description: string,
): RegressionCase {
  return {
    description,
    expectedFrom: `kernel ${release()} (BPF_PROG_TEST_RUN via tools/kernel/bpfbed-kbatch.c)`,
    seed,
    index,
    code: toHex(code),
    mem: toHex(mem),
    expectedMem: toHex(kernelMem),
    disassembly: disassemble(decodeInsns(code)),
  };
}

/** Writes `dir/seed-<seed>-<index>.json` and returns its path. */
export function saveRegressionCase(dir: string, c: RegressionCase): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `seed-${c.seed}-${c.index}.json`);
  writeFileSync(path, `${JSON.stringify(c, null, 2)}\n`);
  return path;
}

/** Every case in `dir`, by file name; throws naming the file for a malformed one. */
export function loadRegressionCases(dir: string): { file: string; case: RegressionCase }[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((file) => {
    let parsed: RegressionCase;
    try {
      parsed = JSON.parse(readFileSync(join(dir, file), 'utf8')) as RegressionCase;
    } catch (err) {
      throw new Error(`${join(dir, file)}: not JSON: ${(err as Error).message}`);
    }
    for (const key of ['code', 'mem', 'expectedMem'] as const) {
      if (typeof parsed[key] !== 'string') throw new Error(`${join(dir, file)}: "${key}" must be a hex string`);
    }
    if (parsed.kernelDeviation !== undefined && typeof parsed.kernelDeviation.bpfbedExpectedMem !== 'string') {
      throw new Error(`${join(dir, file)}: "kernelDeviation.bpfbedExpectedMem" must be a hex string`);
    }
    return { file, case: parsed };
  });
}
