// Matchers for vitest (or any expect with .extend) that read like the checks a datapath test
// makes:
//
//   import { expect } from 'vitest';
//   import { bpfbedMatchers } from 'bpfbed/testing';
//   expect.extend(bpfbedMatchers);
//   expect(bed.runSkb('nodeport', skb)).toHaveVerdict('TC_ACT_REDIRECT');
//   expect(result).toHavePacketField('ip.dst', '10.0.1.5');
//   expect(bed.typedMap('ct')).toHaveMapEntry({ saddr: '10.0.0.1', sport: 51234 }, { state: 1 });
//
// Browser-safe: nothing here imports vitest itself.
import { decodePacket, getField } from '../packet/decode.js';
import type { TypedMap } from '../typed/typed-map.js';
import type { TypedValue } from '../typed/typed-value.js';

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

type WithVerdict = { verdict: string | { name: string } };

function verdictOf(received: unknown): string | undefined {
  const v = (received as WithVerdict | undefined)?.verdict;
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof v.name === 'string') return v.name;
  return undefined;
}

/** The packet bytes of a run result (skb / xdp state, a scenario's output) or the bytes themselves. */
function packetOf(received: unknown): Uint8Array | undefined {
  if (received instanceof Uint8Array) return received;
  const r = received as { skb?: { data: Uint8Array }; xdp?: { data: Uint8Array }; data?: Uint8Array } | undefined;
  return r?.skb?.data ?? r?.xdp?.data ?? (r?.data instanceof Uint8Array ? r.data : undefined);
}

export const bpfbedMatchers = {
  /** The run ended with this verdict (TC_ACT_*, TCX_*, XDP_*, or a socket filter's DROP/ACCEPT). */
  toHaveVerdict(received: unknown, expected: string): MatcherResult {
    const got = verdictOf(received);
    if (got === undefined) return { pass: false, message: () => 'expected a run result with a verdict' };
    const fault = (received as { fault?: { message: string } }).fault;
    return {
      pass: got === expected,
      message: () => `expected verdict ${expected}, got ${got}${fault ? ` (the run faulted: ${fault.message})` : ''}`,
    };
  },

  /**
   * A decoded field of the packet has this value: its display form ('10.0.1.5', 'SYN,ACK') or its
   * number. Field names as Wireshark's (ip.dst, tcp.dstport, udp.checksum, vxlan.vni).
   */
  toHavePacketField(received: unknown, field: string, expected: string | number): MatcherResult {
    const bytes = packetOf(received);
    if (!bytes) return { pass: false, message: () => 'expected a packet (bytes or a run result with one)' };
    const f = getField(decodePacket(bytes), field);
    if (!f) return { pass: false, message: () => `the packet has no field ${field}` };
    const pass = typeof expected === 'number' ? f.value === expected : f.display === expected || String(f.value) === expected;
    return { pass, message: () => `expected ${field} ${expected}, got ${f.display}` };
  },

  /** A typed map holds an entry for `key` whose value has (at least) the given fields. */
  toHaveMapEntry(received: unknown, key: TypedValue, value?: TypedValue): MatcherResult {
    const map = received as TypedMap;
    if (typeof map?.diff !== 'function') return { pass: false, message: () => 'expected a TypedMap (testbed.typedMap(name))' };
    const present = map.get(key) !== undefined;
    if (value === undefined) return { pass: present, message: () => `expected ${map.name} ${present ? 'not ' : ''}to hold key ${JSON.stringify(key)}` };
    const diffs = present ? map.diff(key, value) : [`no entry for key ${JSON.stringify(key)}`];
    return { pass: diffs.length === 0, message: () => (diffs.length ? `${map.name}: ${diffs.join('; ')}` : `expected ${map.name}[${JSON.stringify(key)}] not to match`) };
  },
};

/** Type declarations for `expect.extend(bpfbedMatchers)` in vitest. */
export interface BpfbedMatchers<R = unknown> {
  toHaveVerdict(expected: string): R;
  toHavePacketField(field: string, expected: string | number): R;
  toHaveMapEntry(key: TypedValue, value?: TypedValue): R;
}
