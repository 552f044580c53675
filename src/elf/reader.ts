// A small, defensive reader for ELF64 relocatable BPF objects (clang -target bpf).
// Layout: the System V gABI (ELF-64 Object File Format) and LLVM's BPF backend
// (llvm/lib/Target/BPF/MCTargetDesc/BPFELFObjectWriter.cpp for relocation types).
// Every offset, size and index read from the file is checked against the file's
// length before use; a violation throws ElfError naming the section concerned.

export const EM_BPF = 247;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const ELFDATA2MSB = 2;

// Section header types (gABI).
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;

// Section header flags (gABI).
export const SHF_WRITE = 0x1;
export const SHF_ALLOC = 0x2;
export const SHF_EXECINSTR = 0x4;

// Special section indices (gABI).
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;

// Symbol binding and type (gABI, st_info = bind << 4 | type).
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;

// BPF relocation types (llvm/include/llvm/BinaryFormat/ELFRelocs/BPF.def).
export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1; // lddw: 64-bit immediate split over two slots
export const R_BPF_64_ABS64 = 2; // 64-bit data word
export const R_BPF_64_ABS32 = 3; // 32-bit data word
export const R_BPF_64_NODYLD32 = 4; // 32-bit, ignored by the loader (DWARF / BTF.ext)
export const R_BPF_64_32 = 10; // call: imm is a 32-bit PC-relative slot count

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const REL_SIZE = 16;
/** A sane upper bound: an object with more sections than this is corrupt, not big. */
const MAX_SECTIONS = 65_535;

export class ElfError extends Error {
  constructor(
    message: string,
    /** The section being read when the problem was found, if any. */
    readonly section?: string,
  ) {
    super(message);
    this.name = 'ElfError';
  }
}

export interface ElfSection {
  index: number;
  name: string;
  type: number;
  flags: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

export interface ElfSymbol {
  index: number;
  name: string;
  bind: number;
  type: number;
  other: number;
  /** Section index (st_shndx); may be SHN_UNDEF or a reserved index. */
  shndx: number;
  value: number;
  size: number;
}

export interface ElfRel {
  /** Offset inside the target section. */
  offset: number;
  symbol: number;
  type: number;
}

function num64(view: DataView, at: number, what: string, section?: string): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ElfError(`${what} 0x${v.toString(16)} is out of range`, section);
  }
  return Number(v);
}

