// Values for __kconfig externs, as libbpf fills the `.kconfig` map at load time
// (tools/lib/bpf/libbpf.c: bpf_object__resolve_externs, bpf_object__process_kconfig_line,
// set_kcfg_value_tri / _str / _num, is_kcfg_value_in_range, find_kcfg_type). libbpf reads the
// running kernel's config (/proc/config.gz or /boot/config-$(uname -r)) and uname; bpfbed has
// no running kernel of its own, so the values come from the caller, over documented defaults.
// Browser-safe: no file or process access here (parseKconfigText takes the text).
import type { Btf } from '../btf/btf.js';

/**
 * libbpf's enum kcfg_type: how an extern's BTF type takes a value (find_kcfg_type).
 * 'char' is a 1-byte integer that is not a bool.
 */
export type KconfigType = 'bool' | 'char' | 'int' | 'tristate' | 'char-array';

/** One __kconfig extern of an object and where its value lives in the .kconfig map. */
export interface KconfigExtern {
  name: string;
  /** Byte offset in the .kconfig map's value. */
  offset: number;
  size: number;
  type: KconfigType;
  /** For 'int' and 'char': the BTF int is signed (is_kcfg_value_in_range). */
  signed: boolean;
  /** Declared __weak: left 0 when no value is known instead of failing the load. */
  weak: boolean;
}

/** The object's .kconfig map (its index in ObjectSpec.maps) and its externs. */
export interface KconfigSpec {
  mapIndex: number;
  externs: KconfigExtern[];
}

/**
 * A value for one extern. A string is read as the right-hand side of a `CONFIG_X=...` line of a
 * kernel .config, as libbpf reads it: `y`, `m`, `n` (tristate, bool or char), `"text"` (char
 * array), or an integer (decimal, 0x hex, 0 octal, a leading minus for signed types). A string
 * that is none of these is taken as the text of a char array (bpfbed's convenience for YAML, where
 * `CONFIG_X: foo` needs no inner quotes). For LINUX_KERNEL_VERSION a release such as `6.18.0` is
 * also accepted. Numbers and bigints are integers; true and false are `y` and `n`.
 */
export type KconfigValue = string | number | bigint | boolean;
/** Values by extern name; `undefined` means no value, also over a default (the extern is then 0 or an error). */
export type KconfigValues = Readonly<Record<string, KconfigValue | undefined>>;

/** include/uapi/linux/version.h KERNEL_VERSION: the patch level saturates at 255. */
export function kernelVersionCode(major: number, minor: number, patch: number): number {
  return ((major << 16) + (minor << 8) + Math.min(patch, 255)) >>> 0;
}

/**
 * LINUX_KERNEL_VERSION from a release string as libbpf's get_kernel_version computes it from
 * uname: sscanf("%u.%u.%u"), else undefined (libbpf then fails the load).
 */
export function kernelVersionFromRelease(release: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(release.trim());
  return m ? kernelVersionCode(Number(m[1]), Number(m[2]), Number(m[3])) : undefined;
}

/**
 * bpfbed's values when the caller gives none. The version is the kernel whose semantics bpfbed
 * follows; CONFIG_HZ is the clock's default HZ (src/env/clock.ts); the CONFIG_ options are the
 * subsystems bpfbed emulates (all built in, as a kernel that runs these programs has them).
 * LINUX_HAS_BPF_COOKIE is 0 because bpf_get_attach_cookie is not emulated; the syscall wrapper
 * exists on x86-64 since 4.17 (ARCH_HAS_SYSCALL_WRAPPER).
 */
export const KCONFIG_DEFAULTS: KconfigValues = Object.freeze({
  LINUX_KERNEL_VERSION: kernelVersionCode(6, 18, 0),
  LINUX_HAS_BPF_COOKIE: 0,
  LINUX_HAS_SYSCALL_WRAPPER: 1,
  CONFIG_HZ: 250,
  CONFIG_BPF: 'y',
  CONFIG_BPF_SYSCALL: 'y',
  CONFIG_NET: 'y',
  CONFIG_INET: 'y',
  CONFIG_IPV6: 'y',
  CONFIG_CGROUP_BPF: 'y',
  CONFIG_NET_CLS_ACT: 'y',
});

/** The virtual externs libbpf fills itself (bpf_object__resolve_externs); any other LINUX_ name is unknown. */
const LINUX_VIRTUAL = ['LINUX_KERNEL_VERSION', 'LINUX_HAS_BPF_COOKIE', 'LINUX_HAS_SYSCALL_WRAPPER'];

export class KconfigError extends Error {
  override name = 'KconfigError';
}

