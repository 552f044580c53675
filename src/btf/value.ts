// Typed values through BTF: bytes of a struct / array / int / enum as plain JavaScript
// values and back, little-endian as the BPF target lays them out. Ints of up to 4 bytes
// are numbers, 8-byte ints and pointers are bigints, bools are booleans, structs are
// objects keyed by member name (anonymous members flattened, as C accesses them),
// arrays are arrays, DATASECs are objects keyed by variable name.
import { BtfError, type Btf } from './btf.js';
import type { BtfType } from './types.js';

const MAX_DEPTH = 32;

/** Decodes `bytes` (at least sizeof(typeId) long) as a value of type `typeId`. */
export function decodeValue(btf: Btf, typeId: number, bytes: Uint8Array): unknown {
  const size = btf.sizeof(typeId);
  if (bytes.length < size) throw new BtfError(`${btf.describe(typeId)}: need ${size} bytes, got ${bytes.length}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return decodeAt(btf, typeId, view, 0, btf.describe(typeId), 0);
}

/** Encodes `value` as type `typeId`; omitted struct members and array tails are zero. */
export function encodeValue(btf: Btf, typeId: number, value: unknown): Uint8Array {
  const out = new Uint8Array(btf.sizeof(typeId));
  encodeAt(btf, typeId, value, new DataView(out.buffer), 0, btf.describe(typeId), 0);
  return out;
}

function readInt(view: DataView, at: number, size: number, signed: boolean): number | bigint {
  switch (size) {
    case 1:
      return signed ? view.getInt8(at) : view.getUint8(at);
    case 2:
      return signed ? view.getInt16(at, true) : view.getUint16(at, true);
    case 4:
      return signed ? view.getInt32(at, true) : view.getUint32(at, true);
    case 8:
      return signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true);
    default: {
      // 16-byte (__int128) and odd sizes: little-endian bigint.
      let v = 0n;
      for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(view.getUint8(at + i));
      return signed ? BigInt.asIntN(size * 8, v) : v;
    }
  }
}

function writeInt(view: DataView, at: number, size: number, value: bigint): void {
  const masked = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) view.setUint8(at + i, Number((masked >> BigInt(i * 8)) & 0xffn));
}

function toBigInt(value: unknown, path: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'boolean') return value ? 1n : 0n;
  throw new BtfError(`${path}: expected an integer, got ${typeof value === 'number' ? value : typeof value}`);
}

function checkRange(v: bigint, size: number, signed: boolean, path: string): void {
  const bits = BigInt(size * 8);
  const lo = signed ? -(1n << (bits - 1n)) : 0n;
  const hi = signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  // Accept the other signedness too (a -1 for a u32 is common shorthand for all ones).
  const altLo = -(1n << (bits - 1n));
  if ((v < lo || v > hi) && (v < altLo || v > (1n << bits) - 1n)) throw new BtfError(`${path}: ${v} does not fit in ${size} bytes`);
}

function decodeAt(btf: Btf, typeId: number, view: DataView, at: number, path: string, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new BtfError(`${path}: type nesting too deep`);
  const t = btf.resolve(typeId);
  switch (t.kind) {
    case 'int': {
      if (t.bool) return view.getUint8(at) !== 0;
      return readInt(view, at, t.size, t.signed);
    }
    case 'enum':
    case 'enum64':
      return readInt(view, at, t.size, t.signed);
    case 'ptr':
      return view.getBigUint64(at, true);
    case 'float':
      if (t.size === 4) return view.getFloat32(at, true);
      if (t.size === 8) return view.getFloat64(at, true);
      throw new BtfError(`${path}: ${t.size}-byte float is not supported`);
    case 'array': {
      const elemSize = btf.sizeof(t.type);
      const out: unknown[] = [];
      for (let i = 0; i < t.nelems; i++) out.push(decodeAt(btf, t.type, view, at + i * elemSize, `${path}[${i}]`, depth + 1));
      return out;
    }
    case 'struct':
    case 'union': {
      const out: Record<string, unknown> = {};
      decodeMembers(btf, t, view, at, path, depth, out);
      return out;
    }
    case 'datasec': {
      const out: Record<string, unknown> = {};
      for (const vi of t.vars) {
        const v = btf.type(vi.type);
        if (v.kind !== 'var') continue;
        out[v.name] = decodeAt(btf, v.type, view, at + vi.offset, `${path}.${v.name}`, depth + 1);
      }
      return out;
    }
    case 'var':
      return decodeAt(btf, t.type, view, at, path, depth + 1);
    default:
      throw new BtfError(`${path}: cannot decode a ${t.kind}`);
  }
}

function decodeMembers(
  btf: Btf,
  t: Extract<BtfType, { kind: 'struct' | 'union' }>,
  view: DataView,
  at: number,
  path: string,
  depth: number,
  out: Record<string, unknown>,
): void {
  for (const m of t.members) {
    const inner = btf.resolve(m.type);
    if (m.name === '' && (inner.kind === 'struct' || inner.kind === 'union')) {
      decodeMembers(btf, inner, view, at + m.bitOffset / 8, path, depth + 1, out);
      continue;
    }
    if (m.bitfieldSize > 0 || m.bitOffset % 8 !== 0) {
      out[m.name] = readBitfield(btf, m.type, view, at, m.bitOffset, m.bitfieldSize || btf.sizeof(m.type) * 8);
      continue;
    }
    out[m.name] = decodeAt(btf, m.type, view, at + m.bitOffset / 8, `${path}.${m.name}`, depth + 1);
  }
}

function bitfieldSigned(btf: Btf, typeId: number): boolean {
  const t = btf.resolve(typeId);
  return (t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64') && t.signed;
}

// Bitfields on little-endian targets: bit 0 is the least significant bit of the first byte.
function readBitfield(btf: Btf, typeId: number, view: DataView, at: number, bitOffset: number, bits: number): number | bigint {
  let v = 0n;
  for (let i = 0; i < bits; i++) {
    const bit = bitOffset + i;
    if ((view.getUint8(at + (bit >> 3)) >> (bit & 7)) & 1) v |= 1n << BigInt(i);
  }
  if (bitfieldSigned(btf, typeId)) v = BigInt.asIntN(bits, v);
  return bits <= 32 ? Number(v) : v;
}

function writeBitfield(view: DataView, at: number, bitOffset: number, bits: number, value: bigint): void {
  const v = BigInt.asUintN(bits, value);
  for (let i = 0; i < bits; i++) {
    const bit = bitOffset + i;
    const byteAt = at + (bit >> 3);
    const mask = 1 << (bit & 7);
    const cur = view.getUint8(byteAt);
    view.setUint8(byteAt, (v >> BigInt(i)) & 1n ? cur | mask : cur & ~mask);
  }
}

function encodeAt(btf: Btf, typeId: number, value: unknown, view: DataView, at: number, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw new BtfError(`${path}: type nesting too deep`);
  const t = btf.resolve(typeId);
  switch (t.kind) {
    case 'int': {
      const v = toBigInt(value, path);
      if (!t.bool) checkRange(v, t.size, t.signed, path);
      writeInt(view, at, t.size, v);
      return;
    }
    case 'enum':
    case 'enum64': {
      let v: bigint;
      if (typeof value === 'string') {
        const named = t.values.find((e) => e.name === value);
        if (!named) throw new BtfError(`${path}: ${value} is not a value of enum ${t.name || '(anon)'}`);
        v = named.value;
      } else v = toBigInt(value, path);
      checkRange(v, t.size, t.signed, path);
      writeInt(view, at, t.size, v);
      return;
    }
    case 'ptr':
      writeInt(view, at, 8, toBigInt(value, path));
      return;
    case 'float':
      if (typeof value !== 'number') throw new BtfError(`${path}: expected a number`);
      if (t.size === 4) view.setFloat32(at, value, true);
      else if (t.size === 8) view.setFloat64(at, value, true);
      else throw new BtfError(`${path}: ${t.size}-byte float is not supported`);
      return;
    case 'array': {
      if (!Array.isArray(value) && !(value instanceof Uint8Array)) throw new BtfError(`${path}: expected an array`);
      const items = Array.from(value as ArrayLike<unknown>);
      if (items.length > t.nelems) throw new BtfError(`${path}: ${items.length} elements do not fit in [${t.nelems}]`);
      const elemSize = btf.sizeof(t.type);
      items.forEach((item, i) => encodeAt(btf, t.type, item, view, at + i * elemSize, `${path}[${i}]`, depth + 1));
      return;
    }
    case 'struct':
    case 'union': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BtfError(`${path}: expected an object`);
      const rest = new Set(Object.keys(value));
      encodeMembers(btf, t, value as Record<string, unknown>, view, at, path, depth, rest);
      if (rest.size > 0) throw new BtfError(`${path}: no member named ${[...rest].join(', ')}`);
      return;
    }
    case 'datasec': {
      if (typeof value !== 'object' || value === null) throw new BtfError(`${path}: expected an object`);
      const obj = value as Record<string, unknown>;
      for (const vi of t.vars) {
        const v = btf.type(vi.type);
        if (v.kind === 'var' && obj[v.name] !== undefined) encodeAt(btf, v.type, obj[v.name], view, at + vi.offset, `${path}.${v.name}`, depth + 1);
      }
      return;
    }
    case 'var':
      encodeAt(btf, t.type, value, view, at, path, depth + 1);
      return;
    default:
      throw new BtfError(`${path}: cannot encode a ${t.kind}`);
  }
}

function encodeMembers(
  btf: Btf,
  t: Extract<BtfType, { kind: 'struct' | 'union' }>,
  value: Record<string, unknown>,
  view: DataView,
  at: number,
  path: string,
  depth: number,
  rest: Set<string>,
): void {
  for (const m of t.members) {
    const inner = btf.resolve(m.type);
    if (m.name === '' && (inner.kind === 'struct' || inner.kind === 'union')) {
      encodeMembers(btf, inner, value, view, at + m.bitOffset / 8, path, depth + 1, rest);
      continue;
    }
    if (!(m.name in value) || value[m.name] === undefined) continue;
    rest.delete(m.name);
    if (m.bitfieldSize > 0 || m.bitOffset % 8 !== 0) {
      writeBitfield(view, at, m.bitOffset, m.bitfieldSize || btf.sizeof(m.type) * 8, toBigInt(value[m.name], `${path}.${m.name}`));
      continue;
    }
    encodeAt(btf, m.type, value[m.name], view, at + m.bitOffset / 8, `${path}.${m.name}`, depth + 1);
  }
}
