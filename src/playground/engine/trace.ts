// An execution trace for people: instructions with the registers after each, grouped by the C
// line they belong to (BTF line info, as `bpfbed run --trace` prints it: consecutive
// instructions of the same line form one group). A fault's instruction does not complete, so
// the VM does not record it; it is appended, with the registers it saw, so the fault's C line
// ends the trace.
import { formatInsn } from '../../asm/disasm.js';
import { helperName } from '../../helpers/names.js';
import { sourceLineLookup } from '../../inspect.js';
import type { LoadedProgram, Testbed } from '../../testbed/testbed.js';
import { describeInsn } from '../../vm/fault.js';
import type { Fault, TraceEntry } from '../../vm/types.js';
import type { TraceGroup, TraceRow } from '../protocol.js';

const hex = (v: bigint): string => `0x${BigInt.asUintN(64, v).toString(16)}`;

export function disasmAt(prog: LoadedProgram, index: number): string {
  try {
    return formatInsn(prog.spec.insns, index, { helperName });
  } catch {
    return describeInsn(prog.spec.insns, index);
  }
}

export function groupTrace(bed: Testbed, trace: readonly TraceEntry[], fault?: Fault): TraceGroup[] {
  const byId = new Map(bed.programs.map((p) => [p.progId, p]));
  // One line table per program (Testbed#sourceLine rebuilds it on every call).
  const lookups = new Map<number, ReturnType<typeof sourceLineLookup>>();
  const lineOf = (prog: LoadedProgram, insnIndex: number) => {
    let lookup = lookups.get(prog.progId);
    if (!lookup) lookups.set(prog.progId, (lookup = sourceLineLookup(prog.spec)));
    return lookup(insnIndex);
  };
  const groups: TraceGroup[] = [];
  let currentKey: string | undefined;
  const add = (progId: number, insnIndex: number, regs: readonly bigint[], isFault: boolean) => {
    const prog = byId.get(progId);
    if (!prog) return;
    const src = lineOf(prog, insnIndex);
    const key = src ? `${prog.name}|${src.file}:${src.line}` : `${prog.name}|`;
    if (key !== currentKey || groups.length === 0) {
      groups.push(src ? { line: { file: src.file, line: src.line, column: src.column, text: src.text }, entries: [] } : { entries: [] });
      currentKey = key;
    }
    const row: TraceRow = { pc: insnIndex, disasm: disasmAt(prog, insnIndex), regs: regs.map(hex) };
    if (byId.size > 1) row.program = prog.name;
    if (isFault) row.fault = true;
    groups[groups.length - 1].entries.push(row);
  };
  for (const t of trace) add(t.progId, t.insnIndex, t.regs, false);
  if (fault) add(fault.progId, fault.insnIndex, trace.at(-1)?.regs ?? [], true);
  return groups;
}
