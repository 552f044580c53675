// What an object holds, in the two forms tools want: a plain summary (for `bpfbed inspect`, JSON
// and the playground) and a program's disassembly with its C source lines (for `bpfbed disasm`).
import { disassemble } from './asm/disasm.js';
import { helperName } from './helpers/names.js';
import type { LineInfo, ObjectSpec, ProgramSpec } from './loader/spec.js';

export interface ObjectSummary {
  name: string;
  license: string;
  kernVersion: number;
  btf: boolean;
  lineInfo: boolean;
  programs: {
    name: string;
    section: string;
    type: string;
    attachType?: string;
    /** Instruction slots of the linked program (lddw counts two, as in the kernel). */
    insns: number;
    /** Subprograms linked in after the program. */
    subprograms: string[];
  }[];
  maps: {
    name: string;
    type: string;
    keySize: number;
    valueSize: number;
    maxEntries: number;
    flags: number;
    section: string;
    globalData: boolean;
    readonly: boolean;
  }[];
}

export function describeObject(spec: ObjectSpec): ObjectSummary {
  return {
    name: spec.name,
    license: spec.license,
    kernVersion: spec.kernVersion,
    btf: spec.btf !== undefined,
    lineInfo: spec.programs.some((p) => p.lineInfo.length > 0),
    programs: spec.programs.map((p) => ({
      name: p.name,
      section: p.section,
      type: p.type,
      ...(p.expectedAttachType ? { attachType: p.expectedAttachType.name } : {}),
      insns: p.insns.length,
      subprograms: p.functions.slice(1).map((f) => f.name),
    })),
    maps: spec.maps.map((m) => ({
      name: m.name,
      type: m.typeName,
      keySize: m.keySize,
      valueSize: m.valueSize,
      maxEntries: m.maxEntries,
      flags: m.flags,
      section: m.section,
      globalData: m.origin === 'global' || m.origin === 'kconfig',
      readonly: m.readonly,
    })),
  };
}

/** The C source line of each instruction that starts one, from BTF line info. */
export function sourceLineLookup(prog: ProgramSpec): (insnIndex: number) => LineInfo | undefined {
  const byIndex = new Map<number, LineInfo>();
  for (const li of prog.lineInfo) byIndex.set(li.insnIndex, li);
  // Line info marks where a line starts; instructions after it belong to it until the next one.
  const starts = [...byIndex.keys()].sort((a, b) => a - b);
  return (insnIndex) => {
    let lo = 0;
    let hi = starts.length - 1;
    let found: number | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= insnIndex) {
        found = starts[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found === undefined ? undefined : byIndex.get(found);
  };
}

export interface DisassemblyOptions {
  /** Interleave the C source lines (default true). */
  source?: boolean;
  rawBytes?: boolean;
  /** Name helpers and maps instead of objdump's numbers (default true). */
  names?: boolean;
}

export function disassembleProgram(spec: ObjectSpec, prog: ProgramSpec, opts: DisassemblyOptions = {}): string[] {
  const names = opts.names ?? true;
  const symbols = new Map(prog.functions.map((f) => [f.start, f.name] as const));
  const lineAt = sourceLineLookup(prog);
  return disassemble(prog.insns, {
    symbols,
    rawBytes: opts.rawBytes,
    helperName: names ? helperName : undefined,
    mapName: names ? (index) => spec.maps[index]?.name : undefined,
    sourceLine: opts.source === false ? undefined : (i) => {
      const li = lineAt(i);
      return li && { file: li.file, line: li.line, text: li.text.trim() };
    },
  });
}
