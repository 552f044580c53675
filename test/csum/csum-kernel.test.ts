// Kernel parity for the checksum helpers: runs bpf/env/csum.c through BPF_PROG_TEST_RUN for
// every case in csum-cases.ts and compares the return value and the packet with src/csum.
// Needs root and BPFBED_KERNEL=1; BPFBED_RECORD=1 rewrites csum-kernel-answers.json.
import { execSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CsumAnswer, csumCases } from './csum-cases.js';
import { runCase } from './run-case.js';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '../..');
const enabled = process.env.BPFBED_KERNEL === '1' && process.getuid?.() === 0;

const OP = { l3: 1, l4: 2, diff: 3 } as const;

function caseValue(c: (typeof csumCases)[number]): Buffer {
  const v = Buffer.alloc(2104);
  v.writeUInt32LE(OP[c.op], 0);
  if (c.op === 'diff') {
    const from = Buffer.from(c.from, 'hex');
    const to = Buffer.from(c.to, 'hex');
    v.writeUInt32LE(from.length, 32);
    v.writeUInt32LE(to.length, 36);
    v.writeUInt32LE(c.seed >>> 0, 40);
    from.copy(v, 56);
    to.copy(v, 1080);
  } else {
    v.writeUInt32LE(c.offset, 4);
    v.writeBigUInt64LE(c.from, 8);
    v.writeBigUInt64LE(c.to, 16);
    v.writeBigUInt64LE(c.flags, 24);
  }
  return v;
}

describe.skipIf(!enabled)('checksum helpers agree with the running kernel (root, BPFBED_KERNEL=1)', () => {
  const answers = new Map<string, CsumAnswer>();
  const runner = join(tmpdir(), `bpfbed-csum-runner-${process.pid}`);

  beforeAll(() => {
    execSync(`gcc -O2 -o ${runner} ${join(root, 'test/env/oracle/runner.c')} -lbpf`);
    const input = csumCases.map((c) => `${caseValue(c).toString('hex')} ${c.pkt}`).join('\n') + '\n';
    const out = spawnSync(runner, [join(root, 'fixtures/obj/env/csum.o'), 'csum_tc', 'csum_io'], { input, encoding: 'utf8', maxBuffer: 1 << 26 });
    if (out.status !== 0) throw new Error(`oracle runner failed: ${out.stderr}`);
    const lines = out.stdout.trim().split('\n');
    if (lines.length !== csumCases.length) throw new Error(`oracle: ${csumCases.length} cases, ${lines.length} answers`);
    lines.forEach((l, i) => {
      const [status, value, pkt] = l.split(' ');
      if (status === 'ERR') throw new Error(`oracle: ${csumCases[i].name}: ${l}`);
      const ret = Buffer.from(value, 'hex').readBigInt64LE(48);
      answers.set(csumCases[i].name, { name: csumCases[i].name, ret: ret.toString(), pkt });
    });
    if (process.env.BPFBED_RECORD === '1') {
      writeFileSync(join(here, 'csum-kernel-answers.json'), JSON.stringify(csumCases.map((c) => answers.get(c.name)), null, 1) + '\n');
    }
  });

  afterAll(() => {
    execSync(`rm -f ${runner}`);
  });

  for (const c of csumCases) {
    it(c.name, () => {
      expect(runCase(c)).toEqual(answers.get(c.name));
    });
  }
});
