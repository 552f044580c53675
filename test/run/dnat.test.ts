import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PcapWriter } from '../../src/pcap/write.js';
import { readCapture } from '../../src/pcap/read.js';
import { parseScenario } from '../../src/scenario/parse.js';
import { runScenario } from '../../src/run/scenario-run.js';
import { runCli } from '../cli/run-cli.js';

const SCENARIO = join(import.meta.dirname, '../../fixtures/scenarios/dnat.yaml');
const base = dirname(SCENARIO);
const read = (p: string) => new Uint8Array(readFileSync(join(base, p)));
const scenario = () => parseScenario(readFileSync(SCENARIO, 'utf8'), 'dnat.yaml');
const tshark = spawnSync('tshark', ['--version']).status === 0;

/** A TCP SYN from 10.0.0.1:40000 to 10.0.0.2:port, with correct checksums. */
function tcpSyn(port: number): Uint8Array {
  const f = new Uint8Array(54);
  f.set([0x02, 0, 0, 0, 0x0b, 1, 0x02, 0, 0, 0, 0x0a, 1, 0x08, 0x00], 0);
  f.set([0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], 14);
  const tcp = [0x9c, 0x40, port >> 8, port & 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0, 0, 0, 0];
  f.set(tcp, 34);
  const sum = (bytes: number[], init = 0) => {
    let s = init;
    for (let i = 0; i < bytes.length; i += 2) s += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
    while (s > 0xffff) s = (s & 0xffff) + (s >> 16);
    return s;
  };
  const ipc = ~sum([...f.subarray(14, 34)]) & 0xffff;
  f[24] = ipc >> 8;
  f[25] = ipc & 0xff;
  const pseudo = [10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 20];
  const tc = ~sum([...f.subarray(34, 54)], sum(pseudo)) & 0xffff;
  f[50] = tc >> 8;
  f[51] = tc & 0xff;
  return f;
}

describe('running a scenario: the tc DNAT on a real capture', () => {
  it('reproduces the kernel: verdicts, the bytes leaving eth1 and the stack, and the counters', async () => {
    const { report, outputs } = await runScenario(scenario(), read);
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    // the expected captures were written from the kernel's data_out (dnat/expected/kernel.json)
    const kernelEth1 = readCapture(read('dnat/expected/eth1.pcap')).packets.map((p) => [...p.data]);
    expect(outputs.packets('eth1').map((p) => [...p.data])).toEqual(kernelEth1);
    expect(report.outputs).toEqual([
      { name: 'eth1', packets: 6 },
      { name: 'stack', packets: 16 },
    ]);
  });

  it('says field by field what the program changed', async () => {
    const { report } = await runScenario(scenario(), read);
    const syn = report.packets.find((p) => p.packet === 9)!;
    expect(syn).toMatchObject({ device: 'eth0', output: 'eth1', verdict: 'TC_ACT_REDIRECT' });
    expect(syn.hops[0]).toMatchObject({ program: 'dnat_ingress', attach: 'tc/ingress', redirect: { kind: 'redirect', ifindex: 3, device: 'eth1' } });
    expect(syn.changes).toEqual(expect.arrayContaining(['ip.dst 10.0.0.2 -> 10.0.1.5', 'tcp.dstport 8080 -> 80']));
    expect(syn.changes.some((c) => /^ip\.checksum 0x[0-9a-f]+ -> 0x[0-9a-f]+ \(good\)$/.test(c))).toBe(true);
  });

  it.skipIf(!tshark)('writes output captures that Wireshark reads with every checksum good', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfbed-run-'));
    const res = await runCli('run', '--scenario', SCENARIO, '--out', dir);
    expect(res.code).toBe(0);
    const fields = spawnSync('tshark', ['-r', join(dir, 'eth1.pcap'), '-o', 'ip.check_checksum:TRUE', '-o', 'tcp.check_checksum:TRUE', '-T', 'fields', '-e', 'ip.dst', '-e', 'tcp.dstport', '-e', 'ip.checksum.status', '-e', 'tcp.checksum.status'], { encoding: 'utf8' });
    const rows = fields.stdout.trim().split('\n');
    expect(rows).toHaveLength(6);
    for (const row of rows) expect(row.split('\t')).toEqual(['10.0.1.5', '80', '1', '1']);
  });

  it('drops telnet with TC_ACT_SHOT and records its printk line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfbed-telnet-'));
    const w = new PcapWriter();
    w.add(tcpSyn(23), 1_000_000_000n);
    w.add(tcpSyn(8080), 1_001_000_000n);
    writeFileSync(join(dir, 'telnet.pcap'), w.bytes());
    const s = scenario();
    s.input = { pcap: join(dir, 'telnet.pcap'), device: 'eth0' };
    s.expect = { verdicts: ['TC_ACT_SHOT', { packet: 2, verdict: 'TC_ACT_REDIRECT', output: 'eth1' }], printk: ['dropping telnet from 10.0.0.1'] };
    const { report } = await runScenario(s, (p) => new Uint8Array(readFileSync(p.startsWith('/') ? p : join(base, p))));
    expect(report.mismatches).toEqual([]);
    expect(report.packets[0]).toMatchObject({ output: 'drop', reason: 'TC_ACT_SHOT' });
  });
});

