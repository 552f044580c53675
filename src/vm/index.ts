// The BPF virtual machine: public parts.
export { Machine, ProgramLoadError, HelperFault } from './machine.js';
export { execRaw, RawProgram, type ExecRawOptions, type ExecRawResult } from './exec.js';
export { validateProgram, type ValidateOptions, type ValidationProblem } from './validate.js';
export { formatFault, describeInsn, whereRelative, type FaultContext } from './fault.js';
export * from './types.js';
