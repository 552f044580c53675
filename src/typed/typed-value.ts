// Map keys and values as people write them: fields by their BTF names, IPv4/IPv6 addresses and
// MACs in text form, network-order integers (__be16, __be32, __be64) as their host values
// (a port is written 80, not 0x5000). This layers on the plain BTF codec of src/btf/value.ts:
// text forms are turned into the bytes the kernel would hold, then into the codec's values.
//
// Which fields are addresses: a __be32 whose field name says so (addr, ip, saddr, daddr, src,
// dst, vip, nexthop, gw…), any 16-byte array/struct/union so named or typed (struct in6_addr,
// union v6addr), and any 6-byte u8 array named like a MAC (mac, h_source, h_dest, smac, dmac).
// Writing accepts either form everywhere: a string or a host-order number for a __be32.
import type { Btf } from '../btf/btf.js';
import { decodeValue, encodeValue } from '../btf/value.js';
import { formatIPv4, formatIPv6, formatMac, parseIPv4, parseIPv6, parseMac } from '../env/addr.js';

export type TypedValue = string | number | bigint | boolean | null | TypedValue[] | { [field: string]: TypedValue };

export class TypedValueError extends Error {
  override name = 'TypedValueError';
}

const ADDRESS_NAME = /(^|_)(addr|address|ip|ip4|ip6|ipv4|ipv6|saddr|daddr|src|dst|vip|nexthop|gw|gateway|v4|v6)(\d*)($|_)/i;
const MAC_NAME = /(^|_)(mac|h_source|h_dest|smac|dmac|hwaddr|lladdr)($|_)/i;

interface Shape {
  /** The first typedef name on the way to the real type (__be32, __u8, ...). */
  typedef?: string;
  kind: string;
  size: number;
  name: string;
}

function shapeOf(btf: Btf, typeId: number): Shape {
  let typedef: string | undefined;
  let t = btf.type(typeId);
  for (let guard = 0; guard < 32; guard++) {
    if (t.kind === 'typedef' && typedef === undefined) typedef = t.name;
    if (t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') {
      t = btf.type(t.type);
      continue;
    }
    break;
  }
  return { typedef, kind: t.kind, size: btf.sizeof(typeId), name: t.name };
}

type TextForm = 'ipv4' | 'ipv6' | 'mac' | 'be16' | 'be32' | 'be64' | undefined;

function textForm(btf: Btf, typeId: number, fieldName: string): TextForm {
  const s = shapeOf(btf, typeId);
  if (s.typedef === '__be16') return 'be16';
  if (s.typedef === '__be64') return 'be64';
  if (s.typedef === '__be32') return ADDRESS_NAME.test(fieldName) ? 'ipv4' : 'be32';
  const named = ADDRESS_NAME.test(fieldName) || /in6_addr|v6addr/.test(s.name);
  if (s.size === 16 && (s.kind === 'array' || s.kind === 'struct' || s.kind === 'union') && named) return 'ipv6';
  if (s.size === 6 && s.kind === 'array' && MAC_NAME.test(fieldName)) return 'mac';
  return undefined;
}

