// Every packet scenario in fixtures/scenarios, run in the kernel (BPF_PROG_TEST_RUN, packet by
// packet, maps kept between packets) and in bpfbed: the same verdict and the same bytes for every
// packet, and the same map contents at the end. Skipped, saying why, without root and BPF.
//
// Scenarios whose environment has routes or neighbours run in the kernel inside a network
// namespace built from that environment (src/node/parity/netns.ts), so bpf_fib_lookup sees the
// same world. Map fields that hold the clock or randomness are compared by the rule the
// scenario declares in `parity:` (src/scenario/parity.ts); a scenario that declares nothing for
// a conntrack map still gets the former hard-coded rule (LEGACY_PARITY_RULES).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { comparePacketScenario } from '../../src/node/parity/packet-scenario.js';
import { Workspace } from '../../src/node/parity/workspace.js';
import { parseScenario } from '../../src/scenario/parse.js';

const dir = join(import.meta.dirname, '../../fixtures/scenarios');
const files = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .filter((f) => parseScenario(readFileSync(join(dir, f), 'utf8'), f).input !== undefined);
const kernel = kernelAvailable();
if (!kernel.ok) console.log(`scenario parity: skipped (${kernel.why})`);

describe.skipIf(!kernel.ok)('packet scenarios agree with the kernel', () => {
  let ws: Workspace | undefined;
  afterAll(() => ws?.dispose());

  it.each(files)('%s: verdicts, output bytes and maps', async (file) => {
    ws ??= new Workspace();
    const path = join(dir, file);
    const scenario = parseScenario(readFileSync(path, 'utf8'), file);
    const item = await comparePacketScenario(scenario, path, file, ws);
    expect(item.status, item.note).not.toBe('not-compared');
    expect(item.counts.packets).toBeGreaterThan(0);
    expect(item.counts.bytes).toBeGreaterThan(0);
    expect(item.mismatches).toEqual([]);
  });

  it('a parity rule a map breaks is reported, not skipped', async () => {
    ws ??= new Workspace();
    const path = join(dir, 'kpr-local.yaml');
    const scenario = parseScenario(readFileSync(path, 'utf8'), 'kpr-local.yaml');
    // a TCP connection that saw its reply lives 6 h; claim 1 s and both sides must break it
    scenario.parity = [{ rule: 'clock-deadline', map: 'ct4', field: 'expires_ns', since: 'created_ns', lifetimes: [{ seconds: 1 }], slackSeconds: 0 }];
    const item = await comparePacketScenario(scenario, path, 'kpr-local.yaml (wrong rule)', ws);
    expect(item.status).toBe('mismatch');
    expect(item.mismatches.some((m) => m.startsWith('kernel: ct4: expires_ns - created_ns'))).toBe(true);
    expect(item.mismatches.some((m) => m.startsWith('bpfbed: ct4: expires_ns - created_ns'))).toBe(true);
  });

  it('compares the context fields every test run copies back, and the metadata reaches the kernel', async () => {
    ws ??= new Workspace();
    const path = join(dir, 'parity-ctx.yaml');
    const scenario = parseScenario(readFileSync(path, 'utf8'), 'parity-ctx.yaml');
    const item = await comparePacketScenario(scenario, path, 'parity-ctx.yaml', ws);
    expect(item.mismatches).toEqual([]);
    // 13 __sk_buff fields per packet (convert_skb_to___skb)
    expect(item.counts.contextFields).toBe(13 * item.counts.packets);
    // metadata BPF_PROG_TEST_RUN refuses in ctx_in reaches bpfbed's pipeline only, and the report says so
    scenario.input!.packets = [{ packet: 2, mark: 0x200, tcIndex: 1 }];
    const noted = await comparePacketScenario(scenario, path, 'parity-ctx.yaml (tc_index)', ws);
    expect(noted.note).toMatch(/metadata tcIndex: BPF_PROG_TEST_RUN refuses them in ctx_in/);
  });

  it('a random SNAT port must be the one its packet carries, on each side', async () => {
    ws ??= new Workspace();
    const path = join(dir, 'parity-snat-collision.yaml');
    const scenario = parseScenario(readFileSync(path, 'utf8'), 'parity-snat-collision.yaml');
    const item = await comparePacketScenario(scenario, path, 'parity-snat-collision.yaml', ws);
    expect(item.mismatches).toEqual([]);
    // the SYN and its retransmission carry the random port
    expect(item.compared).toMatch(/2 packets compared with the kernel's linked tcp\.srcport/);
    // without the packet links, the random port (bytes 34-35) differs by value in the packets
    scenario.parity = scenario.parity!.filter((r) => r.rule !== 'same-in-both');
    const unlinked = await comparePacketScenario(scenario, path, 'parity-snat-collision.yaml (unlinked)', ws);
    expect(unlinked.mismatches.some((m) => /^packet 2 \(eth0\): output bytes differ at byte 3[45]:/.test(m))).toBe(true);
    // linked to the wrong field, each side's entry matches no packet
    scenario.parity!.push({ rule: 'same-in-both', map: 'snat4', when: { dir: 1 }, packet: { 'value.to_port': 'tcp.dstport' } });
    const wrong = await comparePacketScenario(scenario, path, 'parity-snat-collision.yaml (wrong link)', ws);
    expect(wrong.mismatches.some((m) => /^kernel: snat4: entry with value\.to_port=\d+: no output packet of the run has tcp\.dstport = value\.to_port/.test(m))).toBe(true);
    expect(wrong.mismatches.some((m) => /^bpfbed: snat4: entry with value\.to_port=\d+: no output packet/.test(m))).toBe(true);
  });
});

