// Parser for the .BTF.ext section: func_info, line_info and CO-RE relocation records,
// grouped per ELF section. Layout: struct btf_ext_header and btf_ext_info_sec in
// tools/lib/bpf/libbpf_internal.h / btf.c (btf_ext__new, btf_ext_setup_info), and
// Documentation/bpf/btf.rst §4.2. In an object file every insn_off is a byte offset
// inside its section; it is converted to an instruction index here.
import { BtfError, type Btf } from './btf.js';
import { BTF_MAGIC } from './types.js';

export interface FuncInfoRecord {
  /** Instruction index inside the ELF section. */
  insnIndex: number;
  /** BTF id of the FUNC. */
  btfTypeId: number;
}

export interface LineInfoRecord {
  insnIndex: number;
  file: string;
  line: number;
  column: number;
  /** The source line's text, as clang stored it. */
  text: string;
}

/** A CO-RE relocation (struct bpf_core_relo), recorded but not applied. */
export interface CoreReloRecord {
  insnIndex: number;
  btfTypeId: number;
  accessString: string;
  /** enum bpf_core_relo_kind. */
  kind: number;
}

export interface BtfExt {
  funcInfo: Map<string, FuncInfoRecord[]>;
  lineInfo: Map<string, LineInfoRecord[]>;
  coreRelos: Map<string, CoreReloRecord[]>;
}

const BPF_INSN_SZ = 8;

export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  if (bytes.length < 8) throw new BtfError(`BTF.ext of ${bytes.length} bytes is too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint16(0, true);
  if (magic !== BTF_MAGIC) throw new BtfError(`BTF.ext: bad magic 0x${magic.toString(16)}`);
  const version = view.getUint8(2);
  if (version !== 1) throw new BtfError(`BTF.ext: unsupported version ${version}`);
  const hdrLen = view.getUint32(4, true);
  // func_info and line_info are mandatory parts of the header (24 bytes); core_relo adds 8.
  if (hdrLen < 24 || hdrLen > bytes.length) throw new BtfError(`BTF.ext: header length ${hdrLen} is invalid`);
  const field = (off: number) => (off + 4 <= hdrLen ? view.getUint32(off, true) : 0);

  const sub = (name: string, off: number, len: number): DataView | undefined => {
    if (len === 0) return undefined;
    const body = bytes.length - hdrLen;
    if (off > body || len > body - off) throw new BtfError(`BTF.ext: ${name} (offset ${off}, length ${len}) is outside the section`);
    return new DataView(bytes.buffer, bytes.byteOffset + hdrLen + off, len);
  };

  const funcInfo = new Map<string, FuncInfoRecord[]>();
  const lineInfo = new Map<string, LineInfoRecord[]>();
  const coreRelos = new Map<string, CoreReloRecord[]>();

  readInfo('func_info', sub('func_info', field(8), field(12)), 8, btf, (sec, v, at) => {
    push(funcInfo, sec, { insnIndex: insnIndex(v.getUint32(at, true), 'func_info'), btfTypeId: v.getUint32(at + 4, true) });
  });
  readInfo('line_info', sub('line_info', field(16), field(20)), 16, btf, (sec, v, at) => {
    const lineCol = v.getUint32(at + 12, true);
    push(lineInfo, sec, {
      insnIndex: insnIndex(v.getUint32(at, true), 'line_info'),
      file: btf.stringAt(v.getUint32(at + 4, true)),
      text: btf.stringAt(v.getUint32(at + 8, true)),
      // BPF_LINE_INFO_LINE_NUM / BPF_LINE_INFO_LINE_COL (uapi bpf.h): line << 10 | column.
      line: lineCol >>> 10,
      column: lineCol & 0x3ff,
    });
  });
  if (hdrLen >= 32) {
    readInfo('core_relo', sub('core_relo', field(24), field(28)), 16, btf, (sec, v, at) => {
      push(coreRelos, sec, {
        insnIndex: insnIndex(v.getUint32(at, true), 'core_relo'),
        btfTypeId: v.getUint32(at + 4, true),
        accessString: btf.stringAt(v.getUint32(at + 8, true)),
        kind: v.getUint32(at + 12, true),
      });
    });
  }
  return { funcInfo, lineInfo, coreRelos };
}

function insnIndex(byteOff: number, what: string): number {
  if (byteOff % BPF_INSN_SZ !== 0) throw new BtfError(`BTF.ext ${what}: instruction offset ${byteOff} is not a multiple of 8`);
  return byteOff / BPF_INSN_SZ;
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  list.push(value);
}

/** Walks one info block: u32 rec_size, then { u32 sec_name_off; u32 num_info; records } repeated. */
function readInfo(
  what: string,
  v: DataView | undefined,
  minRecSize: number,
  btf: Btf,
  record: (section: string, v: DataView, at: number) => void,
): void {
  if (!v) return;
  if (v.byteLength < 4) throw new BtfError(`BTF.ext ${what}: too short for a record size`);
  const recSize = v.getUint32(0, true);
  if (recSize < minRecSize || recSize % 4 !== 0) throw new BtfError(`BTF.ext ${what}: record size ${recSize} is invalid`);
  let at = 4;
  while (at < v.byteLength) {
    if (v.byteLength - at < 8) throw new BtfError(`BTF.ext ${what}: truncated section header at offset ${at}`);
    const section = btf.stringAt(v.getUint32(at, true));
    const count = v.getUint32(at + 4, true);
    at += 8;
    if (count === 0) throw new BtfError(`BTF.ext ${what}: section ${section} has no records`);
    if (count > (v.byteLength - at) / recSize) {
      throw new BtfError(`BTF.ext ${what}: section ${section} claims ${count} records of ${recSize} bytes, more than remain`);
    }
    for (let i = 0; i < count; i++, at += recSize) record(section, v, at);
  }
}
