// cgroup socket address hooks: a ClusterIP seen from the application at every step (connect,
// sendmsg, recvmsg, getpeername), bind's return values and bpf_set_retval, IPv6 wide loads, and
// the socket cookie behind ctx->sk.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, rmdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { SOCK_ADDR, SOCK_DGRAM, sockAddrAccessTable, sockAddrOutcome, sockAddrState } from '../../src/ctx/sock-addr.js';
import { kernelOracleAvailable } from './kernel-oracle.js';

const obj = fileURLToPath(new URL('../../fixtures/obj/ctx/sockaddr_ctx.o', import.meta.url));
const ip = (s: string) => new Uint8Array(s.split('.').map(Number));
const dotted = (b: Uint8Array) => [...b].join('.');

let runner: CtxRunner;
beforeAll(async () => {
  runner = await CtxRunner.fromObject(new Uint8Array(readFileSync(obj)), { name: 'sockaddr_ctx' });
});

describe('cgroup/connect4 and friends keep the service address visible to the application', () => {
  it('connect4 to the ClusterIP goes to the backend', () => {
    const res = runner.runSockAddr('svc_connect4', sockAddrState('connect4', { userIp4: ip('10.96.0.10'), userPort: 80 }));
    expect(res.fault).toBeUndefined();
    expect(res.outcome).toEqual({ retval: 0, allowed: true, bindNoCapNetBindService: false, ignored: false });
    expect(dotted(res.addr.userIp4)).toBe('10.0.1.5');
    expect(res.addr.userPort).toBe(8080);
  });

  it('connect4 to another address is left alone', () => {
    const res = runner.runSockAddr('svc_connect4', sockAddrState('connect4', { userIp4: ip('10.96.0.11'), userPort: 80 }));
    expect(dotted(res.addr.userIp4)).toBe('10.96.0.11');
    expect(res.addr.userPort).toBe(80);
  });

  it('sendmsg4 translates, recvmsg4 and getpeername4 translate back', () => {
    const sent = runner.runSockAddr('svc_sendmsg4', sockAddrState('sendmsg4', { userIp4: ip('10.96.0.10'), userPort: 80 }));
    expect([dotted(sent.addr.userIp4), sent.addr.userPort]).toEqual(['10.0.1.5', 8080]);
    const recv = runner.runSockAddr('svc_recvmsg4', sockAddrState('recvmsg4', { userIp4: ip('10.0.1.5'), userPort: 8080 }));
    expect([dotted(recv.addr.userIp4), recv.addr.userPort]).toEqual(['10.96.0.10', 80]);
    expect(recv.outcome?.ignored).toBe(true);
    const peer = runner.runSockAddr('svc_getpeername4', sockAddrState('getpeername4', { userIp4: ip('10.0.1.5'), userPort: 8080 }));
    expect([dotted(peer.addr.userIp4), peer.addr.userPort]).toEqual(['10.96.0.10', 80]);
  });

  it('the socket keeps one cookie across hooks, and bpf_get_socket_cookie returns it', () => {
    const state = sockAddrState('connect4', { userIp4: ip('10.96.0.10'), userPort: 80 });
    runner.runSockAddr('svc_connect4', state);
    const cookie = state.sk.cookie;
    expect(cookie).toBeGreaterThan(0n);
    runner.runSockAddr('svc_connect4', state);
    expect(state.sk.cookie).toBe(cookie);
    const bss = runner.bed.maps.find((m) => m.name.endsWith('.bss'))!;
    const value = bss.read(new Uint8Array(4))!;
    expect(new DataView(value.buffer, value.byteOffset).getBigUint64(0, true)).toBe(cookie);
  });

  it('a program runs only at its own hook', () => {
    expect(() => runner.runSockAddr('svc_connect4', sockAddrState('sendmsg4'))).toThrow(/runs at cgroup\/connect4, but the socket operation is sendmsg4/);
  });
});

describe('bind4 return values', () => {
  it('bpf_set_retval(-EACCES) and return 0 reject the bind with EACCES', () => {
    const res = runner.runSockAddr('guard_bind4', sockAddrState('bind4', { userPort: 80 }));
    expect(res.outcome).toMatchObject({ retval: -13, allowed: false });
  });
  it('return 3 allows and skips the CAP_NET_BIND_SERVICE check', () => {
    const res = runner.runSockAddr('guard_bind4', sockAddrState('bind4', { userPort: 8080 }));
    expect(res.outcome).toMatchObject({ retval: 0, allowed: true, bindNoCapNetBindService: true });
  });
});

describe('IPv6 hooks', () => {
  it('connect6 reads user_ip6 with an 8-byte load and rewrites it', () => {
    const ip6 = new Uint8Array(16);
    ip6[15] = 1;
    const res = runner.runSockAddr('svc_connect6', sockAddrState('connect6', { userIp6: ip6, userPort: 443 }));
    expect(res.fault).toBeUndefined();
    expect([...res.addr.userIp6]).toEqual([0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    expect(res.outcome?.allowed).toBe(true); // ctx->type is SOCK_STREAM for a connect6 socket
  });
});

describe('return value rules (check_return_code, bpf_prog_run_array_cg)', () => {
  it('0 without set_retval is -EPERM', () => {
    expect(sockAddrOutcome('connect4', 0n, 0)).toMatchObject({ retval: -1, allowed: false });
  });
  it('1 with an error from set_retval still fails with that error', () => {
    expect(sockAddrOutcome('connect4', 1n, -111)).toMatchObject({ retval: -111, allowed: false });
  });
  it('values outside the verifier range are refused', () => {
    expect(() => sockAddrOutcome('recvmsg4', 0n, 0)).toThrow(/only accepts programs that return 1/);
    expect(() => sockAddrOutcome('connect4', 2n, 0)).toThrow(/0\.\.1/);
  });
  it('msg_src_ip4 is accessible at sendmsg4 only, user_ip6 8-byte loads at 8-byte offsets only', () => {
    expect(sockAddrAccessTable('sendmsg4').readSizes[SOCK_ADDR.msg_src_ip4]).toBe(7);
    expect(sockAddrAccessTable('connect4').readSizes[SOCK_ADDR.msg_src_ip4]).toBe(0);
    const t6 = sockAddrAccessTable('connect6');
    expect(t6.readSizes[SOCK_ADDR.user_ip6] & 8).toBe(8);
    expect(t6.readSizes[SOCK_ADDR.user_ip6 + 4] & 8).toBe(0);
    expect(t6.writeSizes[SOCK_ADDR.user_ip6 + 8] & 8).toBe(8);
  });
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
