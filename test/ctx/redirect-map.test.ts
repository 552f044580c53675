// bpf_redirect_map (XDP) against the kernel's recorded answers for an empty DEVMAP, through a
// host whose map is a DEVMAP stand-in: the helper's own semantics apart from the map type (the
// real DEVMAP, CPUMAP and XSKMAP are in src/maps and test/maps/devmap.test.ts).
import { describe, expect, it } from 'vitest';
import { packetHelpers, type ActiveRun, type PacketHelperHost } from '../../src/helpers/packet-helpers.js';
import type { BpfMap } from '../../src/maps/types.js';
import { Machine } from '../../src/vm/machine.js';
import { XdpRun, xdpFromFrame } from '../../src/ctx/xdp.js';
import { xdpVerdict } from '../../src/ctx/verdicts.js';
import { CASES, ipv4UdpFrame, recordedAnswers } from './cases.js';

const DEVMAP = 14;

async function host(slots: Map<number, unknown>) {
  const machine = await Machine.create();
  const map = { name: 'tx_ports', type: DEVMAP, id: 3, keySize: 4, handle: 0xffff_c900_0000_1000n } as unknown as BpfMap;
  let active: ActiveRun | undefined;
  const h: PacketHelperHost = {
    machine,
    active: () => active,
    mapByHandle: (handle) => (handle === map.handle ? map : undefined),
    redirectTarget: (_m, key) => slots.get(key),
    newSocketCookie: () => 1n,
  };
  const run = new XdpRun(machine, xdpFromFrame(ipv4UdpFrame()), false);
  active = { kind: 'xdp', run, record: { clones: [], retval: 0 } };
  const call = (key: bigint, flags: bigint) => packetHelpers(h).get(51)!({ helperId: 51, args: [map.handle, key, flags, 0n, 0n], progId: 0, insnIndex: 0 });
  return { call, record: () => active!.record };
}

const answers = recordedAnswers();
const kernelRet = (name: string) => {
  expect(CASES.some((c) => c.name === name)).toBe(true);
  return answers[name].retval - 1000;
};

describe('bpf_redirect_map', () => {
  it('an empty slot returns the low two flag bits, as the kernel does', async () => {
    const { call, record } = await host(new Map());
    expect(Number(call(1n, 2n))).toBe(kernelRet('redirect_map on an empty DEVMAP slot returns the low flag bits'));
    expect(record().redirect).toBeUndefined();
  });

  it('BPF_F_BROADCAST redirects even without an entry', async () => {
    const { call, record } = await host(new Map());
    expect(Number(call(1n, 8n))).toBe(kernelRet('redirect_map with BPF_F_BROADCAST redirects'));
    expect(record().redirect).toMatchObject({ kind: 'redirect_map', flags: 8n, map: { name: 'tx_ports', key: 1 } });
  });

  it('an unknown flag gives XDP_ABORTED', async () => {
    const { call } = await host(new Map());
    expect(Number(call(1n, 0x20n))).toBe(kernelRet('redirect_map with an unknown flag is XDP_ABORTED'));
  });

  it('a filled slot gives XDP_REDIRECT and records the target', async () => {
    const { call, record } = await host(new Map([[2, { ifindex: 7 }]]));
    expect(xdpVerdict(call(2n, 0n)).name).toBe('XDP_REDIRECT');
    expect(record().redirect).toMatchObject({ kind: 'redirect_map', ifindex: 2, target: { ifindex: 7 } });
  });
});
