// The context kinds whose access tables test/ctx checks against the verifier, offset by offset
// (access-matrix.test.ts with the recorded answers, access-matrix-kernel.test.ts live).
import { fileURLToPath } from 'node:url';
import { SK_BUFF_SIZE, skbAccessTable } from '../../src/ctx/skb.js';
import { BPF_SOCK_ADDR_SIZE, SOCK_ADDR_HOOKS, sockAddrAccessTable, type SockAddrHook } from '../../src/ctx/sock-addr.js';
import { XDP_MD_SIZE, xdpAccessTable } from '../../src/ctx/xdp.js';
import type { CtxAccessTable } from '../../src/vm/types.js';

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

export interface Kind {
  name: string;
  progType: number;
  attach: number;
  size: number;
  table: CtxAccessTable;
}

export const KINDS: Kind[] = [
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
export function allowed(k: Kind): string[] {
  const out: string[] = [];
  for (let off = 0; off < k.size; off++) {
    for (const s of [1, 2, 4, 8]) {
      if (k.table.readSizes[off] & s) out.push(`r ${off} ${s}`);
      if (k.table.writeSizes[off] & s) out.push(`w ${off} ${s}`);
    }
  }
  return out;
}

export const JSON_PATH = fileURLToPath(new URL('./access-matrix.json', import.meta.url));
