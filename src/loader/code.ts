// Code sections: their functions, their relocations, and linking a program with the
// subprograms it reaches (libbpf's bpf_object__add_programs, bpf_program__record_reloc,
// bpf_object__reloc_code and bpf_object__relocate_data).
import { decodeInsns, type Insn } from '../asm/insn.js';
import {
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  INSN_SIZE,
  OP_CALL,
  OP_LDDW,
} from '../asm/opcodes.js';
import {
  R_BPF_64_32,
  R_BPF_64_64,
  R_BPF_64_ABS32,
  R_BPF_64_ABS64,
  R_BPF_64_NODYLD32,
  R_BPF_NONE,
  SHF_EXECINSTR,
  SHN_LORESERVE,
  SHN_UNDEF,
  STT_FUNC,
  STT_SECTION,
  type ElfSection,
} from '../elf/reader.js';
import { fail, symbolLabel, symbolSection, type LoadContext } from './context.js';
import type { CoreRelo, FuncInfo, FunctionRange, LineInfo, MapReference } from './spec.js';

/** enum bpf_core_relo_kind (include/uapi/linux/bpf.h), indexed by value. */
const CORE_RELO_KINDS = [
  'BPF_CORE_FIELD_BYTE_OFFSET',
  'BPF_CORE_FIELD_BYTE_SIZE',
  'BPF_CORE_FIELD_EXISTS',
  'BPF_CORE_FIELD_SIGNED',
  'BPF_CORE_FIELD_LSHIFT_U64',
  'BPF_CORE_FIELD_RSHIFT_U64',
  'BPF_CORE_TYPE_ID_LOCAL',
  'BPF_CORE_TYPE_ID_TARGET',
  'BPF_CORE_TYPE_EXISTS',
  'BPF_CORE_TYPE_SIZE',
  'BPF_CORE_ENUMVAL_EXISTS',
  'BPF_CORE_ENUMVAL_VALUE',
  'BPF_CORE_TYPE_MATCHES',
];

/** One function symbol in a code section. */
export interface BpfFunction {
  name: string;
  section: ElfSection;
  /** First instruction, as an index inside the section. */
  start: number;
  length: number;
}

export interface CodeSection {
  section: ElfSection;
  insns: Insn[];
  functions: BpfFunction[];
  relocs: Map<number, CodeReloc>;
}

export type CodeReloc =
  | { kind: 'call' | 'func'; targetSection: number; targetInsn: number; symbol: string }
  | { kind: 'map' | 'value'; mapIndex: number; offset: number; symbol: string };

/** Decodes a code section and finds its functions (STT_FUNC symbols, sorted by address). */
export function readCodeSection(ctx: LoadContext, section: ElfSection): CodeSection {
  ctx.section = section.name;
  if (section.size % INSN_SIZE !== 0) fail(ctx, `size ${section.size} is not a multiple of ${INSN_SIZE}`);
  const insns = decodeInsns(ctx.elf.data(section));
  const functions: BpfFunction[] = [];
  const syms = ctx.elf.symbols.filter((s) => s.shndx === section.index && s.type === STT_FUNC).sort((a, b) => a.value - b.value);
  for (const sym of syms) {
    if (sym.value % INSN_SIZE !== 0 || sym.size % INSN_SIZE !== 0) {
      fail(ctx, `function ${sym.name}: offset ${sym.value} / size ${sym.size} is not instruction-aligned`);
    }
    const start = sym.value / INSN_SIZE;
    // Symbols without a size (hand-written assembly) run to the next function or the section's end.
    let length = sym.size / INSN_SIZE;
    if (length === 0) {
      const next = syms.find((s) => s.value > sym.value);
      length = (next ? next.value / INSN_SIZE : insns.length) - start;
    }
    if (start + length > insns.length) fail(ctx, `function ${sym.name}: extends beyond the section`);
    const prev = functions[functions.length - 1];
    if (prev && prev.start === start) continue; // an alias of the previous symbol
    if (prev && prev.start + prev.length > start) fail(ctx, `function ${sym.name} overlaps ${prev.name}`);
    functions.push({ name: sym.name, section, start, length });
  }
  // Code without any function symbol (raw assembly): one function named after the section.
  if (functions.length === 0 && insns.length > 0) functions.push({ name: section.name, section, start: 0, length: insns.length });
  return { section, insns, functions, relocs: new Map() };
}

