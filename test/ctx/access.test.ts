// Context accesses the kernel's verifier refuses (bpf/ctx/bad/*.c) are faults in bpfbed, with a
// message that names the offset and the allowed sizes (access-kernel.test.ts checks that the
// kernel refuses the same programs).
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { skbFromFrame } from '../../src/ctx/skb.js';
import { sockAddrState } from '../../src/ctx/sock-addr.js';
import { socketFilterSkbFromFrame } from '../../src/ctx/socket-filter.js';
import { xdpFromFrame } from '../../src/ctx/xdp.js';
import { ipv4UdpFrame } from './cases.js';

const dir = fileURLToPath(new URL('../../fixtures/obj/ctx/bad/', import.meta.url));
const objects = readdirSync(dir).filter((f) => f.endsWith('.o')).map((f) => f.slice(0, -2));

/** What each program must fault with: the fault code and a phrase of its message. */
const EXPECT: Record<string, [string, RegExp]> = {
  tc_write_len: ['ctx_write', /write to read-only field at offset 0x0 of __sk_buff/],
  tc_read_family: ['ctx_read', /read of offset 0x58 of __sk_buff, which the program type does not allow/],
  tc_read_data_u16: ['ctx_read', /read of 2 bytes at offset 0x4c of __sk_buff \(allowed sizes: 4\)/],
  tc_write_mark_u16: ['ctx_write', /write of 2 bytes at offset 0x8 of __sk_buff \(allowed sizes: 4\)/],
  tc_read_flow_keys: ['ctx_read', /offset 0x90 of __sk_buff/],
  tc_past_data_end: ['read_oob', /./],
  xdp_write_ifindex: ['ctx_write', /offset 0xc of xdp_md/],
  xdp_read_egress: ['ctx_read', /offset 0x14 of xdp_md, which the program type does not allow/],
  xdp_narrow_ifindex: ['ctx_read', /read of 1 bytes at offset 0xc of xdp_md/],
  sf_read_data: ['ctx_read', /offset 0x4c of __sk_buff, which the program type does not allow/],
  sf_write_mark: ['ctx_write', /write to read-only field at offset 0x8 of __sk_buff/],
  sa_read_ip6: ['ctx_read', /offset 0x8 of bpf_sock_addr, which the program type does not allow/],
  sa_write_family: ['ctx_write', /write to read-only field at offset 0x0 of bpf_sock_addr/],
  sa_read_msg_src: ['ctx_read', /offset 0x28 of bpf_sock_addr/],
  sa_narrow_family: ['ctx_read', /read of 1 bytes at offset 0x1c of bpf_sock_addr/],
};

async function run(name: string) {
  const runner = await CtxRunner.fromObject(new Uint8Array(readFileSync(`${dir}${name}.o`)), { name });
  const prog = runner.bed.program(name).spec;
  if (prog.type === 'sched_cls') return runner.runSkb(name, skbFromFrame(ipv4UdpFrame().slice(0, 16)));
  if (prog.type === 'socket_filter') return runner.runSkb(name, socketFilterSkbFromFrame(ipv4UdpFrame()));
  if (prog.type === 'xdp') return runner.runXdp(name, xdpFromFrame(ipv4UdpFrame()));
  return runner.runSockAddr(name, sockAddrState('connect4'));
}

describe('context accesses the verifier refuses fault', () => {
  it('every bad program has an expectation', () => {
    expect(objects.sort()).toEqual(Object.keys(EXPECT).sort());
  });
  for (const name of objects) {
    it(`${name} faults with ${EXPECT[name]?.[0]}`, async () => {
      const res = await run(name);
      expect(res.fault?.code).toBe(EXPECT[name][0]);
      expect(res.fault?.message).toMatch(EXPECT[name][1]);
    });
  }
});
