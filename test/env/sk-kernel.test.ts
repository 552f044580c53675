// Kernel parity for bpf_sk_lookup_tcp/_udp and bpf_skc_lookup_tcp: opens the sockets of
// sk-world.ts in a network namespace (oracle/hold-sockets.py) on a veth device, runs bpf/env/sk_lookup.c through
// BPF_PROG_TEST_RUN and compares which socket each lookup returns. Needs root and
// BPFBED_KERNEL=1; BPFBED_RECORD=1 rewrites sk-kernel-answers.json.
import { type ChildProcess, execSync, spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatIPv4, formatIPv6 } from '../../src/env/addr.js';
import { defaultLen, emulate, tupleBytes } from './sk-run.js';
import { type SkAnswer, skCases } from './sk-world.js';

const here = new URL('.', import.meta.url).pathname;
const root = join(here, '../..');
const enabled = process.env.BPFBED_KERNEL === '1' && process.getuid?.() === 0;
const NS = 'bpfbed-sk';

describe.skipIf(!enabled)('socket lookups agree with the running kernel (root, BPFBED_KERNEL=1)', () => {
  const answers = new Map<string, SkAnswer>();
  const runner = join(tmpdir(), `bpfbed-sk-runner-${process.pid}`);
  let holder: ChildProcess | undefined;

  beforeAll(async () => {
    execSync(`gcc -O2 -o ${runner} ${join(here, 'oracle/runner.c')} -lbpf`);
    execSync(`ip netns del ${NS} 2>/dev/null; true`, { shell: '/bin/bash' });
    for (const cmd of [
      `ip netns add ${NS}`,
      `ip -n ${NS} link set lo up`,
      `ip -n ${NS} link add veth0 index 2 type veth peer name veth1 index 3`,
      `ip -n ${NS} link set veth0 up`,
      `ip -n ${NS} link set veth1 up`,
      `ip -n ${NS} addr add 10.0.0.1/32 dev veth0`,
      `ip -n ${NS} addr add 10.0.0.9/32 dev veth0`,
      `ip -n ${NS} addr add fd00::1/128 dev veth0 nodad`,
      `ip -n ${NS} addr add fd00::9/128 dev veth0 nodad`,
    ]) {
      execSync(cmd);
    }
    holder = spawn('ip', ['netns', 'exec', NS, 'python3', join(here, 'oracle/hold-sockets.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      holder!.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      holder!.on('exit', (code) => reject(new Error(`hold-sockets.py exited with ${code}`)));
    });
    for (const prog of ['sk_tcp', 'sk_udp', 'skc_tcp'] as const) {
      const cases = skCases.filter((c) => c.prog === prog);
      const input = cases
        .map((c) => {
          const v = Buffer.alloc(112);
          Buffer.from(tupleBytes(c)).copy(v, 0);
          v.writeUInt32LE(defaultLen(c), 36);
          v.writeBigUInt64LE(c.netns ?? BigInt.asUintN(64, -1n), 48);
          v.writeBigUInt64LE(c.flags ?? 0n, 56);
          return `${v.toString('hex')} ${'02'.repeat(6)}${'01'.repeat(6)}0800${'00'.repeat(50)}`;
        })
        .join('\n');
      const out = spawnSync('ip', ['netns', 'exec', NS, runner, join(root, 'fixtures/obj/env/sk_lookup.o'), prog, 'sk_io'], { input: input + '\n', encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`oracle runner failed: ${out.stderr}`);
      out.stdout
        .trim()
        .split('\n')
        .forEach((l, i) => {
          const v = Buffer.from(l.split(' ')[1], 'hex');
          const name = cases[i].name;
          if (!v.readUInt32LE(64)) return answers.set(name, { name, found: false });
          const family = v.readUInt32LE(68);
          answers.set(name, {
            name,
            found: true,
            family,
            state: v.readUInt32LE(76),
            local: family === 2 ? formatIPv4(v, 80) : formatIPv6(v, 96),
            localPort: v.readUInt32LE(84),
            remotePort: v.readUInt16BE(92),
          });
        });
    }
    if (process.env.BPFBED_RECORD === '1') {
      writeFileSync(join(here, 'sk-kernel-answers.json'), JSON.stringify(skCases.map((c) => answers.get(c.name)), null, 1) + '\n');
    }
  });

  afterAll(() => {
    holder?.stdin?.end();
    if (holder?.pid && holder.exitCode === null) holder.kill();
    execSync(`ip netns del ${NS} 2>/dev/null; rm -f ${runner}; true`, { shell: '/bin/bash' });
  });

  for (const c of skCases) {
    it(c.name, () => {
      expect(emulate(c)).toEqual(answers.get(c.name));
    });
  }
});
