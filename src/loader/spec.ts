// The plain-data result of loading a BPF object (cilium/ebpf's CollectionSpec model).
// Nothing here is live: every field is copyable and editable before a Testbed (or the
// kernel oracle) instantiates it. Instructions follow docs/design.md: fully linked, with
// map and global references in the kernel's fd_array form (BPF_PSEUDO_MAP_IDX /
// BPF_PSEUDO_MAP_IDX_VALUE, imm = index into ObjectSpec.maps).
import type { Insn } from '../asm/insn.js';
import type { Btf } from '../btf/btf.js';
import type { KconfigSpec } from './kconfig.js';

export interface ObjectSpec {
  /** Object name as libbpf derives it (file name up to the first '.'), used in global map names. */
  name: string;
  programs: ProgramSpec[];
  maps: MapSpec[];
  /** Parsed .BTF, after libbpf's DATASEC fix-ups; undefined when the object has none. */
  btf?: Btf;
  /** Contents of the `license` section up to its first NUL ('' if absent). */
  license: string;
  /** The u32 in the `version` section (0 if absent). */
  kernVersion: number;
  /**
   * The __kconfig externs and their .kconfig map, when the object has any. The map's
   * initialValue holds their resolved values (kconfig.ts, withKconfig).
   */
  kconfig?: KconfigSpec;
}

export interface LineInfo {
  /** Instruction index inside the linked program. */
  insnIndex: number;
  file: string;
  line: number;
  column: number;
  /** The C source line as clang recorded it in BTF. */
  text: string;
}

export interface FuncInfo {
  /** Instruction index of the function's first instruction inside the linked program. */
  insnIndex: number;
  name: string;
  /** BTF id of the FUNC type. */
  btfTypeId: number;
}

/**
 * A CO-RE relocation (struct bpf_core_relo from .BTF.ext), re-indexed to the linked
 * program. Recorded, not applied: the instructions keep clang's values, which is what
 * relocating against a kernel whose BTF matches the program's own BTF would produce.
 */
export interface CoreRelo {
  insnIndex: number;
  /** Local BTF id of the root type. */
  btfTypeId: number;
  /** Accessor spec, e.g. "0:1:2" (field path through the root type). */
  accessString: string;
  /** enum bpf_core_relo_kind number and name (BPF_CORE_FIELD_BYTE_OFFSET, ...). */
  kind: number;
  kindName: string;
}

/** One lddw in a linked program that refers to a map or to global data. */
export interface MapReference {
  /** Index of the lddw's first slot in ProgramSpec.insns. */
  insnIndex: number;
  /** Index into ObjectSpec.maps. */
  mapIndex: number;
  /** Byte offset into the map value for global data (BPF_PSEUDO_MAP_IDX_VALUE); 0 for a map. */
  offset: number;
  /** 'map' → BPF_PSEUDO_MAP_IDX, 'value' → BPF_PSEUDO_MAP_IDX_VALUE. */
  kind: 'map' | 'value';
  /** The ELF symbol the relocation named (a map, a global variable, or a section). */
  symbol: string;
}

/** A BPF function inside a linked program: the program itself or an appended subprogram. */
export interface FunctionRange {
  name: string;
  /** First instruction inside the linked program. */
  start: number;
  /** Number of instruction slots. */
  length: number;
  /** ELF section the function came from. */
  section: string;
}

export interface ProgramSpec {
  /** The function symbol's name. */
  name: string;
  /** ELF section name, e.g. 'tc', 'xdp', 'cgroup/connect4'. */
  section: string;
  /** libbpf's program type name ('sched_cls', 'xdp', ...) or 'unspec' if the section is unknown. */
  type: string;
  /** BPF_PROG_TYPE_* value. */
  typeId: number;
  /** The expected attach type the section implies (libbpf's section_defs), if any. */
  expectedAttachType?: { name: string; id: number };
  /** BPF_PROG_LOAD prog_flags implied by the section (BPF_F_SLEEPABLE, BPF_F_XDP_HAS_FRAGS). */
  flags: number;
  sleepable: boolean;
  xdpFrags: boolean;
  /** Linked instructions: the program, then every subprogram it reaches, in libbpf's order. */
  insns: Insn[];
  /** The program and each appended subprogram, in order. */
  functions: FunctionRange[];
  funcInfo: FuncInfo[];
  lineInfo: LineInfo[];
  references: MapReference[];
  coreRelos: CoreRelo[];
  license: string;
  kernVersion: number;
}

