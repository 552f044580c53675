// Map definitions: legacy `maps` sections, BTF-defined `.maps`, and global data sections
// as one-entry array maps (libbpf's bpf_object__init_maps, in its order: legacy, BTF,
// global data).
import { SHT_NOBITS, SHT_PROGBITS, STT_SECTION, type ElfSection, R_BPF_64_ABS32, R_BPF_64_ABS64, R_BPF_NONE, SHF_EXECINSTR } from '../elf/reader.js';
import { BTF_VAR_STATIC } from '../btf/types.js';
import type { BtfType } from '../btf/types.js';
import { fail, symbolLabel, symbolSection, type LoadContext } from './context.js';
import type { MapSlot, MapSpec } from './spec.js';
import {
  BPF_F_MMAPABLE,
  BPF_F_RDONLY_PROG,
  BPF_MAP_TYPE,
  BPF_OBJ_NAME_LEN,
  LIBBPF_PIN_BY_NAME,
  LIBBPF_PIN_NONE,
  mapTypeName,
} from './uapi.js';

export const BTF_MAPS_SECTION = '.maps';

/** Largest global data section the loader accepts (the kernel caps array values far lower in practice). */
export const MAX_GLOBAL_DATA = 64 * 1024 * 1024;

export function isLegacyMapsSection(name: string): boolean {
  return name === 'maps' || name.startsWith('maps/');
}

/** libbpf's classification of global data sections (bpf_object__elf_collect). */
export function globalDataKind(s: ElfSection): 'data' | 'rodata' | 'bss' | undefined {
  const is = (base: string) => s.name === base || s.name.startsWith(base + '.');
  if (s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) === 0) {
    if (is('.data')) return 'data';
    if (is('.rodata')) return 'rodata';
  }
  if (s.type === SHT_NOBITS && is('.bss')) return 'bss';
  return undefined;
}

/** libbpf's internal_map_name: '<obj>.rodata' with the object name cut to fit 15 chars; custom '.data.x' kept as is. */
export function internalMapName(objName: string, sectionName: string): string {
  let sfxLen = Math.max(7, sectionName.length);
  if (sfxLen >= BPF_OBJ_NAME_LEN) sfxLen = BPF_OBJ_NAME_LEN - 1;
  const pfxLen = sectionName.indexOf('.', 1) >= 0 ? 0 : Math.min(BPF_OBJ_NAME_LEN - sfxLen - 1, objName.length);
  const name = (objName.slice(0, pfxLen) + sectionName.slice(0, sfxLen)).slice(0, BPF_OBJ_NAME_LEN - 1);
  return name.replace(/[^A-Za-z0-9_.]/g, '_');
}

function baseMap(partial: Partial<MapSpec> & Pick<MapSpec, 'name' | 'type' | 'section' | 'origin'>): MapSpec {
  return {
    typeName: mapTypeName(partial.type),
    keySize: 0,
    valueSize: 0,
    maxEntries: 0,
    flags: 0,
    numaNode: 0,
    pinning: LIBBPF_PIN_NONE,
    mapExtra: 0,
    readonly: false,
    ...partial,
  };
}

/** The page size libbpf's adjust_ringbuf_sz rounds to; 4 KiB as on x86-64 and most arm64 kernels. */
export const RINGBUF_PAGE_SIZE = 4096;

/**
 * libbpf's adjust_ringbuf_sz (fill_map_from_def): the kernel wants a ring buffer size that
 * is a power-of-2 multiple of the page size, so libbpf rounds a user's size up to one.
 */
export function adjustRingbufSize(size: number): number {
  if (size === 0) return 0;
  if (size % RINGBUF_PAGE_SIZE === 0) {
    const pages = size / RINGBUF_PAGE_SIZE;
    if ((pages & (pages - 1)) === 0) return size;
  }
  for (let mul = 1; mul * RINGBUF_PAGE_SIZE <= 0xffff_ffff; mul *= 2) {
    if (mul * RINGBUF_PAGE_SIZE > size) return mul * RINGBUF_PAGE_SIZE;
  }
  return size;
}

