// IPv4 fragments on the tc NodePort path (kpr-fragments.yaml, a real 3000-byte UDP datagram the
// client's stack fragmented; expected outputs from the kernel): every fragment, the first with
// the UDP header included, goes to the stack untouched and leaves no CT or NAT state (see the
// scenario for how this compares with Cilium).
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../src/run/scenario-run.js';
import { readCapture } from '../../src/pcap/read.js';
import { loadScenario } from './nodeport-node.js';

describe('IPv4 fragments of a NodePort datagram (kpr-fragments.yaml, real capture)', () => {
  it('are real fragments: one datagram, offsets 0, 1480, 2960, more-fragments on all but the last', () => {
    const { scenario, read } = loadScenario('kpr-fragments.yaml');
    const frames = readCapture(read(scenario.input!.pcap)).packets.map((p) => p.data);
    const frag = (f: Uint8Array) => ({ id: (f[18] << 8) | f[19], more: (f[20] & 0x20) !== 0, offset: (((f[20] & 0x1f) << 8) | f[21]) * 8 });
    expect(frames.slice(0, 3).map(frag)).toEqual([
      { id: frag(frames[0]).id, more: true, offset: 0 },
      { id: frag(frames[0]).id, more: true, offset: 1480 },
      { id: frag(frames[0]).id, more: false, offset: 2960 },
    ]);
  });

  it('all go to the stack byte for byte, counted as passed, with no connection or NAT state', async () => {
    const { scenario, read } = loadScenario('kpr-fragments.yaml');
    const { report, outputs, runner } = await runScenario(scenario, read);
    expect(report.mismatches).toEqual([]);
    const input = readCapture(read(scenario.input!.pcap)).packets.map((p) => p.data);
    expect(report.packets.map((p) => p.verdict)).toEqual(['TC_ACT_OK', 'TC_ACT_OK', 'TC_ACT_OK', 'TC_ACT_OK']);
    for (const p of outputs.packets('stack')) expect(p.data).toEqual(input[p.packet - 1]);
    expect(runner.bed.typedMap('np_stats').get(0)).toBe(4n); // NP_PASS
    expect(runner.bed.map('ct4').entries()).toEqual([]);
    expect(runner.bed.map('snat4').entries()).toEqual([]);
  });
});
