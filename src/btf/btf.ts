// Parser and queries for the .BTF section (kernel Documentation/bpf/btf.rst,
// include/uapi/linux/btf.h). Pure, browser-safe; every offset and count is checked
// and every type reference validated, so queries can follow ids without re-checking.
import {
  BTF_INT_BOOL,
  BTF_INT_CHAR,
  BTF_INT_SIGNED,
  BTF_KIND_NAMES,
  BTF_MAGIC,
  type BtfMember,
  type BtfType,
  type BtfKind,
} from './types.js';

export class BtfError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BtfError';
  }
}

/** libbpf's MAX_RESOLVE_DEPTH (tools/lib/bpf/btf.c): chains longer than this are treated as cycles. */
const MAX_RESOLVE_DEPTH = 32;
const HEADER_MIN = 24;
const MAX_SIZE = 0xffff_ffff;

const utf8 = new TextDecoder('utf-8');

/** A member found by name, with its byte offset from the start of the outer struct. */
export interface MemberLookup extends BtfMember {
  /** Byte offset of the member from the start of the type searched (bitOffset / 8 for non-bitfields). */
  offset: number;
}

export class Btf {
  /** types[id]; types[0] is void. */
  readonly types: BtfType[];
  /** The raw string section, for resolving BTF.ext string offsets. */
  private readonly strings: Uint8Array;

  constructor(types: BtfType[], strings: Uint8Array) {
    this.types = types;
    this.strings = strings;
  }

  get count(): number {
    return this.types.length;
  }

  /** The type with this id; throws BtfError for an id that does not exist. */
  type(id: number): BtfType {
    const t = this.types[id];
    if (!Number.isInteger(id) || t === undefined) throw new BtfError(`type id ${id} does not exist`);
    return t;
  }

  /** The string at `offset` in the BTF string section (used by BTF.ext records). */
  stringAt(offset: number): string {
    return readString(this.strings, offset, `string offset ${offset}`);
  }

  /** First type with this name (and kind, if given); undefined when there is none. */
  typeByName(name: string, kind?: BtfKind): BtfType | undefined {
    return this.types.find((t) => t.name === name && (kind === undefined || t.kind === kind) && t.id !== 0);
  }

  /** Skips typedef, const, volatile, restrict and type_tag to the underlying type. */
  resolve(id: number): BtfType {
    let t = this.type(id);
    for (let depth = 0; ; depth++) {
      if (depth > MAX_RESOLVE_DEPTH) throw new BtfError(`type [${id}]: modifier chain too long or cyclic`);
      switch (t.kind) {
        case 'typedef':
        case 'const':
        case 'volatile':
        case 'restrict':
        case 'type_tag':
          t = this.type(t.type);
          break;
        default:
          return t;
      }
    }
  }

  /** Size in bytes of a value of this type, as libbpf's btf__resolve_size computes it. */
  sizeof(id: number): number {
    let multiplier = 1;
    let t = this.type(id);
    for (let depth = 0; depth <= MAX_RESOLVE_DEPTH; depth++) {
      switch (t.kind) {
        case 'int':
        case 'struct':
        case 'union':
        case 'enum':
        case 'enum64':
        case 'datasec':
        case 'float': {
          const size = multiplier * t.size;
          if (size > MAX_SIZE) throw new BtfError(`type [${id}]: size overflows 32 bits`);
          return size;
        }
        case 'ptr':
          return multiplier * 8;
        case 'typedef':
        case 'const':
        case 'volatile':
        case 'restrict':
        case 'type_tag':
        case 'var':
          t = this.type(t.type);
          break;
        case 'array':
          multiplier *= t.nelems;
          if (multiplier > MAX_SIZE) throw new BtfError(`type [${id}]: array size overflows 32 bits`);
          t = this.type(t.type);
          break;
        default:
          throw new BtfError(`type [${id}]: ${t.kind} has no size`);
      }
    }
    throw new BtfError(`type [${id}]: type chain too long or cyclic`);
  }

  /** The members of a struct or union (after skipping typedefs and modifiers). */
  members(id: number): BtfMember[] {
    const t = this.resolve(id);
    if (t.kind !== 'struct' && t.kind !== 'union') throw new BtfError(`type [${id}] is ${t.kind}, not a struct or union`);
    return t.members;
  }