const RELOC_NAMES: Record<number, string> = {
  [R_BPF_64_ABS64]: 'R_BPF_64_ABS64',
  [R_BPF_64_ABS32]: 'R_BPF_64_ABS32',
  [R_BPF_64_NODYLD32]: 'R_BPF_64_NODYLD32',
};

/** libbpf's bpf_program__record_reloc for each relocation of a code section. */
export function collectCodeRelocs(ctx: LoadContext, code: CodeSection, rel: ElfSection): void {
  ctx.section = code.section.name;
  ctx.elf.relocations(rel).forEach((r, i) => {
    const where = `relocation ${i}`;
    if (r.type === R_BPF_NONE) return;
    if (r.type !== R_BPF_64_64 && r.type !== R_BPF_64_32) {
      const name = RELOC_NAMES[r.type];
      fail(ctx, `${where}: ${name ? `${name} is not valid in a code section` : `unknown relocation type ${r.type}`}`);
    }
    if (r.offset % INSN_SIZE !== 0 || r.offset >= code.section.size) fail(ctx, `${where}: invalid offset 0x${r.offset.toString(16)}`);
    const idx = r.offset / INSN_SIZE;
    const insn = code.insns[idx];
    const sym = ctx.elf.symbols[r.symbol];
    const label = symbolLabel(ctx, sym);
    const isCall = insn.opcode === OP_CALL;
    const isLddw = insn.opcode === OP_LDDW;
    if (!isCall && !isLddw) fail(ctx, `${where}: relocation against ${label} on instruction ${idx} (opcode 0x${insn.opcode.toString(16)}), which is neither a call nor lddw`);
    if (isLddw && idx + 1 >= code.insns.length) fail(ctx, `${where}: lddw at instruction ${idx} is truncated`);
    if (sym.shndx === SHN_UNDEF) {
      // A __kconfig extern lives in the .kconfig map (libbpf's RELO_EXTERN_LD64 for EXT_KCFG).
      const off = ctx.kconfig?.offsets.get(sym.index);
      if (isLddw && off !== undefined) {
        code.relocs.set(idx, { kind: 'value', mapIndex: ctx.kconfig!.mapIndex, offset: off, symbol: label });
        return;
      }
      fail(ctx, `${where}: unknown symbol ${label} (extern functions, kfuncs and __ksym are not supported)`);
    }
    if (sym.shndx >= SHN_LORESERVE) fail(ctx, `${where}: relocation against ${label} in special section 0x${sym.shndx.toString(16)}`);
    const target = symbolSection(ctx, sym, where);

    if (isCall) {
      if (insn.src !== BPF_PSEUDO_CALL) fail(ctx, `${where}: call against ${label} is not a BPF-to-BPF call (src ${insn.src})`);
      if ((target.flags & SHF_EXECINSTR) === 0) fail(ctx, `${where}: call against ${label} in non-code section ${target.name}`);
      if (sym.value % INSN_SIZE !== 0) fail(ctx, `${where}: call against ${label} at unaligned offset ${sym.value}`);
      // A global function: st_value is its offset and imm = -1; a static one: a section symbol and imm points at it.
      code.relocs.set(idx, { kind: 'call', targetSection: target.index, targetInsn: sym.value / INSN_SIZE + insn.imm + 1, symbol: label });
      return;
    }
    if ((target.flags & SHF_EXECINSTR) !== 0) {
      // Address of a function (callback for bpf_loop etc.): st_value + imm in bytes.
      if (sym.value % INSN_SIZE !== 0 || insn.imm % INSN_SIZE !== 0) fail(ctx, `${where}: bad function address relocation against ${label}`);
      code.relocs.set(idx, { kind: 'func', targetSection: target.index, targetInsn: (sym.value + insn.imm) / INSN_SIZE, symbol: label });
      return;
    }
    // A map definition (.maps or legacy maps): the symbol's address picks the map.
    const defOffset = sym.type === STT_SECTION ? sym.value + insn.imm : sym.value;
    const mapAt = ctx.placements.findIndex(
      (p, mi) => p.sectionIndex === target.index && ctx.maps[mi].origin !== 'global' && p.offset === defOffset,
    );
    if (mapAt >= 0) {
      code.relocs.set(idx, { kind: 'map', mapIndex: mapAt, offset: 0, symbol: label });
      return;
    }
    // Global data: the section's map, at st_value + the addend clang left in imm.
    const dataAt = ctx.placements.findIndex((p, mi) => p.sectionIndex === target.index && ctx.maps[mi].origin === 'global');
    if (dataAt >= 0) {
      const offset = sym.value + insn.imm;
      if (offset < 0 || offset > ctx.maps[dataAt].valueSize) fail(ctx, `${where}: offset ${offset} of ${label} is outside ${target.name}`);
      code.relocs.set(idx, { kind: 'value', mapIndex: dataAt, offset, symbol: label });
      return;
    }
    fail(ctx, `${where}: ${label} in section ${target.name} is neither a map nor global data`);
  });
}

