// Kernel parity for bpf_fib_lookup: builds fib-world.ts in a Linux network namespace, runs
// bpf/env/fib.c through BPF_PROG_TEST_RUN for every case and compares the return code and all
// 64 bytes of struct bpf_fib_lookup with the emulation. Needs root and BPFBED_KERNEL=1;
// BPFBED_RECORD=1 also rewrites fib-kernel-answers.json, which fib.test.ts replays without root.
import { execSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fibLookupRaw } from '../../src/env/fib.js';
import { buildWorld, caseBytes, fibCases, type KernelAnswer, worldCommands } from './fib-world.js';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '../..');
const enabled = process.env.BPFBED_KERNEL === '1' && process.getuid?.() === 0;
const NS = 'bpfbed-fib';
const PEER = 'bpfbed-fibpeer';

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

/** Runs the cases of one phase and program through the oracle runner inside the namespace. */
function runKernel(runner: string, prog: 'tc' | 'xdp', cases: typeof fibCases): KernelAnswer[] {
  if (!cases.length) return [];
  const lines = cases.map((c) => {
    const value = new Uint8Array(80);
    value.set(caseBytes(c), 0);
    new DataView(value.buffer).setUint32(64, c.flags >>> 0, true);
    const pkt = new Uint8Array(c.pktLen ?? 64);
    pkt.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    return `${hex(value)} ${hex(pkt)}`;
  });
  const out = spawnSync('ip', ['netns', 'exec', NS, runner, join(root, 'fixtures/obj/env/fib.o'), `fib_${prog}`, 'fib_io'], {
    input: lines.join('\n') + '\n',
    encoding: 'utf8',
  });
  if (out.status !== 0) throw new Error(`oracle runner failed: ${out.stderr}`);
  const outLines = out.stdout.trim().split('\n');
  if (outLines.length !== cases.length) {
    throw new Error(`oracle: ${cases.length} cases but ${outLines.length} answers: ${out.stdout.slice(0, 300)} ${out.stderr.slice(0, 300)}`);
  }
  return outLines
    .map((l, i) => {
      const [status, value] = l.split(' ');
      if (status === 'ERR' || value === undefined) throw new Error(`oracle: case "${cases[i].name}": BPF_PROG_TEST_RUN failed: ${l}`);
      const v = Buffer.from(value, 'hex');
      return { name: cases[i].name, ret: Number(v.readBigInt64LE(72)), params: v.subarray(0, 64).toString('hex') };
    });
}

describe.skipIf(!enabled)('bpf_fib_lookup agrees with the running kernel (root, BPFBED_KERNEL=1)', () => {
  const answers = new Map<string, KernelAnswer>();
  let runner = '';

  beforeAll(() => {
    runner = join(tmpdir(), `bpfbed-env-runner-${process.pid}`);
    execSync(`gcc -O2 -o ${runner} ${join(here, 'oracle/runner.c')} -lbpf`);
    execSync(`ip netns del ${NS} 2>/dev/null; ip netns del ${PEER} 2>/dev/null; true`, { shell: '/bin/bash' });
    for (const phase of [1, 2] as const) {
      for (const cmd of worldCommands(NS, PEER, phase)) execSync(cmd);
      for (const prog of ['tc', 'xdp'] as const) {
        const cases = fibCases.filter((c) => c.phase === phase && c.prog === prog);
        runKernel(runner, prog, cases).forEach((a) => answers.set(a.name, a));
      }
    }
    if (process.env.BPFBED_RECORD === '1') {
      const ordered = fibCases.map((c) => answers.get(c.name)!);
      writeFileSync(join(here, 'fib-kernel-answers.json'), JSON.stringify(ordered, null, 1) + '\n');
    }
  });

  afterAll(() => {
    execSync(`ip netns del ${NS} 2>/dev/null; ip netns del ${PEER} 2>/dev/null; rm -f ${runner}; true`, { shell: '/bin/bash' });
  });

  for (const c of fibCases) {
    it(c.name, () => {
      const env = buildWorld(c.phase);
      const bytes = caseBytes(c);
      const ret = fibLookupRaw(env, bytes, 64, c.flags, { kind: c.prog === 'tc' ? 'skb' : 'xdp', skbLen: c.pktLen ?? 64 });
      const k = answers.get(c.name)!;
      expect({ ret, params: hex(bytes) }).toEqual({ ret: k.ret, params: k.params });
    });
  }
});
