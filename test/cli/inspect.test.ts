import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const obj = (name: string) => join(import.meta.dirname, '../../fixtures/obj', name);

describe('bpfbed inspect', () => {
  it('lists programs with section, type and linked instruction count', async () => {
    const res = await runCli('inspect', obj('examples/packet_summary.o'));
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/ipv4_checksum\s+syscall\s+syscall\s+-\s+43/);
    expect(res.stdout).toMatch(/flow_hash\s+syscall\s+syscall/);
  });

  it('lists global data sections as maps with their access', async () => {
    const res = await runCli('inspect', obj('testdata/globals.o'));
    expect(res.stdout).toMatch(/\.rodata\s+globals\.rodata\s+\d+\s+read-only/);
    expect(res.stdout).toMatch(/\.bss\s+globals\.bss\s+\d+\s+read-write/);
    expect(res.stdout).toMatch(/\.data\.custom/);
  });

  it('lists maps with type, sizes, max entries and flags', async () => {
    const res = await runCli('inspect', obj('testdata/maps.o'));
    expect(res.stdout).toMatch(/lru\s+lru_hash\s+4\s+8\s+128/);
    expect(res.stdout).toMatch(/routes\s+lpm_trie\s+8\s+4\s+64\s+0x1/);
  });

  it('prints JSON with --json', async () => {
    const res = await runCli('inspect', obj('examples/packet_summary.o'), '--json');
    const json = JSON.parse(res.stdout);
    expect(json.programs.map((p: { name: string }) => p.name)).toEqual(['ipv4_checksum', 'flow_hash']);
    expect(json.programs[0].subprograms).toEqual(['fold_csum']);
    expect(json.maps.find((m: { section: string }) => m.section === '.rodata')).toMatchObject({ globalData: true, readonly: true });
  });

  it('exits 2 naming the file when the object is not an ELF file', async () => {
    const res = await runCli('inspect', join(import.meta.dirname, '../../package.json'));
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/package\.json/);
  });

  it('exits 2 when the file does not exist', async () => {
    const res = await runCli('inspect', '/nonexistent/x.o');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/cannot read \/nonexistent\/x\.o: ENOENT/);
  });
});

describe('bpfbed disasm', () => {
  it('prints the linked program in llvm-objdump syntax with C lines and the subprogram appended', async () => {
    const res = await runCli('disasm', obj('examples/packet_summary.o'), '--prog', 'ipv4_checksum');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/<ipv4_checksum>:/);
    expect(res.stdout).toMatch(/; packets_seen\+\+;/);
    expect(res.stdout).toMatch(/r2 = \*\(u32 \*\)\(r1 \+ 0x0\)/);
    expect(res.stdout).toMatch(/<fold_csum>:/);
    expect(res.stdout).toMatch(/call fold_csum|call -?0x[0-9a-f]+/);
  });

  it('names maps and helpers unless --no-names', async () => {
    const named = await runCli('disasm', obj('examples/packet_summary.o'), '--prog', 'flow_hash');
    expect(named.stdout).toMatch(/map_value\[packet_s\.bss\]/);
    const plain = await runCli('disasm', obj('examples/packet_summary.o'), '--prog', 'flow_hash', '--no-names');
    expect(plain.stdout).not.toMatch(/map_value\[/);
  });

  it('exits 2 listing the programs when --prog names none', async () => {
    const res = await runCli('disasm', obj('examples/packet_summary.o'), '--prog', 'nope');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/no program named 'nope' \(programs: ipv4_checksum, flow_hash\)/);
  });
});

describe('bpfbed', () => {
  it('has --help on every command', async () => {
    for (const cmd of ['inspect', 'disasm', 'exec', 'example']) {
      const res = await runCli(cmd, '--help');
      expect(res.code, cmd).toBe(0);
      expect(res.stdout, cmd).toMatch(/Usage: bpfbed/);
    }
  });

  it('exits 2 on an unknown command', async () => {
    expect((await runCli('frobnicate')).code).toBe(2);
  });
});