const swap16 = (v: number) => ((v & 0xff) << 8) | ((v >> 8) & 0xff);
const swap32 = (v: number) => (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
function swap64(v: bigint): bigint {
  let out = 0n;
  for (let i = 0n; i < 8n; i++) out = (out << 8n) | ((v >> (8n * i)) & 0xffn);
  return out;
}

/** Raw bytes written as hex: "0a 60 00 0a", "0a60000a", "0x0a,0x60". */
function parseHexBytes(text: string): Uint8Array | undefined {
  const tokens = text.trim().split(/[\s,:]+/).filter(Boolean);
  if (tokens.length === 0) return undefined;
  const digits = tokens.map((t) => t.replace(/^0x/i, '')).join('');
  if (!/^[0-9a-f]*$/i.test(digits) || digits.length % 2) return undefined;
  return Uint8Array.from(digits.match(/../g) ?? [], (h) => parseInt(h, 16));
}

function isCharArray(btf: Btf, typeId: number): boolean {
  const r = btf.resolve(typeId);
  if (r.kind !== 'array' || btf.sizeof(r.type) !== 1) return false;
  const elem = shapeOf(btf, r.type);
  return elem.kind === 'int' && /char/.test(elem.typedef ?? elem.name);
}

const isObject = (v: unknown): v is Record<string, TypedValue> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value src/btf/value.ts's encodeValue takes for `value` written in typed form. */
function toCodec(btf: Btf, typeId: number, value: TypedValue, path: string, fieldName: string): unknown {
  const size = btf.sizeof(typeId);
  const form = textForm(btf, typeId, fieldName);
  const asBytes = (bytes: Uint8Array) => {
    if (bytes.length !== size) throw new TypedValueError(`${path}: ${bytes.length} bytes given for a ${size}-byte ${btf.describe(typeId)}`);
    return decodeValue(btf, typeId, bytes);
  };
  if (typeof value === 'string') {
    try {
      if (form === 'ipv4' || (form === 'be32' && /^\d+\.\d+\.\d+\.\d+$/.test(value))) return asBytes(parseIPv4(value));
      if (form === 'ipv6' && value.includes(':')) return asBytes(parseIPv6(value));
      if (form === 'mac') return asBytes(parseMac(value));
      if (size === 16 && value.includes(':') && !/^([0-9a-f]{2}[ :,]?)+$/i.test(value)) return asBytes(parseIPv6(value));
      if (size === 4 && /^\d+\.\d+\.\d+\.\d+$/.test(value)) return asBytes(parseIPv4(value));
    } catch (err) {
      throw new TypedValueError(`${path}: ${(err as Error).message}`);
    }
    if (isCharArray(btf, typeId)) {
      // char name[N]: text, NUL-padded (and NUL-terminated when it fits)
      const text = new TextEncoder().encode(value);
      if (text.length > size) throw new TypedValueError(`${path}: '${value}' is longer than ${btf.describe(typeId)}`);
      const out = new Uint8Array(size);
      out.set(text);
      return asBytes(out);
    }
    const bytes = parseHexBytes(value);
    if (bytes) return asBytes(bytes);
    const r = btf.resolve(typeId);
    if (r.kind === 'enum' || r.kind === 'enum64') {
      const e = r.values.find((v) => v.name === value);
      if (e) return e.value;
    }
    throw new TypedValueError(`${path}: cannot read '${value}' as a ${btf.describe(typeId)}`);
  }
  if (typeof value === 'number' || typeof value === 'bigint') {
    if (form === 'be16') return swap16(Number(value) & 0xffff);
    if (form === 'be32' || form === 'ipv4') return swap32(Number(BigInt.asUintN(32, BigInt(value))));
    if (form === 'be64') return swap64(BigInt.asUintN(64, BigInt(value)));
    return value;
  }
  const r = btf.resolve(typeId);
  if (Array.isArray(value)) {
    if (r.kind !== 'array') throw new TypedValueError(`${path}: a list given for a ${btf.describe(typeId)}`);
    if (value.length > r.nelems) throw new TypedValueError(`${path}: ${value.length} elements given for ${r.nelems}`);
    return value.map((v, i) => toCodec(btf, r.type, v, `${path}[${i}]`, fieldName));
  }
  if (isObject(value)) {
    if (r.kind !== 'struct' && r.kind !== 'union') throw new TypedValueError(`${path}: fields given for a ${btf.describe(typeId)}`);
    const out: Record<string, unknown> = {};
    const known = new Set<string>();
    const walk = (structId: number) => {
      for (const m of btf.members(structId)) {
        if (m.name === '') {
          walk(m.type); // anonymous struct/union: its fields are the outer struct's, as in C
          continue;
        }
        known.add(m.name);
        if (m.name in value) out[m.name] = toCodec(btf, m.type, value[m.name], `${path}.${m.name}`, m.name);
      }
    };
    walk(typeId);
    for (const k of Object.keys(value)) {
      if (!known.has(k)) throw new TypedValueError(`${path}: ${btf.describe(typeId)} has no field '${k}' (fields: ${[...known].join(', ')})`);
    }
    return out;
  }
  if (typeof value === 'boolean') return value;
  throw new TypedValueError(`${path}: cannot encode ${String(value)}`);
}

/** Bytes of a value of BTF type `typeId` written in typed form. Omitted fields are zero. */
export function encodeTyped(btf: Btf, typeId: number, value: TypedValue, path = 'value'): Uint8Array {
  try {
    return encodeValue(btf, typeId, toCodec(btf, typeId, value, path, ''));
  } catch (err) {
    if (err instanceof TypedValueError) throw err;
    throw new TypedValueError(`${path}: ${(err as Error).message}`);
  }
}

/** A value of BTF type `typeId` in typed form: text for addresses, host order for __be fields. */
export function decodeTyped(btf: Btf, typeId: number, bytes: Uint8Array): TypedValue {
  return present(btf, typeId, bytes, 0, '');
}

function present(btf: Btf, typeId: number, bytes: Uint8Array, at: number, fieldName: string): TypedValue {
  const size = btf.sizeof(typeId);
  const slice = bytes.subarray(at, at + size);
  const view = new DataView(slice.buffer, slice.byteOffset, slice.byteLength);
  switch (textForm(btf, typeId, fieldName)) {
    case 'ipv4':
      return formatIPv4(slice);
    case 'ipv6':
      return formatIPv6(slice);
    case 'mac':
      return formatMac(slice);
    case 'be16':
      return view.getUint16(0, false);
    case 'be32':
      return view.getUint32(0, false);
    case 'be64':
      return view.getBigUint64(0, false);
  }
  const r = btf.resolve(typeId);
  if (r.kind === 'array') {
    const elemSize = btf.sizeof(r.type);
    // char arrays read as strings when they hold text
    if (isCharArray(btf, typeId)) {
      const end = slice.indexOf(0);
      const text = new TextDecoder().decode(slice.subarray(0, end < 0 ? slice.length : end));
      if (/^[\x20-\x7e]*$/.test(text)) return text;
    }
    return Array.from({ length: r.nelems }, (_, i) => present(btf, r.type, slice, i * elemSize, fieldName));
  }
  if (r.kind === 'struct' || r.kind === 'union') {
    const out: Record<string, TypedValue> = {};
    const codec = decodeValue(btf, typeId, slice) as Record<string, TypedValue>;
    const walk = (structId: number, base: number) => {
      for (const m of btf.members(structId)) {
        const off = base + m.bitOffset / 8;
        if (m.name === '') walk(m.type, off);
        else if (m.bitfieldSize > 0 || m.bitOffset % 8 !== 0) out[m.name] = codec[m.name];
        else out[m.name] = present(btf, m.type, slice, off, m.name);
      }
    };
    walk(typeId, 0);
    return out;
  }
  return decodeValue(btf, typeId, slice) as TypedValue;
}

/**
 * Where `actual` (bytes of type `typeId`) differs from `expected` (typed form, partial: only the
 * fields given are compared). Returns one line per difference, e.g.
 * `value.backend: 10.0.1.5 expected, 10.0.1.6 found`.
 */
export function diffTyped(btf: Btf, typeId: number, expected: TypedValue, actual: Uint8Array, path = 'value'): string[] {
  const normalized = decodeTyped(btf, typeId, encodeTyped(btf, typeId, expected, path));
  return compare(expected, normalized, decodeTyped(btf, typeId, actual), path);
}

function compare(given: TypedValue, want: TypedValue, got: TypedValue, path: string): string[] {
  if (isObject(given) && isObject(want) && isObject(got)) {
    return Object.keys(given).flatMap((k) => compare(given[k], want[k], got[k], `${path}.${k}`));
  }
  if (Array.isArray(given) && Array.isArray(want) && Array.isArray(got)) {
    return given.flatMap((g, i) => compare(g, want[i], got[i], `${path}[${i}]`));
  }
  const show = (v: TypedValue) =>
    typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? Number(x) : x));
  return show(want) === show(got) ? [] : [`${path}: ${show(want)} expected, ${show(got)} found`];
}
