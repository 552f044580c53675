// The bpfbed command line. Each command lives in its own module under commands/.
import { Command, CommanderError } from 'commander';
import { registerDisasm } from './commands/disasm.js';
import { registerExample } from './commands/example.js';
import { registerExec } from './commands/exec.js';
import { registerInspect } from './commands/inspect.js';
import { registerRun } from './commands/run.js';
import { UsageError } from './io.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1; // the program faulted, or a check did not hold
export const EXIT_USAGE = 2; // bad input or bad usage

export function buildCli(): Command {
  const program = new Command()
    .name('bpfbed')
    .description('Run real eBPF programs without root: a BPF VM in WebAssembly with the kernel around it emulated.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerInspect(program);
  registerDisasm(program);
  registerExec(program);
  registerRun(program);
  registerExample(program);
  for (const command of program.commands) command.exitOverride();
  return program;
}

/** Runs the CLI; resolves to the exit status instead of exiting, so tests can call it. */
export async function main(argv: readonly string[]): Promise<number> {
  process.exitCode = undefined;
  try {
    await buildCli().parseAsync([...argv]);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with exit code 0; parse errors were already printed.
      return err.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const message = err instanceof Error ? err.message : String(err);
    console.error(`bpfbed: ${message}`);
    return err instanceof UsageError || isInputError(err) ? EXIT_USAGE : EXIT_FAILED;
  }
}

/** Errors about what the user gave us (a broken object, an invalid program) are input errors. */
function isInputError(err: unknown): boolean {
  return err instanceof Error && ['ObjectLoadError', 'ProgramLoadError', 'AssembleError', 'ScenarioError', 'ScenarioRunError', 'EnvironmentError', 'TypedValueError', 'MapDefinitionError', 'LinkError'].includes(err.name);
}