/** libbpf's find_kcfg_type (after skipping modifiers and typedefs); undefined: unsupported. */
export function kconfigTypeOf(btf: Btf, typeId: number): { type: KconfigType; signed: boolean } | undefined {
  const t = btf.resolve(typeId);
  switch (t.kind) {
    case 'int':
      if (t.bool) return t.size === 1 ? { type: 'bool', signed: false } : undefined;
      if (t.size === 1) return { type: 'char', signed: t.signed };
      return [2, 4, 8].includes(t.size) ? { type: 'int', signed: t.signed } : undefined;
    case 'enum':
      return t.size === 4 && t.name === 'libbpf_tristate' ? { type: 'tristate', signed: false } : undefined;
    case 'enum64':
      return t.name === 'libbpf_tristate' ? { type: 'tristate', signed: false } : undefined;
    case 'array':
      return t.nelems > 0 && kconfigTypeOf(btf, t.type)?.type === 'char' ? { type: 'char-array', signed: false } : undefined;
    default:
      return undefined;
  }
}

/**
 * The CONFIG_ lines of a kernel .config as name → right-hand side (the text after '='), as
 * libbpf's bpf_object__process_kconfig_line splits them; comments ("# CONFIG_X is not set") and
 * other lines are skipped. A CONFIG_ line without '=' or without a value is an error naming it.
 */
export function parseKconfigText(text: string, source = 'kconfig'): Record<string, string> {
  const out: Record<string, string> = {};
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    if (!line.startsWith('CONFIG_')) return;
    const eq = line.indexOf('=');
    if (eq < 0) throw new KconfigError(`${source}: line ${i + 1}: '${line}': no separator`);
    if (eq === line.length - 1) throw new KconfigError(`${source}: line ${i + 1}: '${line}': no value`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  });
  return out;
}

const U64 = (1n << 64n) - 1n;

/** libbpf's parse_u64 (strtoull with base 0); a leading minus wraps as strtoull does. */
function parseInteger(text: string): bigint | undefined {
  const m = /^(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(text);
  if (!m) return undefined;
  const digits = m[2];
  const magnitude = /^0[xX]/.test(digits) ? BigInt(digits) : digits.length > 1 && digits[0] === '0' ? BigInt(`0o${digits.slice(1)}`) : BigInt(digits);
  if (magnitude > U64) return undefined;
  return m[1] ? (-magnitude) & U64 : magnitude;
}

/** is_kcfg_value_in_range: the u64 fits the target integer without losing information. */
function inRange(ext: KconfigExtern, v: bigint): boolean {
  if (ext.size === 8) return true;
  const bits = BigInt(ext.size * 8);
  if (ext.signed) return ((v + (1n << (bits - 1n))) & U64) < 1n << bits;
  return v >> bits === 0n;
}

function writeUint(out: DataView, ext: KconfigExtern, v: bigint): void {
  for (let i = 0; i < ext.size; i++) out.setUint8(ext.offset + i, Number((v >> BigInt(8 * i)) & 0xffn)); // little-endian, as the BPF target
}

/** set_kcfg_value_num: integer, char or bool externs only; bool takes 0 or 1. */
function setNumber(out: DataView, ext: KconfigExtern, v: bigint, shown: string): void {
  if (ext.type !== 'int' && ext.type !== 'char' && ext.type !== 'bool') throw new KconfigError(`extern (kcfg) '${ext.name}': value '${shown}' implies integer, char, or boolean type, but it is ${describe(ext)}`);
  if (ext.type === 'bool' && v > 1n) throw new KconfigError(`extern (kcfg) '${ext.name}': value '${shown}' isn't boolean compatible`);
  if (!inRange(ext, v)) throw new KconfigError(`extern (kcfg) '${ext.name}': value '${shown}' out of range for ${ext.size}-byte ${ext.signed ? 'signed' : 'unsigned'} target integer`);
  writeUint(out, ext, v);
}

/** set_kcfg_value_tri: libbpf_tristate TRI_NO 0, TRI_YES 1, TRI_MODULE 2; bool refuses 'm'; char stores the letter. */
function setTristate(out: DataView, ext: KconfigExtern, letter: 'y' | 'm' | 'n'): void {
  switch (ext.type) {
    case 'bool':
      if (letter === 'm') throw new KconfigError(`extern (kcfg) '${ext.name}': value 'm' implies tristate or char type, but it is bool`);
      out.setUint8(ext.offset, letter === 'y' ? 1 : 0);
      return;
    case 'tristate':
      writeUint(out, ext, letter === 'y' ? 1n : letter === 'm' ? 2n : 0n);
      return;
    case 'char':
      out.setUint8(ext.offset, letter.charCodeAt(0));
      return;
    default:
      throw new KconfigError(`extern (kcfg) '${ext.name}': value '${letter}' implies bool, tristate, or char type, but it is ${describe(ext)}`);
  }
}

/** set_kcfg_value_str: char arrays only; a string too long is cut to size - 1, NUL-terminated. */
function setString(out: DataView, ext: KconfigExtern, text: string): void {
  if (ext.type !== 'char-array') throw new KconfigError(`extern (kcfg) '${ext.name}': value '"${text}"' implies char array type, but it is ${describe(ext)}`);
  const bytes = new TextEncoder().encode(text).subarray(0, ext.size - 1);
  for (let i = 0; i < ext.size; i++) out.setUint8(ext.offset + i, i < bytes.length ? bytes[i] : 0);
}

function describe(ext: KconfigExtern): string {
  if (ext.type === 'int' || ext.type === 'char') return `a ${ext.size}-byte ${ext.signed ? 'signed' : 'unsigned'} ${ext.type === 'char' ? 'char' : 'integer'}`;
  return ext.type === 'char-array' ? `a char[${ext.size}]` : ext.type;
}

/** One CONFIG_ value, typed by the extern (bpf_object__process_kconfig_line). */
function setConfig(out: DataView, ext: KconfigExtern, value: KconfigValue): void {
  if (typeof value === 'boolean') return setTristate(out, ext, value ? 'y' : 'n');
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new KconfigError(`extern (kcfg) '${ext.name}': value ${value} is not an integer`);
    // an integer on a config line implies an integer or char extern (not bool)
    if (ext.type !== 'int' && ext.type !== 'char') throw new KconfigError(`extern (kcfg) '${ext.name}': value '${value}' implies integer type, but it is ${describe(ext)}`);
    return setNumber(out, ext, BigInt(value) & U64, String(value));
  }
  if (value === 'y' || value === 'm' || value === 'n') return setTristate(out, ext, value);
  if (value.startsWith('"')) {
    if (value.length < 2 || !value.endsWith('"')) throw new KconfigError(`extern (kcfg) '${ext.name}': invalid string config '${value}'`);
    return setString(out, ext, value.slice(1, -1));
  }
  const n = parseInteger(value);
  if (n !== undefined) {
    if (ext.type !== 'int' && ext.type !== 'char') throw new KconfigError(`extern (kcfg) '${ext.name}': value '${value}' implies integer type, but it is ${describe(ext)}`);
    return setNumber(out, ext, n, value);
  }
  return setString(out, ext, value);
}

