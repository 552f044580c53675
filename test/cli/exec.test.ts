import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'bpfbed-exec-'));
const file = (name: string, data: string | Uint8Array) => {
  const path = join(dir, name);
  writeFileSync(path, data);
  return path;
};

// mov r0, 42; exit
const RET_42 = 'b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00';
// r0 = *(u32 *)(r1 + 0); r0 += r2; exit  — reads the memory and adds its length
const LOAD_PLUS_LEN = '61 10 00 00 00 00 00 00 0f 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00';

describe('bpfbed exec', () => {
  it('prints r0 in hex for a hex program', async () => {
    const res = await runCli('exec', file('ret42.hex', RET_42), '--hex');
    expect(res).toMatchObject({ code: 0, stdout: '0x2a' });
  });

  it('reads raw bytecode and detects hex text without a flag', async () => {
    const raw = Uint8Array.from(RET_42.split(' ').map((b) => parseInt(b, 16)));
    expect((await runCli('exec', file('ret42.bin', raw))).stdout).toBe('0x2a');
    expect((await runCli('exec', file('ret42.txt', RET_42 + '\n'))).stdout).toBe('0x2a');
  });

  it('passes memory in r1 and its length in r2', async () => {
    const res = await runCli('exec', file('load.hex', LOAD_PLUS_LEN), '--hex', '--mem-hex', '10 00 00 00 ff');
    expect(res.stdout).toBe('0x15'); // 0x10 + 5 bytes
    const viaFile = await runCli('exec', file('load2.hex', LOAD_PLUS_LEN), '--mem', file('mem.bin', Uint8Array.of(1, 0, 0, 0)));
    expect(viaFile.stdout).toBe('0x5');
  });

  it('reports instructions executed and time per run as JSON', async () => {
    const res = await runCli('exec', file('ret42b.hex', RET_42), '--json', '--repeat', '3');
    const json = JSON.parse(res.stdout);
    expect(json).toMatchObject({ r0: '0x2a', insnCount: 2 });
    expect(json.nsPerRun).toBeGreaterThan(0);
  });

  it('exits 1 with the fault when the program reads outside its memory', async () => {
    const res = await runCli('exec', file('oob.hex', LOAD_PLUS_LEN), '--mem-hex', '01 02');
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/read_oob[\s\S]*insn 0: r0 = \*\(u32 \*\)\(r1 \+ 0x0\)[\s\S]*mem \[/);
  });

  it('exits 2 on input that is not a whole number of instructions', async () => {
    const res = await runCli('exec', file('short.hex', 'b7 00 00'), '--hex');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/not a whole number of 8-byte instructions/);
  });

  it('exits 2 and names the instruction when the program does not validate', async () => {
    // exit missing: mov r0, 1 falls off the end
    const res = await runCli('exec', file('falls.hex', 'b7 00 00 00 01 00 00 00'), '--hex');
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/instruction 0|insn 0|fall/i);
  });

  it('has --help', async () => {
    const res = await runCli('exec', '--help');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/--mem <file>/);
  });
});
