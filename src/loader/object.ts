// loadObject: an ELF BPF object → ObjectSpec (plain data). The passes follow libbpf's
// bpf_object_open: collect sections, parse BTF (with btf_fixup_datasec), init maps
// (legacy, BTF-defined, global data), record relocations, then link each program.
// Like cilium/ebpf's internal.NewSafeELFFile, any unexpected exception becomes an
// ObjectLoadError that names the section being parsed.
import { BtfError, parseBtf } from '../btf/btf.js';
import { parseBtfExt } from '../btf/ext.js';
import { ElfError, ElfFile, SHF_EXECINSTR, SHT_PROGBITS, SHT_REL, SHT_RELA, STT_SECTION, type ElfSection } from '../elf/reader.js';
import { type LoadContext } from './context.js';
import { collectCodeRelocs, linkProgram, readCodeSection, type CodeSection } from './code.js';
import { ObjectLoadError, SectionError } from './errors.js';
import { BTF_MAPS_SECTION, collectBtfMaps, collectGlobalData, collectLegacyMaps, collectMapRelos, isLegacyMapsSection } from './maps.js';
import { collectKconfig, KCONFIG_SECTION } from './externs.js';
import { KconfigError, resolveKconfig, type KconfigValues } from './kconfig.js';
import { programTypeForSection } from './sections.js';
import type { ObjectSpec, ProgramSpec } from './spec.js';

export { ObjectLoadError } from './errors.js';
export { cloneObjectSpec, functionAt, lineInfoAt, mapIndexByName, programByName } from './spec.js';

export interface LoadObjectOptions {
  /** File name, used in error messages and (up to its first '.') in global data map names. */
  name?: string;
  /**
   * Values of __kconfig externs (CONFIG_*, LINUX_KERNEL_VERSION, ...), over KCONFIG_DEFAULTS
   * (kconfig.ts says how each form is typed). libbpf takes them from the running kernel; an
   * extern with no value is 0 when __weak and makes the load fail when strong.
   */
  kconfig?: KconfigValues;
  /** Start from KCONFIG_DEFAULTS (default true); false: only `kconfig`, as libbpf with a full config. */
  kconfigDefaults?: boolean;
}

/**
 * A copy of `spec` (sharing everything but the .kconfig map) whose __kconfig externs hold
 * `values` (over KCONFIG_DEFAULTS unless `defaults` is false). A spec without externs is
 * returned as it is. Throws ObjectLoadError naming the extern when a value does not fit.
 */
export function withKconfig(spec: ObjectSpec, values: KconfigValues = {}, opts: { defaults?: boolean } = {}): ObjectSpec {
  try {
    return applyKconfig(spec, values, opts);
  } catch (e) {
    throw e instanceof KconfigError ? new ObjectLoadError(e.message, KCONFIG_SECTION, spec.name, { cause: e }) : e;
  }
}

function applyKconfig(spec: ObjectSpec, values: KconfigValues | undefined, opts: { defaults?: boolean }): ObjectSpec {
  const kconfig = spec.kconfig;
  if (!kconfig) return spec;
  const map = spec.maps[kconfig.mapIndex];
  const maps = spec.maps.slice();
  maps[kconfig.mapIndex] = { ...map, initialValue: resolveKconfig(kconfig, map.valueSize, values, opts) };
  return { ...spec, maps };
}

/** libbpf's object name: the file's base name up to the first '.' (bpf_object__new). */
export function objectNameFromFile(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1);
  const dot = base.indexOf('.');
  return (dot >= 0 ? base.slice(0, dot) : base) || 'obj';
}

/**
 * Parses an ELF64 BPF object into an ObjectSpec. Throws only ObjectLoadError.
 * Pure and browser-safe: nothing is instantiated.
 */
export function loadObject(bytes: Uint8Array, opts: LoadObjectOptions = {}): ObjectSpec {
  const ctx: Partial<LoadContext> & { section?: string } = {};
  let spec: ObjectSpec;
  try {
    spec = load(bytes, opts, ctx);
  } catch (e) {
    throw toLoadError(e, ctx.section, opts.name);
  }
  // libbpf resolves externs at bpf_object__load; the spec is what a load would see.
  try {
    return applyKconfig(spec, opts.kconfig, { defaults: opts.kconfigDefaults });
  } catch (e) {
    throw e instanceof KconfigError ? new ObjectLoadError(e.message, KCONFIG_SECTION, opts.name, { cause: e }) : e;
  }
}

function toLoadError(e: unknown, current: string | undefined, file: string | undefined): ObjectLoadError {
  if (e instanceof ObjectLoadError) return e;
  if (e instanceof SectionError) return new ObjectLoadError(e.message, e.section ?? current, file, { cause: e });
  if (e instanceof ElfError) return new ObjectLoadError(e.message, e.section ?? current, file, { cause: e });
  if (e instanceof BtfError) return new ObjectLoadError(e.message, current, file, { cause: e });
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new ObjectLoadError(`malformed object (${msg})`, current, file, { cause: e });
}

