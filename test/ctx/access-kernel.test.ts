// The kernel refuses the programs of bpf/ctx/bad/*.c that access.test.ts expects bpfbed to fault
// on (root, BPFBED_KERNEL=1, bpftool).
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { kernelOracleAvailable } from './kernel-oracle.js';

const dir = fileURLToPath(new URL('../../fixtures/obj/ctx/bad/', import.meta.url));
const objects = readdirSync(dir).filter((f) => f.endsWith('.o')).map((f) => f.slice(0, -2));

const avail = kernelOracleAvailable();
const BPFTOOL_TYPE: Record<string, string> = { sched_cls: 'classifier', xdp: 'xdp', socket_filter: 'socket', cgroup_sock_addr: 'cgroup/connect4' };

describe.skipIf(!avail.ok)(`the kernel refuses the same programs${avail.ok ? '' : ` (skipped: ${avail.why})`}`, () => {
  for (const name of objects) {
    it(`${name} is refused by the verifier`, async () => {
      const runner = await CtxRunner.fromObject(new Uint8Array(readFileSync(`${dir}${name}.o`)), { name });
      const type = BPFTOOL_TYPE[runner.bed.program(name).spec.type];
      const pin = `/sys/fs/bpf/bpfbed-bad-${process.pid}-${name}`;
      const r = spawnSync('bpftool', ['prog', 'load', `${dir}${name}.o`, pin, 'type', type], { encoding: 'utf8' });
      rmSync(pin, { force: true });
      expect(r.status, r.stderr.slice(-400)).not.toBe(0);
      expect(r.stderr).toMatch(/invalid bpf_context access|invalid access to packet|R\d+ offset is outside of the packet|permission denied/i);
    });
  }
  it('a valid program of the same object family loads (the check above is not vacuous)', () => {
    const obj = fileURLToPath(new URL('../../fixtures/obj/ctx/sockfilter_ctx.o', import.meta.url));
    const pin = `/sys/fs/bpf/bpfbed-good-${process.pid}`;
    execFileSync('bpftool', ['prog', 'load', obj, pin, 'type', 'socket']);
    rmSync(pin, { force: true });
  });
});