/** A value for one of libbpf's virtual LINUX_ externs (set_kcfg_value_num). */
function setVirtual(out: DataView, ext: KconfigExtern, value: KconfigValue): void {
  let v: bigint | undefined;
  if (typeof value === 'boolean') v = value ? 1n : 0n;
  else if (typeof value === 'number') v = Number.isSafeInteger(value) ? BigInt(value) & U64 : undefined;
  else if (typeof value === 'bigint') v = value & U64;
  else if (ext.name === 'LINUX_KERNEL_VERSION' && /^\d+\.\d+\.\d+/.test(value)) v = BigInt(kernelVersionFromRelease(value)!);
  else v = parseInteger(value);
  if (v === undefined) throw new KconfigError(`extern (kcfg) '${ext.name}': value '${String(value)}' is not an integer${ext.name === 'LINUX_KERNEL_VERSION' ? ' or a release such as 6.18.0' : ''}`);
  setNumber(out, ext, v, String(value));
}

export interface ResolveKconfigOptions {
  /** Start from KCONFIG_DEFAULTS (default true); false: only `values`, as libbpf with a full config. */
  defaults?: boolean;
}

/**
 * The .kconfig map's bytes for `values` (over KCONFIG_DEFAULTS unless `defaults` is false), as
 * bpf_object__resolve_externs fills them: CONFIG_ externs from the values typed by their BTF;
 * LINUX_KERNEL_VERSION, LINUX_HAS_BPF_COOKIE, LINUX_HAS_SYSCALL_WRAPPER from the values; an extern
 * without a value stays 0 when __weak and fails when strong; any other name fails (libbpf
 * supports only CONFIG_ and its own LINUX_ externs, and an unknown LINUX_ one only when weak).
 * Values for names the object does not declare are ignored, as libbpf ignores config lines.
 */
export function resolveKconfig(kconfig: KconfigSpec, size: number, values: KconfigValues = {}, opts: ResolveKconfigOptions = {}): Uint8Array {
  const all: KconfigValues = opts.defaults === false ? values : { ...KCONFIG_DEFAULTS, ...values };
  const bytes = new Uint8Array(size);
  const out = new DataView(bytes.buffer);
  const has = (name: string) => Object.prototype.hasOwnProperty.call(all, name) && all[name] !== undefined;
  for (const ext of kconfig.externs) {
    if (ext.name.startsWith('CONFIG_')) {
      if (has(ext.name)) setConfig(out, ext, all[ext.name]!);
      else if (!ext.weak) throw new KconfigError(`extern '${ext.name}' (strong): not resolved: give it a value (loader option kconfig, scenario field kconfig) or declare it __weak`);
    } else if (LINUX_VIRTUAL.includes(ext.name)) {
      if (has(ext.name)) setVirtual(out, ext, all[ext.name]!);
      else if (!ext.weak) throw new KconfigError(`extern '${ext.name}' (strong): not resolved: give it a value (loader option kconfig, scenario field kconfig)`);
    } else if (!ext.name.startsWith('LINUX_') || !ext.weak) {
      throw new KconfigError(`extern (kcfg) '${ext.name}': unrecognized virtual extern (libbpf fills only CONFIG_* and ${LINUX_VIRTUAL.join(', ')}; an unknown LINUX_* extern must be __weak)`);
    }
  }
  return bytes;
}
