// cgroup socket address hooks: a ClusterIP seen from the application at every step (connect,
// sendmsg, recvmsg, getpeername), bind's return values and bpf_set_retval, IPv6 wide loads, and
// the socket cookie behind ctx->sk. sock-addr-kernel.test.ts attaches the same programs to a
// cgroup of the running kernel.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { SOCK_ADDR, sockAddrAccessTable, sockAddrOutcome, sockAddrState } from '../../src/ctx/sock-addr.js';

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
