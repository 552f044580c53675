// State shared by the loader's passes over one object (internal to src/loader).
import type { Btf } from '../btf/btf.js';
import type { BtfExt } from '../btf/ext.js';
import { SectionError } from './errors.js';
import type { ElfFile, ElfSection, ElfSymbol } from '../elf/reader.js';
import type { KconfigSpec } from './kconfig.js';
import type { MapSpec } from './spec.js';

/** Where a map's definition lives in the ELF file, to resolve relocations against it. */
export interface MapPlacement {
  sectionIndex: number;
  /** Byte offset of the definition inside its section (0 for global data). */
  offset: number;
  /** Size of the definition in bytes. */
  size: number;
}

export interface LoadContext {
  elf: ElfFile;
  /** libbpf's object name (file name up to the first '.'). */
  objName: string;
  btf?: Btf;
  ext?: BtfExt;
  maps: MapSpec[];
  /** placements[i] belongs to maps[i]. */
  placements: MapPlacement[];
  /** The .kconfig map and the offset of each extern symbol in it, if the object has __kconfig externs. */
  kconfig?: { mapIndex: number; offsets: Map<number, number>; spec: KconfigSpec };
  /** The section being processed; errors that escape without one are attributed to it. */
  section?: string;
}

export function fail(ctx: LoadContext, message: string): never {
  throw new SectionError(message, ctx.section);
}

export function symbolSection(ctx: LoadContext, sym: ElfSymbol, what: string): ElfSection {
  const s = ctx.elf.sections[sym.shndx];
  if (s === undefined) fail(ctx, `${what}: symbol ${symbolLabel(ctx, sym)} refers to section index ${sym.shndx}, which does not exist`);
  return s;
}

/** A symbol's name, or for a section symbol the section's name (as libbpf prints them). */
export function symbolLabel(ctx: LoadContext, sym: ElfSymbol): string {
  if (sym.name) return sym.name;
  const s = ctx.elf.sections[sym.shndx];
  return s?.name || `#${sym.index}`;
}