  /**
   * Finds a member by name, descending into anonymous struct/union members as C does.
   * Returns undefined when there is no such member.
   */
  member(id: number, name: string): MemberLookup | undefined {
    return this.findMember(id, name, 0, 0);
  }

  private findMember(id: number, name: string, baseBits: number, depth: number): MemberLookup | undefined {
    if (depth > MAX_RESOLVE_DEPTH) return undefined;
    for (const m of this.members(id)) {
      const bitOffset = baseBits + m.bitOffset;
      if (m.name === name) return { ...m, bitOffset, offset: Math.floor(bitOffset / 8) };
      if (m.name === '') {
        const inner = this.resolve(m.type);
        if (inner.kind === 'struct' || inner.kind === 'union') {
          const found = this.findMember(inner.id, name, bitOffset, depth + 1);
          if (found) return found;
        }
      }
    }
    return undefined;
  }

  /** A C-like spelling of a type: `struct flow_key`, `__u32`, `const char[6]`, `int *`. */
  describe(id: number): string {
    return this.describeDecl(id, '', 0).trim();
  }

  private describeDecl(id: number, inner: string, depth: number): string {
    if (depth > MAX_RESOLVE_DEPTH) return `<type ${id}: too deep>`;
    const t = this.types[id];
    if (t === undefined) return `<bad type ${id}>`;
    // Arrays bind to the declarator without a space: `char name[8]`, `char[8]`.
    const decl = inner ? (inner.startsWith('[') ? inner : ' ' + inner) : '';
    const named = (prefix: string) => `${prefix}${t.name || '(anon)'}${decl}`;
    switch (t.kind) {
      case 'void':
        return `void${decl}`;
      case 'int':
      case 'float':
      case 'typedef':
        return named('');
      case 'struct':
        return named('struct ');
      case 'union':
        return named('union ');
      case 'enum':
      case 'enum64':
        return named('enum ');
      case 'fwd':
        return named(t.union ? 'union ' : 'struct ');
      case 'ptr': {
        const target = this.types[t.type];
        const wrap = target && (target.kind === 'array' || target.kind === 'func_proto');
        return this.describeDecl(t.type, wrap ? `(*${inner})` : `*${inner}`, depth + 1);
      }
      case 'const':
      case 'volatile':
      case 'restrict':
        return `${t.kind} ${this.describeDecl(t.type, inner, depth + 1)}`;
      case 'type_tag':
        return this.describeDecl(t.type, inner, depth + 1);
      case 'array':
        return this.describeDecl(t.type, `${inner}[${t.nelems}]`, depth + 1);
      case 'func_proto': {
        const params = t.params.map((p) => (p.type === 0 ? '...' : this.describeDecl(p.type, p.name, depth + 1)));
        return this.describeDecl(t.returnType, `${inner}(${params.join(', ') || 'void'})`, depth + 1);
      }
      case 'func':
        return this.describeDecl(t.type, t.name, depth + 1);
      case 'var':
        return this.describeDecl(t.type, t.name, depth + 1);
      case 'datasec':
        return `SEC("${t.name}")`;
      case 'decl_tag':
        return `__attribute__((btf_decl_tag("${t.name}")))`;
    }
  }

  /**
   * libbpf's btf_fixup_datasec (tools/lib/bpf/libbpf.c): clang leaves the size of some
   * DATASECs and the offsets of their VARs as 0 in the object; take them from the ELF
   * section size and the symbol values. `sectionSize` and `symbolOffset` return
   * undefined when the ELF file has no such section / symbol.
   */
  fixupDatasecs(
    sectionSize: (name: string) => number | undefined,
    symbolOffset: (section: string, variable: string) => number | undefined,
  ): void {
    for (const t of this.types) {
      if (t.kind !== 'datasec') continue;
      // Extern sections have no ELF section; libbpf leaves them alone too.
      if (t.name === '.kconfig' || t.name === '.ksyms') continue;
      if (t.size === 0) {
        const size = sectionSize(t.name);
        if (size !== undefined) t.size = size;
      }
      for (const v of t.vars) {
        const varType = this.types[v.type];
        if (!varType || varType.kind !== 'var') continue;
        const off = symbolOffset(t.name, varType.name);
        if (off !== undefined) v.offset = off;
      }
    }
  }
}

