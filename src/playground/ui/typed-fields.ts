// Map entries as the scenario writes them (src/scenario/types.ts TypedValue): fields by their
// BTF names, nested by dotted path ('ports.0', 'inner.flags'), addresses and MACs as text. The
// typed editor shows one cell per field path of MapDescription and writes the same shape back.

/** Reads the field at a dotted path ('' is the value itself). */
export function fieldGet(value: unknown, path: string): unknown {
  if (path === '') return value;
  let cur = value;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** A copy of `value` with the field at `path` set (removed when `field` is undefined). */
export function fieldSet(value: unknown, path: string, field: unknown): unknown {
  if (path === '') return field;
  const [head, ...rest] = path.split('.');
  const index = /^\d+$/.test(head) ? Number(head) : undefined;
  const base: unknown = value !== null && typeof value === 'object' ? value : index !== undefined ? [] : {};
  const copy: Record<string, unknown> | unknown[] = Array.isArray(base) ? [...base] : { ...(base as Record<string, unknown>) };
  const inner = fieldSet((copy as Record<string, unknown>)[head], rest.join('.'), field);
  if (inner === undefined && !Array.isArray(copy)) delete (copy as Record<string, unknown>)[head];
  else (copy as Record<string, unknown>)[head] = inner;
  return copy;
}

/**
 * A cell's text as the scenario value: numbers stay numbers (decimal or 0x hex, as the YAML
 * parser would read them), booleans for bool fields, everything else (addresses, MACs, hex
 * bytes) as text for the typed host API to parse. Empty text removes the field (zero).
 */
export function parseCell(text: string, kind: string): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  if (kind === 'bool' && (t === 'true' || t === 'false')) return t === 'true';
  if ((kind === 'number' || kind === 'bigint' || kind === '') && /^-?(\d+|0x[0-9a-f]+)$/i.test(t)) {
    const n = Number(t);
    if (Number.isSafeInteger(n)) return n;
  }
  return t;
}

export function formatCell(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return formatValue(v);
  return String(v);
}

/** Compact one-line text of a decoded key or value: `{ addr: 10.0.0.1, port: 80 }`. */
export function formatValue(v: unknown): string {
  if (v === undefined) return '';
  if (v === null) return 'null';
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Uint8Array) return [...v].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  if (Array.isArray(v)) return `[${v.map(formatValue).join(', ')}]`;
  if (typeof v === 'object') {
    const parts = Object.entries(v as Record<string, unknown>).map(([k, x]) => `${k}: ${formatValue(x)}`);
    return `{ ${parts.join(', ')} }`;
  }
  return String(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * A decoded key or value as (dotted path, text) pairs, one per field, for tables with a column
 * per BTF field: `{ addr: 10.0.0.1, ports: [80, 443] }` gives addr, ports. Arrays of scalars
 * stay one cell; a scalar is the single path ''.
 */
export function flattenFields(v: unknown, prefix = ''): [string, string][] {
  if (isPlainObject(v)) return Object.entries(v).flatMap(([k, x]) => flattenFields(x, prefix ? `${prefix}.${k}` : k));
  if (Array.isArray(v) && v.some(isPlainObject)) return v.flatMap((x, i) => flattenFields(x, prefix ? `${prefix}.${i}` : String(i)));
  return [[prefix, formatValue(v)]];
}

/** Column paths of many flattened values, in the order they first appear. */
export function fieldColumns(rows: [string, string][][]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const [path] of row) seen.add(path);
  return [...seen];
}
