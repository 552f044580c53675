import { describe, expect, it } from 'vitest';
import { applyParity, backendsFor, mapHasParityRules, normalizeEndpoint } from '../../src/scenario/parity.js';
import type { ParityRule } from '../../src/scenario/types.js';
import { LEGACY_PARITY_RULES } from '../../src/node/parity/maps.js';

const S = 1_000_000_000n;
// bpf/kpr/ct.h ct_lifetime as a rule: the one the parity runner applies to ct4 when a scenario declares none
const ct: ParityRule = LEGACY_PARITY_RULES.find((r) => 'map' in r && r.map === 'ct4')!;
const ctEntry = (proto: number, flags: number, created: bigint, expires: bigint) => ({
  key: { saddr: '10.0.0.1', sport: 40000, proto },
  value: { flags, created_ns: created, expires_ns: expires, packets: 6n },
});

describe('parity rules', () => {
  it('clock-deadline: the first lifetime whose conditions match decides, within the slack', () => {
    // an established TCP connection (SEEN_REPLY) lives 6 h after its last packet, 5 s after the first
    expect(applyParity([ct], 'ct4', ctEntry(6, 1, 100n * S, 105n * S + 21600n * S)).problems).toEqual([]);
    // closing (flags 3 has CLOSING) wins over SEEN_REPLY: 10 s
    expect(applyParity([ct], 'ct4', ctEntry(6, 3, 100n * S, 110n * S)).problems).toEqual([]);
    expect(applyParity([ct], 'ct4', ctEntry(6, 3, 100n * S, 100n * S + 21600n * S)).problems).toEqual([
      `ct4: expires_ns - created_ns = ${21600n * S} ns, expected ${10n * S} ns (+ at most 60 s)`,
    ]);
    // UDP: 60 s whatever the flags
    expect(applyParity([ct], 'ct4', ctEntry(17, 1, 0n, 59n * S)).problems).toHaveLength(1);
  });

  it('clock-deadline replaces both clock fields, so entries of different runs compare equal', () => {
    const kernel = applyParity([ct], 'ct4', ctEntry(6, 1, 9_000n * S, 9_000n * S + 21600n * S));
    const bpfbed = applyParity([ct], 'ct4', ctEntry(6, 1, 1n * S, 3n * S + 21600n * S));
    expect(kernel.value).toEqual(bpfbed.value);
    expect(kernel.value).toMatchObject({ created_ns: '<clock>', expires_ns: '<clock>', packets: 6n });
  });

  it('in-range: a value outside its range is named', () => {
    const rule: ParityRule = { rule: 'in-range', map: 'snat4', field: 'port', min: 32768, max: 60999 };
    expect(applyParity([rule], 'snat4', { key: { addr: '10.0.0.2' }, value: { port: 40001 } })).toMatchObject({ problems: [], value: { port: '<32768..60999>' } });
    expect(applyParity([rule], 'snat4', { key: {}, value: { port: 80 } }).problems).toEqual(['snat4: port = 80, outside 32768..60999']);
  });

  it('rules for other maps leave an entry alone', () => {
    const entry = ctEntry(6, 1, 0n, 1n);
    expect(applyParity([ct], 'snat4', entry)).toEqual({ ...entry, problems: [], links: [] });
    expect(mapHasParityRules([ct], 'ct4')).toBe(true);
    expect(mapHasParityRules([ct], 'ct6')).toBe(false);
    expect(mapHasParityRules(undefined, 'ct4')).toBe(false);
  });

  it('same-in-both: an entry keyed by a socket cookie repeats what that socket reached, in key or value as named', () => {
    const rule: ParityRule = { rule: 'same-in-both', map: 'lb4_reverse_sk', socket: { 'key.cookie': 'cookie', 'key.address': 'reached.addr', 'key.port': 'reached.port' } };
    const entry = (cookie: bigint, address: string, port: number) => ({ key: { cookie, address, port }, value: { address: '10.96.0.10', port: 53 } });
    const kernel = applyParity([rule], 'lb4_reverse_sk', entry(5021n, '10.0.2.6', 53), { sockets: [{ name: 'dns', cookie: 5021n, reached: { addr: '10.0.2.6', port: 53 } }] });
    const bpfbed = applyParity([rule], 'lb4_reverse_sk', entry(3n, '10.0.1.5', 53), { sockets: [{ name: 'dns', cookie: 3n, reached: { addr: '10.0.1.5', port: 53 } }] });
    expect(kernel.problems).toEqual([]);
    expect(bpfbed.problems).toEqual([]);
    expect(kernel.key).toEqual(bpfbed.key);
    expect(kernel.key).toEqual({ cookie: '<dns.cookie>', address: '<dns.reached.addr>', port: '<dns.reached.port>' });
    // the value's VIP is not one of the named key fields: it stays and is compared by value
    expect(kernel.value).toEqual({ address: '10.96.0.10', port: 53 });
    // an entry no socket of the run made
    const stray = applyParity([rule], 'lb4_reverse_sk', entry(7n, '10.0.1.5', 53), { sockets: [{ name: 'dns', cookie: 3n, reached: { addr: '10.0.1.5', port: 53 } }] });
    expect(stray.problems[0]).toMatch(/^lb4_reverse_sk: entry with key\.cookie=7, key\.address=10\.0\.1\.5, key\.port=53: no socket of the run has/);
  });

  it('one-of-backends: finds the backends of a service, IPv4-mapped addresses as IPv4', () => {
    const rules: ParityRule[] = [{ rule: 'one-of-backends', service: '10.96.0.10:53', backends: ['10.0.1.5:53', '[FD00::5]:53'] }];
    expect(backendsFor(rules, '10.96.0.10:53')).toEqual(['10.0.1.5:53', '[fd00::5]:53']);
    expect(backendsFor(rules, '[::ffff:10.96.0.10]:53')).toEqual(['10.0.1.5:53', '[fd00::5]:53']);
    expect(backendsFor(rules, '10.96.0.11:53')).toBeUndefined();
    expect(normalizeEndpoint('[::ffff:10.0.0.1]:80')).toBe('10.0.0.1:80');
  });

  it('same-in-both with packet: a NAT entry holds the port its own side\'s output packet carries, linked to that packet', () => {
    const rule: ParityRule = { rule: 'same-in-both', map: 'snat4', when: { dir: 1 }, packet: { 'value.to_port': 'tcp.srcport' } };
    const entry = (port: number, dir = 1) => ({ key: { saddr: '10.0.0.7', sport: 40000, dir }, value: { to_addr: '10.0.0.2', to_port: port } });
    const packets = (port: number) => [
      { packet: 1, fields: { 'tcp.srcport': 46471 } },
      { packet: 3, fields: { 'tcp.srcport': port } },
    ];
    const kernel = applyParity([rule], 'snat4', entry(51234), { packets: packets(51234) });
    const bpfbed = applyParity([rule], 'snat4', entry(33001), { packets: packets(33001) });
    expect([kernel.problems, bpfbed.problems]).toEqual([[], []]);
    expect(kernel.value).toEqual({ to_addr: '10.0.0.2', to_port: '<packet 3 tcp.srcport>' });
    expect(bpfbed.value).toEqual(kernel.value);
    expect(kernel.links).toEqual([{ packet: 3, field: 'tcp.srcport', value: 51234 }]);
    // a port no output packet carries
    expect(applyParity([rule], 'snat4', entry(40404), { packets: packets(33001) }).problems).toEqual([
      'snat4: entry with value.to_port=40404: no output packet of the run has tcp.srcport = value.to_port',
    ]);
    // `when` leaves other entries (the reply direction) alone
    const reply = applyParity([rule], 'snat4', entry(40404, 2), { packets: packets(33001) });
    expect([reply.problems, reply.links, (reply.value as { to_port: unknown }).to_port]).toEqual([[], [], 40404]);
  });

  it('two rules can cover one field: in-range and same-in-both both read the entry as it was', () => {
    const rules: ParityRule[] = [
      { rule: 'in-range', map: 'snat4', when: { dir: 1 }, field: 'to_port', min: 32768, max: 60999 },
      { rule: 'same-in-both', map: 'snat4', when: { dir: 1 }, packet: { to_port: 'tcp.srcport' } },
    ];
    const got = applyParity(rules, 'snat4', { key: { dir: 1 }, value: { to_port: 61000 } }, { packets: [{ packet: 2, fields: { 'tcp.srcport': 61000 } }] });
    expect(got.problems).toEqual(['snat4: to_port = 61000, outside 32768..60999']);
    expect(got.value).toEqual({ to_port: '<packet 2 tcp.srcport>' });
    expect(applyParity(rules, 'snat4', { key: { dir: 2 }, value: { to_port: 61000 } }).problems).toEqual([]);
  });
});

