// bpfbed reproduces, without root, what the kernel showed a real application in
// fixtures/scenarios/sock-clusterip.yaml (expectations produced by the kernel parity runner).
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/scenario/parse.js';
import { compareSeen, runSocketScenario } from '../../src/scenario/socket-run.js';

const path = join(import.meta.dirname, '../../fixtures/scenarios/sock-clusterip.yaml');
const load = () => parseScenario(readFileSync(path, 'utf8'), 'sock-clusterip.yaml');
const read = (p: string) => new Uint8Array(readFileSync(resolve(dirname(path), p)));

describe('socket scenarios in bpfbed', () => {
  it('sock-clusterip.yaml: every call shows what the kernel showed (backends by one-of-backends)', async () => {
    const { report } = await runSocketScenario(load(), read);
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    const seen = (socket: string, call: string) => report.calls.find((c) => c.socket === socket && c.call === call)!.seen;
    // the behaviour itself, not merely agreement: the VIP is what the application sees
    expect(seen('echo4', 'getpeername')).toEqual({ peer: '10.96.50.5:7' });
    expect(seen('dns-mapped', 'recvmsg')).toEqual({ from: '[::ffff:10.96.0.10]:53' });
    expect(seen('no-backend', 'connect 10.96.0.30:80')).toEqual({ error: 'EHOSTUNREACH' });
    expect(['10.0.1.20:7007', '10.0.2.21:7007']).toContain(seen('echo4', 'connect 10.96.50.5:7').reached);
  });

  it('an expectation the run does not meet is reported with its call', async () => {
    const scenario = load();
    const call = scenario.sockets!.calls.find((c) => c.socket === 'echo4' && c.getpeername)!;
    call.expect = { peer: '10.96.50.5:8' };
    const { report } = await runSocketScenario(scenario, read);
    expect(report.ok).toBe(false);
    expect(report.mismatches).toEqual(['call 3 (echo4: getpeername): peer: expected 10.96.50.5:8, got 10.96.50.5:7']);
  });

  it('a reached server outside the declared backends is a mismatch, one inside is not', () => {
    const rules = load().parity;
    expect(compareSeen(rules, '10.96.0.10:53', { reached: '10.0.1.5:53' }, { reached: '10.0.2.6:53' })).toEqual([]);
    expect(compareSeen(rules, '10.96.0.10:53', { reached: '10.0.1.5:53' }, { reached: '10.0.9.9:53' })).toEqual([
      'reached 10.0.9.9:53, not one of the backends of 10.96.0.10:53 (10.0.1.5:53, 10.0.2.6:53)',
    ]);
    // without a rule, reached is compared by value
    expect(compareSeen([], '10.96.0.10:53', { reached: '10.0.1.5:53' }, { reached: '10.0.2.6:53' })).toEqual(['reached: expected 10.0.1.5:53, got 10.0.2.6:53']);
    expect(compareSeen([], undefined, { peer: '10.96.0.10:53' }, { error: 'ENOTCONN' })).toEqual(['peer: expected 10.96.0.10:53, got error ENOTCONN']);
  });
});
