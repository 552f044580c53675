// Every packet scenario in fixtures/scenarios, run in the kernel (BPF_PROG_TEST_RUN, packet by
// packet, maps kept between packets) and in bpfbed: the same verdict and the same bytes for every
// packet, and the same map contents at the end. Skipped, saying why, without root and BPF.
//
// Scenarios whose environment has routes or neighbours run in the kernel inside a network
// namespace built from that environment (scripts/kpr-netns.mjs), so bpf_fib_lookup sees the
// same world. Map fields that hold the clock (a connection's deadline) cannot be equal between a
// kernel run in real time and bpfbed following the capture's timestamps: VOLATILE_FIELDS lists
// them, and they are compared by a rule both sides must satisfy instead of by value.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { runScenarioInKernel } from '../../src/node/kernel-scenario.js';
import { toEthernetFrame } from '../../src/pcap/ethernet.js';
import { readCapture } from '../../src/pcap/read.js';
import { prepareScenario, runScenario } from '../../src/run/scenario-run.js';
import { parseScenario } from '../../src/scenario/parse.js';

const dir = join(import.meta.dirname, '../../fixtures/scenarios');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const kernel = kernelAvailable();
if (!kernel.ok) console.log(`scenario parity: skipped (${kernel.why})`);

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
const unhex = (h: string) => Uint8Array.from(h.match(/../g) ?? [], (x) => parseInt(x, 16));

type Decoded = Record<string, unknown>;
interface VolatileFields {
  /** Value fields (BTF names) left out of the comparison by value. */
  fields: string[];
  /** What each side's entry must satisfy instead; a message when it does not. */
  rule: (value: Decoded, key: Decoded) => string | undefined;
}

const NSEC = 1_000_000_000n;
/** bpf/kpr/ct.h: the lifetime a CT entry's flags (CT_F_*) and protocol give it. */
function ctLifetime(proto: number, flags: number): bigint {
  if (proto !== 6) return 60n * NSEC;
  if (flags & 2) return 10n * NSEC;
  if (flags & 1) return 21600n * NSEC;
  return 60n * NSEC;
}

/** Per map: fields that depend on the clock, and the rule they follow (bpf/kpr/ct.h ct_touch). */
const VOLATILE_FIELDS: Record<string, VolatileFields> = {
  ct4: {
    fields: ['expires_ns', 'created_ns'],
    // the deadline is the last packet's time plus the lifetime the flags say; the last packet
    // came at most a minute after the first in any fixture
    rule: (v, k) => {
      const life = BigInt(v.expires_ns as bigint | number) - BigInt(v.created_ns as bigint | number);
      const want = ctLifetime(Number(k.proto), Number(v.flags));
      return life >= want && life <= want + 60n * NSEC ? undefined : `expires_ns - created_ns = ${life}, expected ${want} (+ at most 60 s)`;
    },
  },
};

