// Live comparison with the running kernel (root and bpftool needed, skipped otherwise): every
// case of cases.ts through BPF_PROG_TEST_RUN and through bpfbed must give the same return value,
// data_out and ctx_out. With BPFBED_RECORD_CTX=1 the kernel's answers are written to
// kernel-answers.json, which parity.test.ts checks without root:
//   BPFBED_RECORD_CTX=1 npx vitest run --project kernel test/ctx/parity-kernel.test.ts
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { ANSWERS_PATH, BPFTOOL_TYPE, CASES, bpfbedTestRun, hex, objPath, type RecordedAnswer } from './cases.js';
import { kernelOracleAvailable, kernelTestRun, unloadAll } from './kernel-oracle.js';

const avail = kernelOracleAvailable();
const record = process.env.BPFBED_RECORD_CTX === '1';
const answers: Record<string, RecordedAnswer> = {};

describe.skipIf(!avail.ok)(`contexts against the kernel's BPF_PROG_TEST_RUN${avail.ok ? '' : ` (skipped: ${avail.why})`}`, () => {
  afterAll(() => {
    unloadAll();
    if (record) writeFileSync(ANSWERS_PATH, JSON.stringify(answers, null, 1) + '\n');
  });

  for (const c of CASES) {
    it(c.name, async () => {
      const k = kernelTestRun(objPath(c.obj), BPFTOOL_TYPE[c.kind], c.prog, c.data, c.ctx);
      answers[c.name] = { retval: k.retval, dataOut: hex(k.dataOut), ...(k.ctxOut ? { ctxOut: hex(k.ctxOut) } : {}) };
      const b = await bpfbedTestRun(c);
      expect(b.fault).toBeUndefined();
      expect({ retval: b.retval, dataOut: hex(b.dataOut) }).toEqual({ retval: k.retval, dataOut: hex(k.dataOut) });
      if (k.ctxOut) expect(hex(b.ctxOut!)).toEqual(hex(k.ctxOut));
    });
  }
});
