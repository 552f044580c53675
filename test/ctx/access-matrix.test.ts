// Every context access (each offset, sizes 1/2/4/8, load and store) that bpfbed's access tables
// allow must be exactly what the kernel's verifier accepts, per program type and attach type.
// access-matrix.json holds the kernel's answers (Linux 6.18, probed with
// oracle/ctx-access-probe.c: one BPF_PROG_LOAD per access); with root the probe runs live, and
// BPFBED_RECORD_CTX=1 rewrites the JSON.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SK_BUFF_SIZE, skbAccessTable } from '../../src/ctx/skb.js';
import { BPF_SOCK_ADDR_SIZE, SOCK_ADDR_HOOKS, sockAddrAccessTable, type SockAddrHook } from '../../src/ctx/sock-addr.js';
import { XDP_MD_SIZE, xdpAccessTable } from '../../src/ctx/xdp.js';
import type { CtxAccessTable } from '../../src/vm/types.js';
import { kernelOracleAvailable } from './kernel-oracle.js';

/** enum bpf_attach_type values of the hooks (include/uapi/linux/bpf.h). */
const ATTACH: Record<SockAddrHook, number> = {
  bind4: 8,
  bind6: 9,
  connect4: 10,
  connect6: 11,
  sendmsg4: 14,
  sendmsg6: 15,
  recvmsg4: 19,
  recvmsg6: 20,
  getpeername4: 29,
  getpeername6: 30,
  getsockname4: 31,
  getsockname6: 32,
};

interface Kind {
  name: string;
  progType: number;
  attach: number;
  size: number;
  table: CtxAccessTable;
}

const KINDS: Kind[] = [
  { name: 'sched_cls', progType: 3, attach: 0, size: SK_BUFF_SIZE, table: skbAccessTable('tc') },
  { name: 'sched_act', progType: 4, attach: 0, size: SK_BUFF_SIZE, table: skbAccessTable('tc') },
  { name: 'socket_filter', progType: 1, attach: 0, size: SK_BUFF_SIZE, table: skbAccessTable('socket_filter') },
  { name: 'xdp', progType: 6, attach: 0, size: XDP_MD_SIZE, table: xdpAccessTable(false) },
  { name: 'xdp/devmap', progType: 6, attach: 33, size: XDP_MD_SIZE, table: xdpAccessTable(true) },
  ...(Object.keys(SOCK_ADDR_HOOKS) as SockAddrHook[]).map((h) => ({
    name: `cgroup/${h}`,
    progType: 18,
    attach: ATTACH[h],
    size: BPF_SOCK_ADDR_SIZE,
    table: sockAddrAccessTable(h),
  })),
];

/** The accesses a table allows, as the probe prints them ("r OFF SIZE" / "w OFF SIZE"). */
function allowed(k: Kind): string[] {
  const out: string[] = [];
  for (let off = 0; off < k.size; off++) {
    for (const s of [1, 2, 4, 8]) {
      if (k.table.readSizes[off] & s) out.push(`r ${off} ${s}`);
      if (k.table.writeSizes[off] & s) out.push(`w ${off} ${s}`);
    }
  }
  return out;
}

const JSON_PATH = fileURLToPath(new URL('./access-matrix.json', import.meta.url));
const recorded = JSON.parse(readFileSync(JSON_PATH, 'utf8')) as Record<string, string[]>;

describe("context access tables match the kernel verifier's recorded answers", () => {
  for (const k of KINDS) {
    it(k.name, () => {
      expect(recorded[k.name], `no recorded answer for ${k.name}`).toBeDefined();
      expect(allowed(k)).toEqual(recorded[k.name]);
    });
  }
});

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
