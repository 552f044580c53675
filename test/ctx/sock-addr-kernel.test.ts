// The cgroup socket address programs in the running kernel (root, BPFBED_KERNEL=1, bpftool,
// cgroup2, python3): they load, and attached to a cgroup they do to real sockets what bpfbed
// predicts (sock-addr.test.ts).
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { SOCK_DGRAM, sockAddrState } from '../../src/ctx/sock-addr.js';
import { kernelOracleAvailable } from './kernel-oracle.js';

const obj = fileURLToPath(new URL('../../fixtures/obj/ctx/sockaddr_ctx.o', import.meta.url));
const ip = (s: string) => new Uint8Array(s.split('.').map(Number));
const dotted = (b: Uint8Array) => [...b].join('.');

let runner: CtxRunner;
beforeAll(async () => {
  runner = await CtxRunner.fromObject(new Uint8Array(readFileSync(obj)), { name: 'sockaddr_ctx' });
});

const avail = kernelOracleAvailable();
describe.skipIf(!avail.ok)(`the kernel accepts these programs${avail.ok ? '' : ` (skipped: ${avail.why})`}`, () => {
  it('loads every program of sockaddr_ctx.o (bind4 returning 3, 8-byte user_ip6 loads)', () => {
    const pin = `/sys/fs/bpf/bpfbed-sockaddr-${process.pid}`;
    const r = spawnSync('bpftool', ['prog', 'loadall', obj, pin], { encoding: 'utf8' });
    rmSync(pin, { recursive: true, force: true });
    expect(r.status, r.stderr.slice(-400)).toBe(0);
  });
});

const CGROUP2 = '/sys/fs/cgroup/unified';
const hasCgroup2 = (() => {
  try {
    return readFileSync('/proc/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === CGROUP2 && l.split(' ')[2] === 'cgroup2');
  } catch {
    return false;
  }
})();

/**
 * The same programs attached to a real cgroup: a process in it binds, and connects a UDP socket
 * (which sends nothing) to the ClusterIP; what the application sees must be what bpfbed says.
 */
describe.skipIf(!avail.ok || !hasCgroup2)(`the programs attached to a cgroup of the running kernel${avail.ok ? (hasCgroup2 ? '' : ' (skipped: no cgroup2 at /sys/fs/cgroup/unified)') : ` (skipped: ${avail.why})`}`, () => {
  it('bind, connect, getpeername and a rejected connect6 behave as bpfbed predicts', () => {
    const cg = `${CGROUP2}/bpfbed-ctx-${process.pid}`;
    const pin = `/sys/fs/bpf/bpfbed-sockaddr-cg-${process.pid}`;
    mkdirSync(cg, { recursive: true });
    const attach: [string, string][] = [
      ['bind4', 'guard_bind4'],
      ['connect4', 'svc_connect4'],
      ['getpeername4', 'svc_getpeername4'],
      ['connect6', 'svc_connect6'],
    ];
    try {
      expect(spawnSync('bpftool', ['prog', 'loadall', obj, pin]).status).toBe(0);
      for (const [hook, prog] of attach) expect(spawnSync('bpftool', ['cgroup', 'attach', cg, hook, 'pinned', `${pin}/${prog}`]).status).toBe(0);
      const py = [
        'import socket, errno',
        'def err(f):',
        '    try:',
        '        return f()',
        '    except OSError as e:',
        '        return errno.errorcode[e.errno]',
        's = socket.socket()',
        'print(err(lambda: s.bind(("127.0.0.1", 80))))',
        's = socket.socket()',
        'print(err(lambda: s.bind(("127.0.0.1", 8080))))',
        'u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        'u.connect(("10.96.0.10", 80))',
        'print("%s:%d" % u.getpeername())',
        'u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)',
        'print(err(lambda: u6.connect(("::1", 443))))',
      ].join('\n');
      const r = spawnSync('sh', ['-c', `echo $$ > ${cg}/cgroup.procs; exec python3 -c '${py}'`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const kernel = r.stdout.trim().split('\n');

      const errName = (retval: number) => (retval === 0 ? 'None' : retval === -13 ? 'EACCES' : retval === -1 ? 'EPERM' : String(retval));
      const b80 = runner.runSockAddr('guard_bind4', sockAddrState('bind4', { userIp4: ip('127.0.0.1'), userPort: 80 }));
      const b8080 = runner.runSockAddr('guard_bind4', sockAddrState('bind4', { userIp4: ip('127.0.0.1'), userPort: 8080 }));
      const conn = runner.runSockAddr('svc_connect4', sockAddrState('connect4', { userIp4: ip('10.96.0.10'), userPort: 80 }));
      const peer = runner.runSockAddr('svc_getpeername4', sockAddrState('getpeername4', { userIp4: conn.addr.userIp4, userPort: conn.addr.userPort }));
      const v6 = sockAddrState('connect6', { userPort: 443 });
      v6.userIp6[15] = 1;
      v6.sk.type = SOCK_DGRAM;
      const c6 = runner.runSockAddr('svc_connect6', v6);
      expect(kernel).toEqual([
        errName(b80.outcome!.retval),
        errName(b8080.outcome!.retval),
        `${dotted(peer.addr.userIp4)}:${peer.addr.userPort}`,
        errName(c6.outcome!.retval),
      ]);
      expect(kernel).toEqual(['EACCES', 'None', '10.96.0.10:80', 'EPERM']);
    } finally {
      for (const [hook, prog] of attach) spawnSync('bpftool', ['cgroup', 'detach', cg, hook, 'pinned', `${pin}/${prog}`]);
      rmSync(pin, { recursive: true, force: true });
      try {
        rmdirSync(cg);
      } catch {
        // a process may still be leaving it
      }
    }
  });
});