describe('bpfbed run', () => {
  it('exits 0 and prints a table when everything matches', async () => {
    const res = await runCli('run', '--scenario', SCENARIO);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/9\s+10\.0\.0\.1:33752 → 10\.0\.0\.2:8080 TCP \[SYN\].*TC_ACT_REDIRECT\s+eth1\s+.*ip\.dst 10\.0\.0\.2 -> 10\.0\.1\.5/);
    expect(res.stdout).toMatch(/22 packets, \d+ instructions; outputs: eth1 6, stack 16\nok$/);
  });

  it('exits 1 and names the packet when an expectation does not hold', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfbed-mismatch-'));
    const text = readFileSync(SCENARIO, 'utf8').replace('{ key: 1, value: 6 }', '{ key: 1, value: 7 }').replace(/\.\.\//g, `${base}/../`).replaceAll('dnat/expected', `${base}/dnat/expected`);
    writeFileSync(join(dir, 'bad.yaml'), text);
    const res = await runCli('run', '--scenario', join(dir, 'bad.yaml'), '--junit', join(dir, 'junit.xml'));
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/stats\[1\]: 7 expected, 6 found/);
    expect(readFileSync(join(dir, 'junit.xml'), 'utf8')).toMatch(/<failure message="stats\[1\]: 7 expected, 6 found"/);
  });

  it('compares outputs with --expect and shows the first differing fields', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfbed-expect-'));
    // expect eth1 to get the packets unchanged: every redirected packet then differs in ip.dst
    // (details read expected -> actual)
    const w = new PcapWriter();
    for (const p of readCapture(read('../examples/packets.pcap')).packets.filter((_, i) => [8, 10, 11, 14, 16, 18].includes(i))) w.add(p.data, p.timestampNs);
    writeFileSync(join(dir, 'eth1.pcap'), w.bytes());
    const res = await runCli('run', '--scenario', SCENARIO, '--expect', dir, '--json');
    expect(res.code).toBe(1);
    const report = JSON.parse(res.stdout);
    const first = report.mismatches.find((m: { message: string }) => m.message.startsWith('eth1 packet 1'));
    expect(first.details).toEqual(expect.arrayContaining(['ip.dst 10.0.0.2 -> 10.0.1.5', 'tcp.dstport 8080 -> 80']));
  });

  it('runs an object and program without a scenario, with a default device', async () => {
    const res = await runCli('run', join(base, '../obj/examples/dnat.o'), '--prog', 'dnat_ingress', '--pcap', join(base, '../examples/packets.pcap'), '--json');
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.packets).toHaveLength(22);
    expect(report.packets.every((p: { verdict: string }) => p.verdict === 'TC_ACT_OK')).toBe(true); // no services: all pass
  });

  it('exits 2 naming the problem for a program that is not there or a missing capture', async () => {
    const obj = join(base, '../obj/examples/dnat.o');
    const noProg = await runCli('run', obj, '--prog', 'nope', '--pcap', join(base, '../examples/packets.pcap'));
    expect(noProg.code).toBe(2);
    expect(noProg.stderr).toMatch(/no program named 'nope' \(programs: dnat_ingress\)/);
    const noPcap = await runCli('run', obj, '--prog', 'dnat_ingress', '--pcap', '/nonexistent.pcap');
    expect(noPcap.code).toBe(2);
    expect(noPcap.stderr).toMatch(/cannot read .*nonexistent\.pcap: ENOENT/);
  });

  it('a truncated capture: the packets before the damage are run and written, the error names packet and byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfbed-truncated-'));
    const res = await runCli('run', join(base, '../obj/examples/dnat.o'), '--prog', 'dnat_ingress', '--pcap', join(base, '../pcap/truncated-data.pcap'), '--out', dir);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(/truncated-data\.pcap: packet 3 at byte 154: truncated packet data/);
    expect(readCapture(new Uint8Array(readFileSync(join(dir, 'stack.pcap')))).packets).toHaveLength(2);
  });

  it('--trace prints the instructions with registers and C lines for one packet', async () => {
    const res = await runCli('run', '--scenario', SCENARIO, '--trace', '9');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/packet 9, dnat_ingress:/);
    expect(res.stdout).toMatch(/; struct backend \*be = bpf_map_lookup_elem\(&services, &key\);/);
    expect(res.stdout).toMatch(/call bpf_map_lookup_elem|call 0x1/);
    expect(existsSync(SCENARIO)).toBe(true);
  });
});