function load(bytes: Uint8Array, opts: LoadObjectOptions, partial: Partial<LoadContext>): ObjectSpec {
  if (!(bytes instanceof Uint8Array)) throw new ObjectLoadError('input is not a Uint8Array', undefined, opts.name);
  const elf = new ElfFile(bytes);
  const ctx = partial as LoadContext;
  Object.assign(ctx, { elf, objName: objectNameFromFile(opts.name ?? 'obj'), maps: [], placements: [] });

  const named = (name: string) => elf.sections.filter((s) => s.name === name);
  const one = (name: string): ElfSection | undefined => {
    const all = named(name);
    if (all.length > 1) {
      ctx.section = name;
      throw new SectionError('section appears more than once', name);
    }
    return all[0];
  };

  // license and version (libbpf's bpf_object__init_license / init_kversion).
  let license = '';
  const licenseSec = one('license');
  if (licenseSec) {
    ctx.section = licenseSec.name;
    const data = elf.data(licenseSec);
    const nul = data.indexOf(0);
    license = new TextDecoder().decode(data.subarray(0, nul < 0 ? data.length : nul));
  }
  let kernVersion = 0;
  const versionSec = one('version');
  if (versionSec) {
    ctx.section = versionSec.name;
    const data = elf.data(versionSec);
    if (data.length !== 4) throw new SectionError(`invalid size ${data.length}, expected 4`, versionSec.name);
    kernVersion = new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
  }

  // BTF, with libbpf's DATASEC fix-ups from the ELF section sizes and symbol values.
  const btfSec = one('.BTF');
  if (btfSec) {
    ctx.section = btfSec.name;
    ctx.btf = parseBtf(elf.data(btfSec));
    ctx.btf.fixupDatasecs(
      (name) => elf.sections.find((s) => s.name === name)?.size,
      (secName, varName) => {
        const sec = elf.sections.find((s) => s.name === secName);
        if (!sec) return undefined;
        return elf.symbols.find((s) => s.shndx === sec.index && s.name === varName && s.type !== STT_SECTION)?.value;
      },
    );
    const extSec = one('.BTF.ext');
    if (extSec) {
      ctx.section = extSec.name;
      ctx.ext = parseBtfExt(elf.data(extSec), ctx.btf);
    }
  }

  // Maps, in libbpf's order: legacy, BTF-defined, global data, .kconfig.
  for (const s of elf.sections) if (isLegacyMapsSection(s.name) && s.type === SHT_PROGBITS) collectLegacyMaps(ctx, s);
  const btfMapsSec = one(BTF_MAPS_SECTION);
  const btfMaps = btfMapsSec ? collectBtfMaps(ctx, btfMapsSec) : new Map();
  collectGlobalData(ctx);
  ctx.kconfig = collectKconfig(ctx);
  if (btfMapsSec) {
    for (const rel of elf.sections) {
      if (rel.type === SHT_REL && rel.info === btfMapsSec.index) collectMapRelos(ctx, rel, btfMaps);
    }
  }

  // Code sections, their relocations, then the linked programs.
  const code = new Map<number, CodeSection>();
  for (const s of elf.sections) {
    if (s.type === SHT_PROGBITS && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0) code.set(s.index, readCodeSection(ctx, s));
  }
  for (const rel of elf.sections) {
    // The BPF backend only emits SHT_REL; an SHT_RELA against code would be silently wrong if skipped.
    if (rel.type === SHT_RELA && code.has(rel.info)) throw new SectionError('RELA relocations are not supported for BPF code', rel.name);
    if (rel.type !== SHT_REL) continue;
    const target = code.get(rel.info);
    if (target) collectCodeRelocs(ctx, target, rel);
  }

  const programs: ProgramSpec[] = [];
  for (const cs of code.values()) {
    // .text holds subprograms, not programs (libbpf's prog_is_subprog).
    if (cs.section.name === '.text') continue;
    for (const fn of cs.functions) {
      ctx.section = cs.section.name;
      const linked = linkProgram(ctx, fn, code);
      const t = programTypeForSection(cs.section.name);
      programs.push({
        name: fn.name,
        section: cs.section.name,
        type: t?.type ?? 'unspec',
        typeId: t?.typeId ?? 0,
        expectedAttachType: t?.expectedAttachType,
        flags: t?.progFlags ?? 0,
        sleepable: t?.sleepable ?? false,
        xdpFrags: t?.xdpFrags ?? false,
        ...linked,
        license,
        kernVersion,
      });
    }
  }

  return { name: ctx.objName, programs, maps: ctx.maps, btf: ctx.btf, license, kernVersion, ...(ctx.kconfig ? { kconfig: ctx.kconfig.spec } : {}) };
}