/** A statically initialised slot of a PROG_ARRAY or map-in-map (`.values = { [i] = &x }`). */
export interface MapSlot {
  index: number;
  /** PROG_ARRAY: a program name; ARRAY_OF_MAPS / HASH_OF_MAPS: a map name. */
  target: string;
  kind: 'program' | 'map';
}

export interface MapSpec {
  /** The name libbpf gives the map (for global data: '<obj>.rodata', '.data.custom', ...). */
  name: string;
  /** BPF_MAP_TYPE_* value. */
  type: number;
  /** libbpf's name for the type: 'hash', 'lru_hash', 'array', ... */
  typeName: string;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** map_flags (BPF_F_*). */
  flags: number;
  numaNode: number;
  /** LIBBPF_PIN_NONE (0) or LIBBPF_PIN_BY_NAME (1). */
  pinning: number;
  /** map_extra (bloom filter hashes, arena address), 0 if unset. */
  mapExtra: number;
  /** BTF type of the key / value, when the definition gives one (for global data: the DATASEC). */
  keyTypeId?: number;
  valueTypeId?: number;
  /** Template for the inner maps of ARRAY_OF_MAPS / HASH_OF_MAPS. */
  innerMap?: MapSpec;
  /** Static `values` of PROG_ARRAY / map-in-map definitions. */
  contents?: MapSlot[];
  /** Global data: the section's bytes (zeros for .bss / .kconfig). */
  initialValue?: Uint8Array;
  /** True for .rodata* and .kconfig (BPF_F_RDONLY_PROG). */
  readonly: boolean;
  /** ELF section the map came from ('.maps', 'maps', '.data', '.rodata.str1.1', ...). */
  section: string;
  /** How the map was defined. */
  origin: 'btf' | 'legacy' | 'global' | 'kconfig';
}

/** Index of the map named `name` in spec.maps, or -1. */
export function mapIndexByName(spec: ObjectSpec, name: string): number {
  return spec.maps.findIndex((m) => m.name === name);
}

/** The program named `name`, or undefined. */
export function programByName(spec: ObjectSpec, name: string): ProgramSpec | undefined {
  return spec.programs.find((p) => p.name === name);
}

/**
 * The source line an instruction belongs to: the last line info record at or before it
 * within the same function (as bpftool prog dump and the verifier log attribute lines).
 */
export function lineInfoAt(program: ProgramSpec, insnIndex: number): LineInfo | undefined {
  const fn = functionAt(program, insnIndex);
  let lo = 0;
  let hi = program.lineInfo.length - 1;
  let found: LineInfo | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (program.lineInfo[mid].insnIndex <= insnIndex) {
      found = program.lineInfo[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (found && fn && found.insnIndex < fn.start) return undefined;
  return found;
}

/** The function (program or appended subprogram) containing an instruction. */
export function functionAt(program: ProgramSpec, insnIndex: number): FunctionRange | undefined {
  return program.functions.find((f) => insnIndex >= f.start && insnIndex < f.start + f.length);
}

/**
 * A deep copy of a spec that can be edited without touching the original (instructions,
 * maps, initial values). The parsed BTF is shared: it is read-only after loading.
 */
export function cloneObjectSpec(spec: ObjectSpec): ObjectSpec {
  const cloneMap = (m: MapSpec): MapSpec => ({
    ...m,
    innerMap: m.innerMap && cloneMap(m.innerMap),
    contents: m.contents?.map((c) => ({ ...c })),
    initialValue: m.initialValue?.slice(),
  });
  return {
    ...spec,
    programs: spec.programs.map((p) => ({
      ...p,
      expectedAttachType: p.expectedAttachType && { ...p.expectedAttachType },
      insns: p.insns.map((i) => ({ ...i })),
      functions: p.functions.map((f) => ({ ...f })),
      funcInfo: p.funcInfo.map((f) => ({ ...f })),
      lineInfo: p.lineInfo.map((l) => ({ ...l })),
      references: p.references.map((r) => ({ ...r })),
      coreRelos: p.coreRelos.map((r) => ({ ...r })),
    })),
    maps: spec.maps.map(cloneMap),
    ...(spec.kconfig ? { kconfig: { mapIndex: spec.kconfig.mapIndex, externs: spec.kconfig.externs.map((e) => ({ ...e })) } } : {}),
  };
}