export class ElfFile {
  readonly bytes: Uint8Array;
  readonly sections: ElfSection[] = [];
  readonly symbols: ElfSymbol[] = [];
  /** Index of the section holding the symbol table, or -1. */
  readonly symtabIndex: number = -1;
  private readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 16) throw new ElfError(`file of ${bytes.length} bytes is too short for an ELF header`);
    if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
      throw new ElfError('not an ELF file (bad magic)');
    }
    if (bytes[4] !== ELFCLASS64) {
      throw new ElfError(`ELF class ${bytes[4]} is not ELFCLASS64: BPF objects are 64-bit`);
    }
    if (bytes[5] === ELFDATA2MSB) {
      throw new ElfError('big-endian (bpfeb) object: only little-endian (bpfel) BPF objects are supported');
    }
    if (bytes[5] !== ELFDATA2LSB) throw new ElfError(`unknown ELF data encoding ${bytes[5]}`);
    if (bytes.length < EHDR_SIZE) throw new ElfError(`file of ${bytes.length} bytes is truncated inside the ELF header`);
    const v = this.view;
    const machine = v.getUint16(18, true);
    if (machine !== EM_BPF) throw new ElfError(`ELF machine ${machine} is not EM_BPF (${EM_BPF})`);
    const shoff = num64(v, 40, 'section header offset');
    const shentsize = v.getUint16(58, true);
    let shnum = v.getUint16(60, true);
    let shstrndx = v.getUint16(62, true);
    if (shoff === 0) throw new ElfError('object has no section headers');
    if (shentsize !== SHDR_SIZE) throw new ElfError(`section header size ${shentsize} is not ${SHDR_SIZE}`);
    this.checkRange(shoff, SHDR_SIZE, 'section header 0');
    // gABI extended numbering: with 0 / SHN_XINDEX the real values live in section header 0.
    if (shnum === 0) shnum = num64(v, shoff + 32, 'section count');
    if (shstrndx === 0xffff) shstrndx = v.getUint32(shoff + 40, true);
    if (shnum > MAX_SECTIONS) throw new ElfError(`section count ${shnum} is not plausible`);
    this.checkRange(shoff, shnum * SHDR_SIZE, 'section header table');
    if (shstrndx >= shnum) throw new ElfError(`section name table index ${shstrndx} is out of range (${shnum} sections)`);

    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * SHDR_SIZE;
      const section: ElfSection = {
        index: i,
        name: '',
        type: v.getUint32(at + 4, true),
        flags: num64(v, at + 8, `section ${i} flags`),
        offset: num64(v, at + 24, `section ${i} offset`),
        size: num64(v, at + 32, `section ${i} size`),
        link: v.getUint32(at + 40, true),
        info: v.getUint32(at + 44, true),
        addralign: num64(v, at + 48, `section ${i} alignment`),
        entsize: num64(v, at + 56, `section ${i} entry size`),
      };
      this.sections.push(section);
    }
    const shstr = this.sections[shstrndx];
    if (shstr.type !== SHT_STRTAB) throw new ElfError(`section name table (section ${shstrndx}) is not a string table`);
    this.checkSectionData(shstr, `section ${shstrndx} (section names)`);
    for (const s of this.sections) {
      const nameOff = v.getUint32(shoff + s.index * SHDR_SIZE, true);
      s.name = this.stringAt(shstr, nameOff, `section ${s.index} name`);
    }
    for (const s of this.sections) {
      if (s.type !== SHT_NOBITS && s.type !== SHT_NULL) this.checkSectionData(s, s.name || `section ${s.index}`);
    }

    const symtabs = this.sections.filter((s) => s.type === SHT_SYMTAB);
    if (symtabs.length > 1) throw new ElfError('more than one symbol table', symtabs[1].name);
    if (symtabs.length === 1) {
      const st = symtabs[0];
      this.symtabIndex = st.index;
      this.symbols = this.readSymbols(st);
    }
  }

  /** The bytes of a section (empty for SHT_NOBITS). The result aliases the file. */
  data(section: ElfSection): Uint8Array {
    if (section.type === SHT_NOBITS) return new Uint8Array(0);
    return this.bytes.subarray(section.offset, section.offset + section.size);
  }

  sectionByName(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name);
  }

  /** The relocations of an SHT_REL section, bounds-checked against the symbol table. */
  relocations(rel: ElfSection): ElfRel[] {
    if (rel.type !== SHT_REL) throw new ElfError(`section type ${rel.type} is not SHT_REL`, rel.name);
    if (rel.entsize !== REL_SIZE) throw new ElfError(`relocation entry size ${rel.entsize} is not ${REL_SIZE}`, rel.name);
    if (rel.size % REL_SIZE !== 0) throw new ElfError(`size ${rel.size} is not a multiple of ${REL_SIZE}`, rel.name);
    const out: ElfRel[] = [];
    const v = this.view;
    for (let i = 0; i < rel.size / REL_SIZE; i++) {
      const at = rel.offset + i * REL_SIZE;
      const offset = num64(v, at, `relocation ${i} offset`, rel.name);
      const info = v.getBigUint64(at + 8, true);
      const symbol = Number(info >> 32n);
      const type = Number(info & 0xffffffffn);
      if (symbol >= this.symbols.length) {
        throw new ElfError(`relocation ${i}: symbol index ${symbol} is out of range (${this.symbols.length} symbols)`, rel.name);
      }
      out.push({ offset, symbol, type });
    }
    return out;
  }

  private readSymbols(st: ElfSection): ElfSymbol[] {
    if (st.entsize !== SYM_SIZE) throw new ElfError(`symbol entry size ${st.entsize} is not ${SYM_SIZE}`, st.name);
    if (st.size % SYM_SIZE !== 0) throw new ElfError(`size ${st.size} is not a multiple of ${SYM_SIZE}`, st.name);
    if (st.link >= this.sections.length) throw new ElfError(`string table index ${st.link} is out of range`, st.name);
    const strtab = this.sections[st.link];
    if (strtab.type !== SHT_STRTAB) throw new ElfError(`linked section ${st.link} is not a string table`, st.name);
    const v = this.view;
    const out: ElfSymbol[] = [];
    for (let i = 0; i < st.size / SYM_SIZE; i++) {
      const at = st.offset + i * SYM_SIZE;
      const info = v.getUint8(at + 4);
      out.push({
        index: i,
        name: this.stringAt(strtab, v.getUint32(at, true), `symbol ${i} name`, st.name),
        bind: info >> 4,
        type: info & 0xf,
        other: v.getUint8(at + 5),
        shndx: v.getUint16(at + 6, true),
        value: num64(v, at + 8, `symbol ${i} value`, st.name),
        size: num64(v, at + 16, `symbol ${i} size`, st.name),
      });
    }
    return out;
  }

  private stringAt(strtab: ElfSection, offset: number, what: string, section = strtab.name): string {
    if (offset >= strtab.size) {
      if (offset === 0) return '';
      throw new ElfError(`${what}: string offset ${offset} is outside the string table (${strtab.size} bytes)`, section);
    }
    const start = strtab.offset + offset;
    const end = this.bytes.indexOf(0, start);
    if (end < 0 || end >= strtab.offset + strtab.size) {
      throw new ElfError(`${what}: string at offset ${offset} is not NUL-terminated`, section);
    }
    return decodeName(this.bytes.subarray(start, end));
  }

  private checkSectionData(s: ElfSection, label: string): void {
    if (s.offset > this.bytes.length || s.size > this.bytes.length - s.offset) {
      throw new ElfError(
        `data at offset ${s.offset} with size ${s.size} is outside the file (${this.bytes.length} bytes)`,
        label,
      );
    }
  }

  private checkRange(offset: number, size: number, what: string): void {
    if (offset > this.bytes.length || size > this.bytes.length - offset) {
      throw new ElfError(`${what} at offset ${offset} (${size} bytes) is outside the file (${this.bytes.length} bytes)`);
    }
  }
}

const utf8 = new TextDecoder('utf-8');

/** Names in ELF string tables are bytes; a non-fatal decoder never throws on bad UTF-8. */
export function decodeName(bytes: Uint8Array): string {
  return utf8.decode(bytes);
}
