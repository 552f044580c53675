// Host helpers given pointers into a BPF-to-BPF subprogram's own stack frame, or its caller's
// (bpf/helpers/subprog_stack.c). The kernel's verifier loads this object (checked with
// `bpftool prog loadall`), so the helpers must accept those pointers; bpfbed used to check them
// against frame 0 only and fault.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { xdpFromFrame } from '../../src/ctx/xdp.js';
import { Environment } from '../../src/env/environment.js';
import { Testbed } from '../../src/testbed/testbed.js';

const object = new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/obj/helpers/subprog_stack.o')));

describe('helpers called from subprograms', () => {
  it('take keys and values on the subprogram own stack frame and on its caller', async () => {
    const bed = await Testbed.fromObject(object, { name: 'subprog_stack.o' });
    expect(bed.typedMap('values').set(2, 7)).toBe(0);
    const res = bed.runWithMemory('subprog_stack', new Uint8Array(8));
    expect(res.fault).toBeUndefined();
    // update_own_frame(1, 41), then lookup_own_frame(1) * 1000 + lookup_callers_frame(&2)
    expect(res.r0).toBe(41_007n);
    expect(bed.typedMap('values').get(1)).toBe(41);
  });

  it('bpf_fib_lookup reads and writes its parameters on a subprogram frame', async () => {
    const environment = Environment.fromSpec({
      devices: [{ name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:02', addrs: ['10.0.0.2/24'] }],
      neighbours: [{ ip: '10.0.0.5', mac: '02:00:00:00:00:05', dev: 'eth0' }],
    });
    const runner = await CtxRunner.fromObject(object, { name: 'subprog_stack.o', environment });
    const frame = new Uint8Array(60);
    const res = runner.runXdp('fib_subprog', xdpFromFrame(frame, { ingressIfindex: 2 }));
    expect(res.fault).toBeUndefined();
    expect(res.verdict.name).toBe('XDP_TX');
  });
});