/** Legacy `struct bpf_map_def { type, key_size, value_size, max_entries, map_flags }` definitions. */
export function collectLegacyMaps(ctx: LoadContext, section: ElfSection): void {
  ctx.section = section.name;
  const data = ctx.elf.data(section);
  const syms = ctx.elf.symbols
    .filter((s) => s.shndx === section.index && s.type !== STT_SECTION && s.name !== '')
    .sort((a, b) => a.value - b.value);
  if (syms.length === 0) {
    if (data.length > 0) fail(ctx, 'legacy map definitions without symbols');
    return;
  }
  // Objects without symbol sizes: libbpf divided the section evenly among the maps.
  const evenSize = Math.floor(data.length / syms.length);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (const sym of syms) {
    const size = sym.size || evenSize;
    if (size < 16) fail(ctx, `map ${sym.name}: definition of ${size} bytes is too small for struct bpf_map_def`);
    if (sym.value > data.length || size > data.length - sym.value) {
      fail(ctx, `map ${sym.name}: definition at offset ${sym.value} (${size} bytes) is outside the section`);
    }
    const u32 = (i: number) => (i * 4 + 4 <= size ? view.getUint32(sym.value + i * 4, true) : 0);
    const type = u32(0);
    ctx.maps.push(
      baseMap({
        name: sym.name,
        type,
        keySize: u32(1),
        valueSize: u32(2),
        maxEntries: u32(3),
        flags: u32(4),
        section: section.name,
        origin: 'legacy',
      }),
    );
    ctx.placements.push({ sectionIndex: section.index, offset: sym.value, size });
  }
}

interface ParsedDef {
  map: MapSpec;
  /** Byte offset of the `values` member inside the definition, if present. */
  valuesOffset?: number;
  /** BTF id of the definition struct. */
  defTypeId: number;
}

/** libbpf's get_map_field_int: `int (*name)[N]` encodes N. */
function fieldInt(ctx: LoadContext, mapName: string, field: string, typeId: number): number {
  const btf = ctx.btf!;
  const ptr = btf.resolve(typeId);
  if (ptr.kind !== 'ptr') fail(ctx, `map ${mapName}: attribute ${field}: expected PTR, got ${ptr.kind}`);
  const arr = btf.type(ptr.type);
  if (arr.kind !== 'array') fail(ctx, `map ${mapName}: attribute ${field}: expected ARRAY, got ${arr.kind}`);
  return arr.nelems;
}

