// __kconfig externs: libbpf gathers the extern VARs of the `.kconfig` DATASEC into one
// read-only array map and lays them out sorted by alignment (descending), size
// (ascending) and name (bpf_object__collect_externs, cmp_externs,
// bpf_object__init_kconfig_map). Each extern's type is checked as libbpf's find_kcfg_type
// checks it; the values (CONFIG_*, LINUX_KERNEL_VERSION) are filled by kconfig.ts.
import type { Btf } from '../btf/btf.js';
import { SHN_UNDEF, STB_GLOBAL, STB_WEAK } from '../elf/reader.js';
import { fail, type LoadContext } from './context.js';
import { kconfigTypeOf, type KconfigExtern, type KconfigSpec } from './kconfig.js';
import { internalMapName } from './maps.js';
import { BPF_F_RDONLY_PROG, BPF_MAP_TYPE, LIBBPF_PIN_NONE, mapTypeName } from './uapi.js';

export const KCONFIG_SECTION = '.kconfig';

/** Where each extern symbol (by ELF symbol index) lives in the .kconfig map. */
export interface KconfigLayout {
  mapIndex: number;
  offsets: Map<number, number>;
  /** What the spec records (ObjectSpec.kconfig). */
  spec: KconfigSpec;
}

/** libbpf's btf__align_of. */
function alignOf(btf: Btf, typeId: number, depth = 0): number {
  if (depth > 32) return 1;
  const t = btf.resolve(typeId);
  switch (t.kind) {
    case 'int':
    case 'enum':
    case 'enum64':
    case 'float':
      return Math.min(8, t.size) || 1;
    case 'ptr':
      return 8;
    case 'array':
      return alignOf(btf, t.type, depth + 1);
    case 'struct':
    case 'union':
      return Math.max(1, ...t.members.map((m) => alignOf(btf, m.type, depth + 1)));
    default:
      return 1;
  }
}

export function collectKconfig(ctx: LoadContext): KconfigLayout | undefined {
  const btf = ctx.btf;
  const datasec = btf?.typeByName(KCONFIG_SECTION, 'datasec');
  if (!btf || !datasec || datasec.kind !== 'datasec' || datasec.vars.length === 0) return undefined;
  ctx.section = KCONFIG_SECTION;
  const externs = datasec.vars.map((vi) => {
    const v = btf.type(vi.type);
    if (v.kind !== 'var') fail(ctx, `unexpected ${v.kind} in DATASEC`);
    const symbol = ctx.elf.symbols.find(
      (s) => s.name === v.name && s.shndx === SHN_UNDEF && (s.bind === STB_GLOBAL || s.bind === STB_WEAK),
    );
    const kind = kconfigTypeOf(btf, v.type);
    if (!kind) fail(ctx, `extern (kcfg) '${v.name}': type is unsupported (libbpf takes bool, char, 2/4/8-byte integers, enum libbpf_tristate and char arrays)`);
    return { vi, name: v.name, size: btf.sizeof(v.type), align: alignOf(btf, v.type), symbol, kind };
  });
  externs.sort((a, b) => b.align - a.align || a.size - b.size || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let end = 0;
  const offsets = new Map<number, number>();
  const described: KconfigExtern[] = [];
  for (const ext of externs) {
    const off = Math.ceil(end / ext.align) * ext.align;
    ext.vi.offset = off; // keep the DATASEC in step, as libbpf rewrites it
    end = off + ext.size;
    if (ext.symbol) offsets.set(ext.symbol.index, off);
    // libbpf's ext->is_weak: the symbol's binding (bpf_object__collect_externs)
    described.push({ name: ext.name, offset: off, size: ext.size, type: ext.kind.type, signed: ext.kind.signed, weak: ext.symbol?.bind === STB_WEAK });
  }
  datasec.size = end;
  const mapIndex = ctx.maps.length;
  ctx.maps.push({
    name: internalMapName(ctx.objName, KCONFIG_SECTION),
    type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY,
    typeName: mapTypeName(BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY),
    keySize: 4,
    valueSize: end,
    maxEntries: 1,
    flags: BPF_F_RDONLY_PROG,
    numaNode: 0,
    pinning: LIBBPF_PIN_NONE,
    mapExtra: 0,
    valueTypeId: datasec.id,
    initialValue: new Uint8Array(end),
    readonly: true,
    section: KCONFIG_SECTION,
    origin: 'kconfig',
  });
  // No ELF section backs .kconfig; a placement that matches nothing keeps the arrays parallel.
  ctx.placements.push({ sectionIndex: -1, offset: 0, size: end });
  return { mapIndex, offsets, spec: { mapIndex, externs: described } };
}
