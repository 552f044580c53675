// bpfbed exec: run raw bytecode the way uBPF's ubpf_test and the bpf_conformance plugins do:
// r1 = a copy of the memory, r2 = its length, print r0 in hex.
import type { Command } from 'commander';
import { RawProgram } from '../../vm/exec.js';
import { DEFAULT_INSN_BUDGET } from '../../vm/types.js';
import { decodeBytes, hex64, parseHex, readInput, UsageError, type ByteFormat } from '../io.js';
import { parseCount } from '../options.js';

interface ExecOptions {
  mem?: string;
  memHex?: string;
  raw?: boolean;
  hex?: boolean;
  repeat: string;
  budget: string;
  json?: boolean;
}

export function registerExec(program: Command): void {
  program
    .command('exec')
    .description('run raw BPF bytecode: r1 = memory, r2 = its length; prints r0 in hex')
    .argument('<file>', "bytecode file ('-' for stdin), raw 8-byte instructions or hex text")
    .option('--mem <file>', "memory passed in r1 (raw bytes or hex text; '-' for stdin)")
    .option('--mem-hex <hex>', 'memory as hex on the command line (as bpf_conformance plugins take it)')
    .option('--raw', 'read FILE and --mem as raw bytes')
    .option('--hex', 'read FILE and --mem as hex text')
    .option('--repeat <n>', 'run N times (time per run is reported with --json)', '1')
    .option('--budget <n>', 'instruction budget per run', String(DEFAULT_INSN_BUDGET))
    .option('--json', 'print a JSON object: r0, instructions executed, time per run')
    .addHelpText(
      'after',
      `
Examples:
  $ printf 'b7 00 00 00 2a 00 00 00 95 00 00 00 00 00 00 00' | bpfbed exec - --hex
  0x2a
  $ bpfbed exec prog.bin --mem packet.bin --json

Exit status: 0 when the program ran to exit, 1 when it faulted, 2 on bad input.`,
    )
    .action(async (file: string, opts: ExecOptions) => {
      process.exitCode = await runExec(file, opts);
    });
}

async function runExec(file: string, opts: ExecOptions): Promise<number> {
  if (opts.raw && opts.hex) throw new UsageError('--raw and --hex exclude each other');
  if (opts.mem !== undefined && opts.memHex !== undefined) throw new UsageError('--mem and --mem-hex exclude each other');
  if (file === '-' && opts.mem === '-') throw new UsageError('the program and --mem cannot both come from stdin');
  const format: ByteFormat = opts.raw ? 'raw' : opts.hex ? 'hex' : 'auto';
  const code = decodeBytes(readInput(file), format, file);
  if (code.length === 0) throw new UsageError(`${file}: no instructions`);
  if (code.length % 8 !== 0) throw new UsageError(`${file}: ${code.length} bytes is not a whole number of 8-byte instructions`);
  const mem =
    opts.memHex !== undefined
      ? parseHex(opts.memHex, '--mem-hex')
      : opts.mem !== undefined
        ? decodeBytes(readInput(opts.mem), format, opts.mem)
        : new Uint8Array(0);
  const repeat = parseCount(opts.repeat, '--repeat');
  const budget = parseCount(opts.budget, '--budget');

  const program = await RawProgram.load(code);
  let result = program.run(mem, { budget });
  // The first run warms the VM up; the rest are timed.
  const started = performance.now();
  for (let i = 1; i < repeat; i++) result = program.run(mem, { budget });
  const nsPerRun = repeat > 1 ? ((performance.now() - started) * 1e6) / (repeat - 1) : undefined;

  if (opts.json) {
    console.log(
      JSON.stringify({
        r0: hex64(result.r0),
        insnCount: result.insnCount,
        ...(nsPerRun !== undefined ? { nsPerRun: Math.round(nsPerRun) } : {}),
        ...(result.fault ? { fault: { code: result.fault.code, insnIndex: result.fault.insnIndex, message: result.fault.message } } : {}),
      }),
    );
  } else if (result.fault) {
    console.error(`bpfbed exec: ${result.fault.message}`);
  } else {
    console.log(hex64(result.r0));
  }
  return result.fault ? 1 : 0;
}