export interface LinkedProgram {
  insns: Insn[];
  functions: FunctionRange[];
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
  references: MapReference[];
  coreRelos: CoreRelo[];
}

/**
 * Links one program: its own instructions, then each subprogram it reaches appended in
 * depth-first order as libbpf's bpf_object__reloc_code does, calls and function
 * addresses made relative to the linked program, and map / global references rewritten
 * to the fd_array form (BPF_PSEUDO_MAP_IDX / BPF_PSEUDO_MAP_IDX_VALUE).
 */
export function linkProgram(ctx: LoadContext, entry: BpfFunction, code: Map<number, CodeSection>): LinkedProgram {
  const out: LinkedProgram = { insns: [], functions: [], funcInfo: [], lineInfo: [], references: [], coreRelos: [] };
  const placed = new Map<BpfFunction, number>();

  const findFunction = (sectionIndex: number, insn: number, where: string): BpfFunction => {
    const cs = code.get(sectionIndex);
    // Functions are sorted by start and do not overlap: binary search for the last start <= insn.
    let f: BpfFunction | undefined;
    if (cs) {
      let lo = 0;
      let hi = cs.functions.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (cs.functions[mid].start <= insn) {
          f = cs.functions[mid];
          lo = mid + 1;
        } else hi = mid - 1;
      }
    }
    if (!f || insn >= f.start + f.length) {
      fail(ctx, `${where}: target instruction ${insn} of section ${cs?.section.name ?? sectionIndex} is not inside a function`);
    }
    return f;
  };

  // Returns the linked index of `target` (an instruction inside `fn`), appending fn if needed.
  const place = (fn: BpfFunction, target: number): number => {
    let base = placed.get(fn);
    if (base === undefined) base = append(fn);
    return base + (target - fn.start);
  };

  const append = (fn: BpfFunction): number => {
    const cs = code.get(fn.section.index)!;
    const base = out.insns.length;
    placed.set(fn, base);
    ctx.section = fn.section.name;
    out.functions.push({ name: fn.name, start: base, length: fn.length, section: fn.section.name });
    for (let i = 0; i < fn.length; i++) out.insns.push({ ...cs.insns[fn.start + i] });
    copyExtInfo(ctx, fn, base, out);
    for (let i = 0; i < fn.length; i++) {
      const secIdx = fn.start + i;
      const at = base + i;
      const insn = out.insns[at];
      const reloc = cs.relocs.get(secIdx);
      const where = `function ${fn.name}: instruction ${i}`;
      if (reloc?.kind === 'call' || reloc?.kind === 'func') {
        const targetFn = findFunction(reloc.targetSection, reloc.targetInsn, where);
        const linked = place(targetFn, reloc.targetInsn);
        ctx.section = fn.section.name;
        out.insns[at].imm = linked - at - 1;
        if (reloc.kind === 'func') {
          out.insns[at].src = BPF_PSEUDO_FUNC;
          if (i + 1 >= fn.length) fail(ctx, `${where}: lddw is cut off at the end of the function`);
          out.insns[at + 1].imm = 0;
        }
      } else if (reloc?.kind === 'map' || reloc?.kind === 'value') {
        if (i + 1 >= fn.length) fail(ctx, `${where}: lddw is cut off at the end of the function`);
        out.insns[at].src = reloc.kind === 'map' ? BPF_PSEUDO_MAP_IDX : BPF_PSEUDO_MAP_IDX_VALUE;
        out.insns[at].imm = reloc.mapIndex;
        out.insns[at + 1].imm = reloc.offset;
        out.references.push({ insnIndex: at, mapIndex: reloc.mapIndex, offset: reloc.offset, kind: reloc.kind, symbol: reloc.symbol });
      } else if (insn.opcode === OP_CALL && insn.src === BPF_PSEUDO_CALL) {
        // A call without relocation: a static function in the same section, imm relative to here.
        const targetFn = findFunction(fn.section.index, secIdx + insn.imm + 1, where);
        const linked = place(targetFn, secIdx + insn.imm + 1);
        ctx.section = fn.section.name;
        out.insns[at].imm = linked - at - 1;
      }
    }
    return base;
  };

  append(entry);
  out.lineInfo.sort((a, b) => a.insnIndex - b.insnIndex);
  out.funcInfo.sort((a, b) => a.insnIndex - b.insnIndex);
  out.references.sort((a, b) => a.insnIndex - b.insnIndex);
  out.coreRelos.sort((a, b) => a.insnIndex - b.insnIndex);
  return out;
}

