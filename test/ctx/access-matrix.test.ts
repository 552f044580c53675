// Every context access (each offset, sizes 1/2/4/8, load and store) that bpfbed's access tables
// allow must be exactly what the kernel's verifier accepts, per program type and attach type.
// access-matrix.json holds the kernel's answers (Linux 6.18, probed with
// oracle/ctx-access-probe.c: one BPF_PROG_LOAD per access); access-matrix-kernel.test.ts probes
// live and, with BPFBED_RECORD_CTX=1, rewrites the JSON.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { JSON_PATH, KINDS, allowed } from './access-kinds.js';

const recorded = JSON.parse(readFileSync(JSON_PATH, 'utf8')) as Record<string, string[]>;

describe("context access tables match the kernel verifier's recorded answers", () => {
  for (const k of KINDS) {
    it(k.name, () => {
      expect(recorded[k.name], `no recorded answer for ${k.name}`).toBeDefined();
      expect(allowed(k)).toEqual(recorded[k.name]);
    });
  }
});