/** libbpf's parse_btf_map_def (tools/lib/bpf/libbpf.c). */
function parseBtfMapDef(ctx: LoadContext, mapName: string, def: BtfType, isInner: boolean): ParsedDef {
  const btf = ctx.btf!;
  if (def.kind !== 'struct') fail(ctx, `map ${mapName}: definition is ${def.kind}, not a struct`);
  const map = baseMap({ name: mapName, type: 0, section: BTF_MAPS_SECTION, origin: 'btf' });
  let valuesOffset: number | undefined;
  const setSize = (which: 'keySize' | 'valueSize', size: number) => {
    if (map[which] && map[which] !== size) {
      fail(ctx, `map ${mapName}: conflicting ${which === 'keySize' ? 'key' : 'value'} size ${map[which]} != ${size}`);
    }
    map[which] = size;
  };
  def.members.forEach((m, i) => {
    switch (m.name) {
      case 'type':
        map.type = fieldInt(ctx, mapName, m.name, m.type);
        break;
      case 'max_entries':
        map.maxEntries = fieldInt(ctx, mapName, m.name, m.type);
        break;
      case 'map_flags':
        map.flags = fieldInt(ctx, mapName, m.name, m.type);
        break;
      case 'numa_node':
        map.numaNode = fieldInt(ctx, mapName, m.name, m.type);
        break;
      case 'map_extra':
        map.mapExtra = fieldInt(ctx, mapName, m.name, m.type);
        break;
      case 'key_size':
        setSize('keySize', fieldInt(ctx, mapName, m.name, m.type));
        break;
      case 'value_size':
        setSize('valueSize', fieldInt(ctx, mapName, m.name, m.type));
        break;
      case 'key':
      case 'value': {
        const ptr = btf.type(m.type);
        if (ptr.kind !== 'ptr') fail(ctx, `map ${mapName}: ${m.name} spec is not PTR: ${ptr.kind}`);
        setSize(m.name === 'key' ? 'keySize' : 'valueSize', btf.sizeof(ptr.type));
        if (m.name === 'key') map.keyTypeId = ptr.type;
        else map.valueTypeId = ptr.type;
        break;
      }
      case 'pinning': {
        if (isInner) fail(ctx, `map ${mapName}: inner def can't be pinned`);
        const pin = fieldInt(ctx, mapName, m.name, m.type);
        if (pin !== LIBBPF_PIN_NONE && pin !== LIBBPF_PIN_BY_NAME) fail(ctx, `map ${mapName}: invalid pinning value ${pin}`);
        map.pinning = pin;
        break;
      }
      case 'values': {
        const isMapInMap = map.type === BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY_OF_MAPS || map.type === BPF_MAP_TYPE.BPF_MAP_TYPE_HASH_OF_MAPS;
        const isProgArray = map.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY;
        if (isInner) fail(ctx, `map ${mapName}: multi-level inner maps not supported`);
        if (i !== def.members.length - 1) fail(ctx, `map ${mapName}: 'values' member should be last`);
        if (!isMapInMap && !isProgArray) fail(ctx, `map ${mapName}: 'values' needs a map-in-map or prog-array`);
        setSize('valueSize', 4);
        const arr = btf.type(m.type);
        if (arr.kind !== 'array' || arr.nelems !== 0) fail(ctx, `map ${mapName}: 'values' spec is not a zero-sized array`);
        const ptr = btf.resolve(arr.type);
        if (ptr.kind !== 'ptr') fail(ctx, `map ${mapName}: 'values' element is ${ptr.kind}, not a pointer`);
        const target = btf.resolve(ptr.type);
        if (m.bitOffset % 8 !== 0) fail(ctx, `map ${mapName}: 'values' is not byte-aligned`);
        valuesOffset = m.bitOffset / 8;
        if (isProgArray) {
          if (target.kind !== 'func_proto') fail(ctx, `map ${mapName}: prog-array value def is ${target.kind}`);
          break;
        }
        map.innerMap = parseBtfMapDef(ctx, `${mapName}.inner`, target, true).map;
        break;
      }
      default:
        // libbpf in non-strict mode ignores unknown fields.
        break;
    }
  });
  if (map.type === BPF_MAP_TYPE.BPF_MAP_TYPE_UNSPEC) fail(ctx, `map ${mapName}: map type isn't specified`);
  map.typeName = mapTypeName(map.type);
  if (map.type === BPF_MAP_TYPE.BPF_MAP_TYPE_RINGBUF || map.type === BPF_MAP_TYPE.BPF_MAP_TYPE_USER_RINGBUF) {
    map.maxEntries = adjustRingbufSize(map.maxEntries);
  }
  return { map, valuesOffset, defTypeId: def.id };
}

/** BTF-defined maps: the VARs of the `.maps` DATASEC (libbpf's bpf_object__init_user_btf_maps). */
export function collectBtfMaps(ctx: LoadContext, section: ElfSection): Map<number, ParsedDef> {
  ctx.section = section.name;
  const parsed = new Map<number, ParsedDef>();
  const btf = ctx.btf;
  if (!btf) fail(ctx, 'BTF-defined maps need a .BTF section');
  const datasec = btf.typeByName(BTF_MAPS_SECTION, 'datasec');
  if (!datasec || datasec.kind !== 'datasec') fail(ctx, `DATASEC '${BTF_MAPS_SECTION}' not found in BTF`);
  for (const vi of datasec.vars) {
    const v = btf.type(vi.type);
    if (v.kind !== 'var') fail(ctx, `map #${ctx.maps.length}: unexpected ${v.kind} in DATASEC`);
    const name = v.name;
    if (!name) fail(ctx, `map #${ctx.maps.length}: empty name`);
    if (vi.offset + vi.size > section.size) fail(ctx, `map ${name}: BTF data is corrupted (offset ${vi.offset} + ${vi.size} beyond the section)`);
    const def = btf.resolve(v.type);
    if (def.kind === 'struct' && def.size > vi.size) fail(ctx, `map ${name}: invalid def size`);
    const result = parseBtfMapDef(ctx, name, def, false);
    parsed.set(ctx.maps.length, result);
    ctx.maps.push(result.map);
    ctx.placements.push({ sectionIndex: section.index, offset: vi.offset, size: vi.size });
  }
  return parsed;
}

/**
 * Static `values` of PROG_ARRAY and map-in-map definitions: R_BPF_64_ABS64 (or ABS32)
 * relocations in `.rel.maps` (libbpf's bpf_object__collect_map_relos).
 */