/** BTF.ext records of `fn`, rebased from section indices to the linked program (libbpf's adjust_prog_btf_ext_info). */
function copyExtInfo(ctx: LoadContext, fn: BpfFunction, base: number, out: LinkedProgram): void {
  if (!ctx.ext || !ctx.btf) return;
  const inside = (idx: number) => idx >= fn.start && idx < fn.start + fn.length;
  for (const rec of ctx.ext.funcInfo.get(fn.section.name) ?? []) {
    if (!inside(rec.insnIndex)) continue;
    const t = ctx.btf.types[rec.btfTypeId];
    if (!t || t.kind !== 'func') fail(ctx, `func_info for instruction ${rec.insnIndex}: type ${rec.btfTypeId} is not a FUNC`);
    out.funcInfo.push({ insnIndex: base + rec.insnIndex - fn.start, name: t.name, btfTypeId: rec.btfTypeId });
  }
  for (const rec of ctx.ext.coreRelos.get(fn.section.name) ?? []) {
    if (!inside(rec.insnIndex)) continue;
    out.coreRelos.push({
      insnIndex: base + rec.insnIndex - fn.start,
      btfTypeId: rec.btfTypeId,
      accessString: rec.accessString,
      kind: rec.kind,
      kindName: CORE_RELO_KINDS[rec.kind] ?? `unknown(${rec.kind})`,
    });
  }
  for (const rec of ctx.ext.lineInfo.get(fn.section.name) ?? []) {
    if (!inside(rec.insnIndex)) continue;
    out.lineInfo.push({ insnIndex: base + rec.insnIndex - fn.start, file: rec.file, line: rec.line, column: rec.column, text: rec.text });
  }
}
