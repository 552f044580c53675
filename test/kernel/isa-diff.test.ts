// The ISA corpus (fixtures/isa/*.data, RFC 9669 conformance tests) checked against the real
// kernel: every test with a `-- result` runs in the kernel through BPF_PROG_TEST_RUN, and where
// the verifier accepts it, the kernel's r0 must be the expected result. This shows that the
// corpus expectations bpfbed is tested against are the kernel's, not only our reading of the RFC.
//
// Tests with `-- mem` run too: the memory is an array map value handed to the snippet in r1, or
// for legacy packet loads (LD_ABS/LD_IND) the test packet (see tools/kernel/bpfbed-kexec.c).
// The snippet stays the main program, as in bpfbed: its exits jump to an epilogue saving r0. Tests with `-- error` must not run in the kernel either:
// a program bpfbed refuses or faults on, that the kernel verifies and runs, is a fidelity gap.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { parseConformanceTest, type ConformanceTest } from '../../src/asm/conformance.js';
import { encodeInsns } from '../../src/asm/insn.js';
import { hex } from '../../src/asm/disasm.js';
import { kernelAvailable, runInKernel } from '../../src/node/kernel.js';
import { execRaw } from '../../src/vm/exec.js';

// BPFBED_ISA_CORPUS points the check at another folder of .data files (e.g. bpf_conformance's tests/).
const CORPUS = process.env.BPFBED_ISA_CORPUS ?? fileURLToPath(new URL('../../fixtures/isa', import.meta.url));
const files = existsSync(CORPUS) ? readdirSync(CORPUS).filter((f) => f.endsWith('.data')).sort() : [];

const kernel = kernelAvailable();
if (!kernel.ok) console.log(`ISA corpus vs kernel skipped: ${kernel.why}`);
else if (files.length === 0) console.log(`ISA corpus vs kernel skipped: no .data files in ${CORPUS}`);

interface Case {
  file: string;
  test: ConformanceTest;
  code: Uint8Array | undefined;
  assembleError?: string;
}

function loadCase(file: string): Case {
  const test = parseConformanceTest(readFileSync(join(CORPUS, file), 'utf8'));
  try {
    const insns = assemble(test.asm);
    if (insns.length === 0) return { file, test, code: undefined, assembleError: 'no instructions in -- asm' };
    return { file, test, code: encodeInsns(insns) };
  } catch (err) {
    // A test of malformed input (bad register, unknown mnemonic) may not assemble at all.
    return { file, test, code: undefined, assembleError: (err as Error).message };
  }
}

const cases = files.map(loadCase);
const withResult = cases.filter((c) => c.test.result !== undefined);
const withError = cases.filter((c) => c.test.result === undefined && c.test.error !== undefined);

const bytesHex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');

/** The verifier's reason for a rejection: the last log line before its statistics. */
function verifierReason(log: string): string {
  const lines = log.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('processed '));
  return lines.at(-1)?.trim() ?? 'no log';
}

const tally = { checked: 0, checkedWithMem: 0, rejected: [] as string[], refusedByBoth: 0 };

describe.skipIf(!kernel.ok || files.length === 0)('the ISA corpus agrees with the kernel', () => {
  afterAll(() => {
    const lines = [
      `ISA corpus vs kernel: ${tally.checked} of ${withResult.length} tests with a result checked in the kernel` +
        ` (${tally.checkedWithMem} of them with memory); ${tally.rejected.length} not accepted by the verifier.`,
      `  ${tally.refusedByBoth} of ${withError.length} '-- error' tests also refused by the kernel.`,
    ];
    for (const rejected of tally.rejected) lines.push(`  not accepted: ${rejected}`);
    console.log(lines.join('\n'));
  });

  it.for(withResult.map((c) => [c.file, c] as const))('%s: the kernel returns the expected r0', async ([, c], { skip }) => {
    expect(c.assembleError, `${c.file} does not assemble`).toBeUndefined();
    const result = await runInKernel(c.code!, { mem: c.test.mem });
    if (!result.accepted) {
      const reason = `${verifierReason(result.verifierLog)}; insn indices include ${result.wrapperSlots} wrapper slots`;
      // The corpus marks tests it knows the kernel refuses with a `# kernel: skip (why)` comment.
      const annotated = c.test.comments.some((line) => /kernel:\s*skip/.test(line));
      tally.rejected.push(`${c.file} (${reason})${annotated ? '' : ' [not marked "kernel: skip" in the corpus]'}`);
      skip(`the verifier does not accept it: ${reason}`);
      return;
    }
    tally.checked++;
    if (c.test.mem.length > 0) tally.checkedWithMem++;
    expect(hex(result.r0), `${c.file}: kernel r0`).toBe(hex(c.test.result!));
    if (result.mem) {
      // The corpus states only r0; the memory a snippet leaves is compared with bpfbed directly.
      const ours = await execRaw(c.code!, c.test.mem);
      expect(bytesHex(ours.mem), `${c.file}: memory after the run, bpfbed vs kernel`).toBe(bytesHex(result.mem));
    }
  });

  it.for(withError.map((c) => [c.file, c] as const))('%s: the kernel refuses it too', async ([, c]) => {
    if (c.code === undefined) {
      tally.refusedByBoth++; // not even encodable, so no kernel can load it
      return;
    }
    const result = await runInKernel(c.code, { mem: c.test.mem });
    const r0 = result.accepted ? hex(result.r0) : '';
    expect(result.accepted, `${c.file} expects '${c.test.error}', but the kernel ran it and returned ${r0}`).toBe(false);
    tally.refusedByBoth++;
  });

  it('checks at least one corpus test in the kernel', () => {
    expect(tally.checked).toBeGreaterThan(0);
  });
});