export function collectMapRelos(ctx: LoadContext, rel: ElfSection, parsed: Map<number, ParsedDef>): void {
  ctx.section = rel.name;
  const relocs = ctx.elf.relocations(rel);
  const slots = new Map<number, MapSlot[]>();
  relocs.forEach((r, i) => {
    const where = `relocation ${i}`;
    if (r.type === R_BPF_NONE) return;
    if (r.type !== R_BPF_64_ABS64 && r.type !== R_BPF_64_ABS32) fail(ctx, `${where}: unsupported relocation type ${r.type} in ${BTF_MAPS_SECTION}`);
    const sym = ctx.elf.symbols[r.symbol];
    const mapIndex = ctx.placements.findIndex(
      (p, mi) => parsed.has(mi) && p.sectionIndex === rel.info && p.offset <= r.offset && r.offset < p.offset + p.size,
    );
    if (mapIndex < 0) fail(ctx, `${where}: no map definition at offset ${r.offset}`);
    const map = ctx.maps[mapIndex];
    const def = parsed.get(mapIndex)!;
    if (def.valuesOffset === undefined) fail(ctx, `${where}: map ${map.name} has no 'values' member`);
    const moff = r.offset - ctx.placements[mapIndex].offset - def.valuesOffset;
    const ptrSize = 8;
    if (moff < 0 || moff % ptrSize !== 0) fail(ctx, `${where}: map ${map.name}: bad 'values' offset ${moff}`);
    const index = moff / ptrSize;
    if (index >= map.maxEntries) fail(ctx, `${where}: map ${map.name}: slot ${index} is beyond max_entries ${map.maxEntries}`);
    const targetSection = symbolSection(ctx, sym, where);
    let slot: MapSlot;
    if (map.type === BPF_MAP_TYPE.BPF_MAP_TYPE_PROG_ARRAY) {
      if ((targetSection.flags & SHF_EXECINSTR) === 0) fail(ctx, `${where}: map ${map.name}: ${symbolLabel(ctx, sym)} is not a program`);
      slot = { index, target: sym.name, kind: 'program' };
    } else {
      const target = ctx.placements.findIndex((p, mi) => parsed.has(mi) && p.sectionIndex === sym.shndx && p.offset === sym.value);
      if (target < 0) fail(ctx, `${where}: map ${map.name}: ${symbolLabel(ctx, sym)} is not a map`);
      slot = { index, target: ctx.maps[target].name, kind: 'map' };
    }
    let list = slots.get(mapIndex);
    if (!list) slots.set(mapIndex, (list = []));
    list.push(slot);
  });
  for (const [mapIndex, list] of slots) ctx.maps[mapIndex].contents = list.sort((a, b) => a.index - b.index);
}

/** Global data sections as single-entry array maps (libbpf's bpf_object__init_global_data_maps). */
export function collectGlobalData(ctx: LoadContext): void {
  for (const s of ctx.elf.sections) {
    const kind = globalDataKind(s);
    if (!kind || s.size === 0) continue;
    ctx.section = s.name;
    // .bss has no bytes in the file, so its size is unchecked: refuse absurd ones before allocating.
    if (s.size > MAX_GLOBAL_DATA) fail(ctx, `global data of ${s.size} bytes exceeds the loader's limit of ${MAX_GLOBAL_DATA}`);
    const datasec = ctx.btf?.typeByName(s.name, 'datasec');
    // Exposed to user space (BPF_F_MMAPABLE) when any variable is not static (libbpf's map_is_mmapable).
    const mmapable =
      datasec?.kind === 'datasec' &&
      datasec.vars.some((vi) => {
        const v = ctx.btf!.types[vi.type];
        return v?.kind === 'var' && v.linkage !== BTF_VAR_STATIC;
      });
    const readonly = kind === 'rodata';
    ctx.maps.push(
      baseMap({
        name: internalMapName(ctx.objName, s.name),
        type: BPF_MAP_TYPE.BPF_MAP_TYPE_ARRAY,
        keySize: 4,
        valueSize: s.size,
        maxEntries: 1,
        flags: (readonly ? BPF_F_RDONLY_PROG : 0) | (mmapable ? BPF_F_MMAPABLE : 0),
        valueTypeId: datasec?.id,
        initialValue: kind === 'bss' ? new Uint8Array(s.size) : ctx.elf.data(s).slice(),
        readonly,
        section: s.name,
        origin: 'global',
      }),
    );
    ctx.placements.push({ sectionIndex: s.index, offset: 0, size: s.size });
  }
}
