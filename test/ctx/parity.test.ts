// bpfbed against the kernel's recorded answers (kernel-answers.json, Linux 6.18): for every case
// of cases.ts the same return value, data_out and ctx_out as BPF_PROG_TEST_RUN. Runs without root.
import { describe, expect, it } from 'vitest';
import { CASES, bpfbedTestRun, hex, recordedAnswers } from './cases.js';

const answers = recordedAnswers();

describe("contexts match the kernel's recorded BPF_PROG_TEST_RUN answers", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const k = answers[c.name];
      expect(k, `no recorded kernel answer for '${c.name}' (re-record: see cases.ts)`).toBeDefined();
      const b = await bpfbedTestRun(c);
      expect(b.fault).toBeUndefined();
      expect({ retval: b.retval, dataOut: hex(b.dataOut) }).toEqual({ retval: k.retval, dataOut: k.dataOut });
      if (k.ctxOut !== undefined) expect(hex(b.ctxOut!)).toEqual(k.ctxOut);
    });
  }
});
