import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('bpfbed example (npm start)', () => {
  it('runs both programs on every bundled packet and the BPF checksum equals the captured one', async () => {
    const res = await runCli('example', '--json');
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout);
    expect(report.packets.length).toBe(22);
    const ipv4 = report.packets.filter((p: { checksumInPacket?: string }) => p.checksumInPacket !== undefined);
    expect(ipv4.length).toBeGreaterThanOrEqual(10);
    for (const p of ipv4) {
      const checksum = p.results.find((r: { program: string }) => r.program === 'ipv4_checksum');
      expect(checksum.r0, `packet ${p.packet}`).toBe(p.checksumInPacket);
    }
    // Programs return 0 for what is not IPv4, and count every run in .bss.
    const other = report.packets.filter((p: { checksumInPacket?: string }) => p.checksumInPacket === undefined);
    for (const p of other) expect(p.results.map((r: { r0: string }) => r.r0)).toEqual(['0x0', '0x0']);
    const bss = report.maps.find((m: { map: string }) => m.map.endsWith('.bss'));
    expect(bss.firstValue).toBe('2c 00 00 00 00 00 00 00'); // 22 packets x 2 programs = 44
    // the tc DNAT scenario matches its kernel-produced outputs; the socket LB shows the VIP
    expect(report.dnat).toMatchObject({ ok: true, outputs: [{ name: 'eth1', packets: 6 }, { name: 'stack', packets: 16 }] });
    // the kube-proxy replacement: NodePort scenarios reproduce the kernel's outputs, and the
    // socket datapath filled from the bundled cluster shows the application only VIPs
    expect(report.nodeport.map((n: { scenario: string; ok: boolean }) => [n.scenario, n.ok])).toEqual([
      ['fixtures/scenarios/kpr-local.yaml', true],
      ['fixtures/scenarios/kpr-remote.yaml', true],
      ['fixtures/scenarios/kpr-no-backend.yaml', true],
      ['fixtures/scenarios/kpr-xdp-remote.yaml', true],
      ['fixtures/scenarios/kpr-v6-remote.yaml', true],
    ]);
    const remoteSyn = report.nodeport[1].packets[0];
    expect(remoteSyn).toMatchObject({ verdict: 'TC_ACT_REDIRECT', output: 'eth0' });
    expect(remoteSyn.changes).toEqual(expect.arrayContaining(['ip.src 10.0.0.1 -> 10.0.0.2', 'ip.dst 10.0.0.2 -> 10.244.1.5']));
    // the same SYN translated at XDP (sent back out with XDP_TX), and an IPv6 SYN DNATed + SNATed
    const xdpSyn = report.nodeport[3].packets[0];
    expect(xdpSyn).toMatchObject({ verdict: 'XDP_TX', output: 'eth0', changes: remoteSyn.changes });
    const v6Syn = report.nodeport[4].packets[0];
    expect(v6Syn).toMatchObject({ verdict: 'TC_ACT_REDIRECT', output: 'eth0' });
    expect(v6Syn.changes.join(' ')).toMatch(/ipv6\.dst \S+ -> \S+/);
    expect(report.sockets.join('\n')).toMatch(/from 10\.96\.0\.10:53[\s\S]*getpeername says 10\.96\.100\.20:80/);
    expect(report.frontends.length).toBeGreaterThan(5);
  });

  it('prints a readable table', async () => {
    const res = await runCli('example');
    expect(res.stdout).toMatch(/ipv4_checksum\s+flow_hash\s+ip\.checksum/);
    expect(res.stdout).toMatch(/TCP \[SYN\]/);
  });
});
