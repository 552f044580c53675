import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CtxRunner } from '../../src/ctx/runner.js';
import { skbFromFrame } from '../../src/ctx/skb.js';
import { readCapture } from '../../src/pcap/read.js';
import { bpfbedMatchers, type BpfbedMatchers } from '../../src/testing/matchers.js';

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any, @typescript-eslint/no-empty-object-type
  interface Assertion<T = any> extends BpfbedMatchers<T> {}
}
expect.extend(bpfbedMatchers);

const root = join(import.meta.dirname, '../..');

describe('vitest matchers', () => {
  it('read like the checks of a datapath test', async () => {
    const runner = await CtxRunner.fromObject(new Uint8Array(readFileSync(join(root, 'fixtures/obj/examples/dnat.o'))), { name: 'dnat.o' });
    runner.bed.typedMap('services').set({ vip: '10.0.0.2', port: 8080, proto: 6 }, { addr: '10.0.1.5', port: 80, ifindex: 3 });
    const syn = readCapture(new Uint8Array(readFileSync(join(root, 'fixtures/examples/packets.pcap')))).packets[8].data;
    const res = runner.runSkb('dnat_ingress', skbFromFrame(syn));
    expect(res).toHaveVerdict('TC_ACT_REDIRECT');
    expect(res).not.toHaveVerdict('TC_ACT_OK');
    expect(res).toHavePacketField('ip.dst', '10.0.1.5');
    expect(res).toHavePacketField('tcp.dstport', 80);
    expect(syn).toHavePacketField('ip.dst', '10.0.0.2');
    expect(runner.bed.typedMap('stats')).toHaveMapEntry(1, 1n);
    expect(runner.bed.typedMap('services')).not.toHaveMapEntry({ vip: '10.0.0.3', port: 8080, proto: 6 });
  });

  it('explain what differs when they fail', () => {
    expect(() => expect({ verdict: { name: 'TC_ACT_OK' } }).toHaveVerdict('TC_ACT_SHOT')).toThrow('expected verdict TC_ACT_SHOT, got TC_ACT_OK');
  });
});