function readString(strings: Uint8Array, offset: number, what: string): string {
  if (offset === 0) return '';
  if (!Number.isInteger(offset) || offset < 0 || offset >= strings.length) {
    throw new BtfError(`${what} is outside the string section (${strings.length} bytes)`);
  }
  const end = strings.indexOf(0, offset);
  if (end < 0) throw new BtfError(`${what}: string is not NUL-terminated`);
  return utf8.decode(strings.subarray(offset, end));
}

/** Parses a .BTF section (little-endian). Throws BtfError on any inconsistency. */
export function parseBtf(bytes: Uint8Array): Btf {
  if (bytes.length < HEADER_MIN) throw new BtfError(`section of ${bytes.length} bytes is too short for a BTF header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint16(0, true);
  if (magic === 0x9feb) throw new BtfError('big-endian BTF is not supported');
  if (magic !== BTF_MAGIC) throw new BtfError(`bad magic 0x${magic.toString(16)}`);
  const version = view.getUint8(2);
  if (version !== 1) throw new BtfError(`unsupported version ${version}`);
  const hdrLen = view.getUint32(4, true);
  if (hdrLen < HEADER_MIN || hdrLen > bytes.length) throw new BtfError(`header length ${hdrLen} is invalid`);
  const typeOff = view.getUint32(8, true);
  const typeLen = view.getUint32(12, true);
  const strOff = view.getUint32(16, true);
  const strLen = view.getUint32(20, true);
  const body = bytes.length - hdrLen;
  if (typeOff > body || typeLen > body - typeOff) throw new BtfError(`type section (offset ${typeOff}, length ${typeLen}) is outside the data`);
  if (strOff > body || strLen > body - strOff) throw new BtfError(`string section (offset ${strOff}, length ${strLen}) is outside the data`);
  if (typeLen % 4 !== 0) throw new BtfError(`type section length ${typeLen} is not a multiple of 4`);
  const strings = bytes.subarray(hdrLen + strOff, hdrLen + strOff + strLen);
  if (strLen > 0 && strings[strLen - 1] !== 0) throw new BtfError('string section is not NUL-terminated');
  if (strLen > 0 && strings[0] !== 0) throw new BtfError('string section does not start with an empty string');

  const types: BtfType[] = [{ id: 0, kind: 'void', name: '' }];
  const start = hdrLen + typeOff;
  const end = start + typeLen;
  let at = start;
  const need = (n: number, id: number) => {
    if (n > end - at) throw new BtfError(`type [${id}] is truncated`);
  };
  const u32 = () => {
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const str = (off: number, id: number) => readString(strings, off, `type [${id}] name`);

  while (at < end) {
    const id = types.length;
    need(12, id);
    const name = str(u32(), id);
    const info = u32();
    const sizeOrType = u32();
    const vlen = info & 0xffff;
    const kindNum = (info >>> 24) & 0x1f;
    const kindFlag = (info >>> 31) === 1;
    const kind = BTF_KIND_NAMES[kindNum];
    if (kind === undefined || kindNum === 0) throw new BtfError(`type [${id}]: unknown kind ${kindNum}`);
    switch (kind) {
      case 'int': {
        need(4, id);
        const enc = u32();
        const encoding = (enc >>> 24) & 0x0f;
        types.push({
          id, kind, name, size: sizeOrType,
          signed: (encoding & BTF_INT_SIGNED) !== 0,
          char: (encoding & BTF_INT_CHAR) !== 0,
          bool: (encoding & BTF_INT_BOOL) !== 0,
          bitOffset: (enc >>> 16) & 0xff,
          bits: enc & 0xff,
        });
        break;
      }
      case 'ptr':
      case 'typedef':
      case 'volatile':
      case 'const':
      case 'restrict':
      case 'type_tag':
        types.push({ id, kind, name, type: sizeOrType });
        break;
      case 'fwd':
        types.push({ id, kind, name, union: kindFlag });
        break;
      case 'float':
        types.push({ id, kind, name, size: sizeOrType });
        break;
      case 'func':
        types.push({ id, kind, name, type: sizeOrType, linkage: vlen });
        break;
      case 'array': {
        need(12, id);
        const type = u32();
        const indexType = u32();
        const nelems = u32();
        types.push({ id, kind, name, type, indexType, nelems });
        break;
      }
      case 'struct':
      case 'union': {
        need(vlen * 12, id);
        const members: BtfMember[] = [];
        for (let i = 0; i < vlen; i++) {
          const mname = str(u32(), id);
          const type = u32();
          const off = u32();
          members.push(
            kindFlag
              ? { name: mname, type, bitOffset: off & 0xffffff, bitfieldSize: off >>> 24 }
              : { name: mname, type, bitOffset: off, bitfieldSize: 0 },
          );
        }
        types.push({ id, kind, name, size: sizeOrType, members });
        break;
      }
      case 'enum': {
        need(vlen * 8, id);
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const vname = str(u32(), id);
          const raw = u32();
          // kind_flag marks a signed enum (btf.rst, BTF_KIND_ENUM).
          values.push({ name: vname, value: kindFlag ? BigInt(raw | 0) : BigInt(raw) });
        }
        types.push({ id, kind, name, size: sizeOrType, signed: kindFlag, values });
        break;
      }
      case 'enum64': {
        need(vlen * 12, id);
        const values = [];
        for (let i = 0; i < vlen; i++) {
          const vname = str(u32(), id);
          const lo = BigInt(u32());
          const hi = BigInt(u32());
          const raw = (hi << 32n) | lo;
          values.push({ name: vname, value: kindFlag ? BigInt.asIntN(64, raw) : raw });
        }
        types.push({ id, kind, name, size: sizeOrType, signed: kindFlag, values });
        break;
      }
      case 'func_proto': {
        need(vlen * 8, id);
        const params = [];
        for (let i = 0; i < vlen; i++) params.push({ name: str(u32(), id), type: u32() });
        types.push({ id, kind, name, returnType: sizeOrType, params });
        break;
      }
      case 'var': {
        need(4, id);
        types.push({ id, kind, name, type: sizeOrType, linkage: u32() });
        break;
      }
      case 'datasec': {
        need(vlen * 12, id);
        const vars = [];
        for (let i = 0; i < vlen; i++) vars.push({ type: u32(), offset: u32(), size: u32() });
        types.push({ id, kind, name, size: sizeOrType, vars });
        break;
      }
      case 'decl_tag': {
        need(4, id);
        types.push({ id, kind, name, type: sizeOrType, componentIdx: view.getInt32((at += 4) - 4, true) });
        break;
      }
      default:
        throw new BtfError(`type [${id}]: unknown kind ${kindNum}`);
    }
  }
  validateReferences(types);
  return new Btf(types, strings);
}

/** Every type id a type refers to must exist, so queries never meet a dangling id. */
function validateReferences(types: BtfType[]): void {
  const check = (from: BtfType, ref: number, what: string) => {
    if (ref >= types.length) throw new BtfError(`type [${from.id}] ${from.kind}: ${what} refers to missing type ${ref}`);
  };
  for (const t of types) {
    switch (t.kind) {
      case 'ptr':
      case 'typedef':
      case 'volatile':
      case 'const':
      case 'restrict':
      case 'type_tag':
      case 'func':
      case 'var':
      case 'decl_tag':
        check(t, t.type, 'type');
        break;
      case 'array':
        check(t, t.type, 'element type');
        check(t, t.indexType, 'index type');
        break;
      case 'struct':
      case 'union':
        t.members.forEach((m, i) => check(t, m.type, `member ${i}`));
        break;
      case 'func_proto':
        check(t, t.returnType, 'return type');
        t.params.forEach((p, i) => check(t, p.type, `parameter ${i}`));
        break;
      case 'datasec':
        t.vars.forEach((v, i) => check(t, v.type, `variable ${i}`));
        break;
      default:
        break;
    }
  }
}
