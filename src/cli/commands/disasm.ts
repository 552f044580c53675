// bpfbed disasm: the linked programs of an object in llvm-objdump syntax, with the C source
// lines from BTF line info interleaved (as `llvm-objdump -d -S` does).
import type { Command } from 'commander';
import { disassembleProgram } from '../../inspect.js';
import { UsageError } from '../io.js';
import { loadObjectFile } from '../object-file.js';

interface DisasmOptions {
  prog?: string;
  source: boolean;
  raw?: boolean;
  names: boolean;
}

export function registerDisasm(program: Command): void {
  program
    .command('disasm')
    .description("disassemble an object's programs, linked as they run (subprograms appended)")
    .argument('<obj>', 'BPF object file')
    .option('--prog <name>', 'only this program')
    .option('--no-source', 'leave out the C source lines')
    .option('--raw', 'show the raw instruction bytes')
    .option('--no-names', "print helper calls and map loads as llvm-objdump does ('call 0x1')")
    .action((obj: string, opts: DisasmOptions) => {
      const spec = loadObjectFile(obj);
      const programs = opts.prog === undefined ? spec.programs : spec.programs.filter((p) => p.name === opts.prog);
      if (programs.length === 0) {
        const names = spec.programs.map((p) => p.name).join(', ') || '(none)';
        throw new UsageError(opts.prog === undefined ? `${obj}: no programs` : `${obj}: no program named '${opts.prog}' (programs: ${names})`);
      }
      const out: string[] = [];
      for (const prog of programs) {
        if (out.length > 0) out.push('');
        out.push(`Disassembly of program ${prog.name} (section ${prog.section}):`, '');
        out.push(...disassembleProgram(spec, prog, { source: opts.source, rawBytes: !!opts.raw, names: opts.names }));
      }
      console.log(out.join('\n'));
    });
}
