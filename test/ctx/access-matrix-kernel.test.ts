// The context access tables against the live verifier (root, BPFBED_KERNEL=1, cc and
// libbpf-dev): oracle/ctx-access-probe.c loads one program per access. With BPFBED_RECORD_CTX=1
// the answers are written to access-matrix.json for access-matrix.test.ts.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JSON_PATH, KINDS, allowed } from './access-kinds.js';
import { kernelOracleAvailable } from './kernel-oracle.js';

const avail = kernelOracleAvailable();
const hasCc = spawnSync('cc', ['--version']).status === 0 && existsSync('/usr/include/bpf/bpf.h');

describe.skipIf(!avail.ok || !hasCc)(`context access tables against the live verifier${avail.ok ? (hasCc ? '' : ' (skipped: no cc / libbpf-dev)') : ` (skipped: ${avail.why})`}`, () => {
  const probe = fileURLToPath(new URL('../../build/ctx/ctx-access-probe', import.meta.url));
  const answers: Record<string, string[]> = {};
  it('builds the probe', () => {
    mkdirSync(fileURLToPath(new URL('../../build/ctx/', import.meta.url)), { recursive: true });
    execFileSync('cc', ['-O2', '-o', probe, fileURLToPath(new URL('./oracle/ctx-access-probe.c', import.meta.url)), '-lbpf']);
  });
  for (const k of KINDS) {
    it(k.name, () => {
      const out = execFileSync(probe, [String(k.progType), String(k.attach), String(k.size)], { encoding: 'utf8' });
      answers[k.name] = out.split('\n').filter((l) => l.length > 0);
      expect(allowed(k)).toEqual(answers[k.name]);
    });
  }
  it('records the answers when asked', () => {
    if (process.env.BPFBED_RECORD_CTX === '1') writeFileSync(JSON_PATH, JSON.stringify(answers, null, 0).replace(/\],/g, '],\n') + '\n');
  });
});