/** Runs the scenario in the kernel inside a namespace built from its environment. */
function runInNetns(path: string): ReturnType<typeof runScenarioInKernel> {
  const root = join(import.meta.dirname, '../..');
  const res = spawnSync('node', [join(root, 'scripts/kpr-netns.mjs'), path, '--', 'node', join(root, 'scripts/kpr-kernel-json.mjs'), path], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (res.status !== 0) throw new Error(`kernel run in a namespace failed: ${res.stderr.trim().split('\n').slice(-3).join(' ')}`);
  const out = JSON.parse(res.stdout) as { packets: { packet: number; retval: number; dataOut: string }[]; maps: Record<string, { key: string; value: string }[]> };
  return {
    packets: out.packets.map((p) => ({ packet: p.packet, retval: p.retval, dataOut: unhex(p.dataOut) })),
    maps: Object.fromEntries(Object.entries(out.maps).map(([m, es]) => [m, es.map((e) => ({ key: unhex(e.key), value: unhex(e.value) }))])),
  };
}

describe.skipIf(!kernel.ok)('scenarios agree with the kernel', () => {
  it.each(files)('%s', async (file) => {
    const path = join(dir, file);
    const base = dirname(path);
    const read = (p: string) => new Uint8Array(readFileSync(resolve(base, p)));
    const scenario = parseScenario(readFileSync(path, 'utf8'), file);
    expect(scenario.programs).toHaveLength(1);
    const fresh = await prepareScenario(scenario, read);
    const { report, runner, outputs } = await runScenario(scenario, read);
    const frames = readCapture(read(scenario.input!.pcap)).packets.map((p) => ({ packet: p.index, data: toEthernetFrame(p) }));
    const needsNetns = (scenario.environment?.routes?.length ?? 0) > 0 || (scenario.environment?.neighbours?.length ?? 0) > 0;
    const k = needsNetns ? runInNetns(path) : runScenarioInKernel(resolve(base, scenario.object), scenario.programs[0].program, fresh, frames);
    for (const kp of k.packets) {
      const ours = report.packets.find((p) => p.packet === kp.packet)!;
      const hop = ours.hops[0];
      // the verdict number: TC_ACT_* / XDP_* by value
      expect(hop.verdict, `packet ${kp.packet}`).toBe(verdictName(scenario.programs[0].attach, kp.retval));
    }
    // bytes: what bpfbed let leave (or pass up) equals the kernel's data_out for that packet
    let compared = 0;
    for (const name of outputs.names().filter((n) => n !== 'drop')) {
      for (const p of outputs.packets(name)) {
        const kp = k.packets.find((x) => x.packet === p.packet)!;
        expect(hex(p.data), `packet ${p.packet} (${name})`).toBe(hex(kp.dataOut));
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0);
    // maps: every non-global map holds the same entries
    for (const [name, entries] of Object.entries(k.maps)) {
      if (name.includes('.')) continue;
      const volatile = VOLATILE_FIELDS[name];
      if (volatile) {
        const typed = runner.bed.typedMap(name);
        const byRule = (es: { key: Uint8Array; value: Uint8Array }[], side: string) =>
          es
            .map((e) => {
              const key = typed.decodeKey(e.key) as Decoded;
              const value = { ...(typed.decodeValue(e.value) as Decoded) };
              const broken = volatile.rule(value, key);
              expect(broken, `map ${name} (${side}) ${hex(e.key)}`).toBeUndefined();
              for (const f of volatile.fields) delete value[f];
              return `${hex(e.key)}=${JSON.stringify(value, (_, x) => (typeof x === 'bigint' ? x.toString() : x))}`;
            })
            .sort();
        expect(byRule(runner.bed.map(name).dump().entries, 'bpfbed'), `map ${name}`).toEqual(byRule(entries, 'kernel'));
        continue;
      }
      const mine = runner.bed.map(name).dump().entries.map((e) => `${hex(e.key)}=${hex(e.value)}`).sort();
      const theirs = entries.map((e) => `${hex(e.key)}=${hex(e.value)}`).sort();
      expect(mine, `map ${name}`).toEqual(theirs);
    }
  });
});

function verdictName(attach: string, retval: number): string {
  const tc = ['TC_ACT_OK', 'TC_ACT_RECLASSIFY', 'TC_ACT_SHOT', 'TC_ACT_PIPE', 'TC_ACT_STOLEN', 'TC_ACT_QUEUED', 'TC_ACT_REPEAT', 'TC_ACT_REDIRECT', 'TC_ACT_TRAP'];
  const xdp = ['XDP_ABORTED', 'XDP_DROP', 'XDP_PASS', 'XDP_TX', 'XDP_REDIRECT'];
  if (attach === 'xdp') return xdp[retval] ?? 'XDP_ABORTED';
  return (retval | 0) === -1 ? 'TC_ACT_UNSPEC' : (tc[retval] ?? `TC_ACT_${retval | 0}`);
}
