// A scenario's declared non-determinism (`parity:`): the fields that the real kernel's clock or
// randomness makes differ from bpfbed's (bpf_ktime_get_ns deadlines, bpf_get_prandom_u32 backend
// and port choices, socket cookies from the kernel's global counter), and the rule each must
// satisfy instead of equality. The kernel parity runner applies the rules to both sides' map
// entries and then compares what is left by value; bpfbed's socket runs apply `one-of-backends`
// to their expectations. Browser-safe: decoded values in, problems out.
import type { ClockDeadlineRule, EndpointText, ParityRule, SameInBothRule } from './types.js';

/** What one side (kernel or bpfbed) knows about a socket of the run, for `same-in-both`. */
export interface SocketFacts {
  name: string;
  cookie: bigint;
  /** The server its connection or first datagram reached. */
  reached?: { addr: string; port: number };
}

export interface ParityContext {
  sockets?: readonly SocketFacts[];
}

/** One decoded map entry (TypedMap.decodeKey / decodeValue). */
export interface DecodedEntry {
  key: unknown;
  value: unknown;
}

export interface AppliedEntry extends DecodedEntry {
  /** The rules this entry broke, as sentences. */
  problems: string[];
}

const NSEC_PER_SEC = 1_000_000_000n;

/** Whether any rule speaks about `map`. */
export function mapHasParityRules(rules: readonly ParityRule[] | undefined, map: string): boolean {
  return (rules ?? []).some((r) => 'map' in r && r.map === map);
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A field of the entry by its BTF name: the value's first, then the key's; `key.name` or
 * `value.name` says which where both have one; a key or value that is not a struct is `key` or
 * `value` itself.
 */
function fieldOf(entry: DecodedEntry, field: string): { found: boolean; value: unknown } {
  const scoped = /^(key|value)\.(.+)$/.exec(field);
  if (scoped) {
    const part = entry[scoped[1] as 'key' | 'value'];
    return isRecord(part) && scoped[2] in part ? { found: true, value: part[scoped[2]] } : { found: false, value: undefined };
  }
  if (isRecord(entry.value) && field in entry.value) return { found: true, value: entry.value[field] };
  if (isRecord(entry.key) && field in entry.key) return { found: true, value: entry.key[field] };
  if (field === 'key' && !isRecord(entry.key)) return { found: true, value: entry.key };
  if (field === 'value' && !isRecord(entry.value)) return { found: true, value: entry.value };
  return { found: false, value: undefined };
}

function setField(entry: DecodedEntry, field: string, to: unknown): void {
  const scoped = /^(key|value)\.(.+)$/.exec(field);
  if (scoped) {
    const part = entry[scoped[1] as 'key' | 'value'];
    if (isRecord(part)) part[scoped[2]] = to;
    return;
  }
  if (isRecord(entry.value) && field in entry.value) entry.value[field] = to;
  else if (isRecord(entry.key) && field in entry.key) entry.key[field] = to;
  else if (field === 'key') entry.key = to;
  else if (field === 'value') entry.value = to;
}

function asBigInt(v: unknown, what: string): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v);
  throw new Error(`${what} is not an integer (${String(v)})`);
}

/** The lifetime (ns) of the first `lifetimes` entry whose conditions the entry meets. */
function lifetimeOf(rule: ClockDeadlineRule, entry: DecodedEntry): bigint | undefined {
  for (const l of rule.lifetimes) {
    const equal = Object.entries(l.when ?? {}).every(([f, want]) => {
      const got = fieldOf(entry, f);
      return got.found && asBigInt(got.value, f) === BigInt(want);
    });
    const bits = Object.entries(l.bits ?? {}).every(([f, mask]) => {
      const got = fieldOf(entry, f);
      return got.found && (asBigInt(got.value, f) & BigInt(mask)) === BigInt(mask);
    });
    if (equal && bits) return BigInt(Math.round(l.seconds * 1e9));
  }
  return undefined;
}

/** An endpoint as the runners report it: IPv4 dotted, IPv6 in brackets, v4-mapped as IPv4. */
export function normalizeEndpoint(text: EndpointText): string {
  return text.replace(/^\[::ffff:(\d+\.\d+\.\d+\.\d+)\]/i, '$1').toLowerCase();
}

function sameInBoth(rule: SameInBothRule, entry: DecodedEntry, ctx: ParityContext, problems: string[]): void {
  const fields = Object.entries(rule.socket);
  const cookieField = fields.find(([, p]) => p === 'cookie')?.[0];
  const sockets = ctx.sockets ?? [];
  const propertyOf = (s: SocketFacts, p: SameInBothRule['socket'][string]): unknown =>
    p === 'cookie' ? s.cookie : p === 'reached.addr' ? s.reached?.addr : s.reached?.port;
  const matches = (s: SocketFacts): boolean =>
    fields.every(([f, p]) => {
      const got = fieldOf(entry, f);
      const want = propertyOf(s, p);
      if (!got.found || want === undefined) return false;
      return p === 'cookie' ? asBigInt(got.value, f) === want : String(got.value).toLowerCase() === String(want).toLowerCase();
    });
  const owner = sockets.find(matches);
  if (!owner) {
    const shown = fields.map(([f]) => `${f}=${String(fieldOf(entry, f).value)}`).join(', ');
    const which = cookieField ? 'no socket of the run has ' : 'no socket of the run matches ';
    problems.push(`${rule.map}: entry with ${shown}: ${which}${fields.map(([f, p]) => `${p} = ${f}`).join(' and ')}`);
    return;
  }
  for (const [f, p] of fields) setField(entry, f, `<${owner.name}.${p}>`);
}

/**
 * Checks every rule that names `map` on one entry of one side, and returns the entry with the
 * fields the rules cover replaced (left out, or by what they stand for), ready to compare by value.
 */
export function applyParity(rules: readonly ParityRule[] | undefined, map: string, entry: DecodedEntry, ctx: ParityContext = {}): AppliedEntry {
  const out: DecodedEntry = structuredClone(entry);
  const problems: string[] = [];
  for (const rule of rules ?? []) {
    if (!('map' in rule) || rule.map !== map) continue;
    switch (rule.rule) {
      case 'clock-deadline': {
        const deadline = fieldOf(out, rule.field);
        const since = fieldOf(out, rule.since);
        if (!deadline.found || !since.found) {
          problems.push(`${map}: clock-deadline names ${!deadline.found ? rule.field : rule.since}, which the entry does not have`);
          break;
        }
        const life = asBigInt(deadline.value, rule.field) - asBigInt(since.value, rule.since);
        const want = lifetimeOf(rule, out);
        const slack = BigInt(Math.round((rule.slackSeconds ?? 60) * 1e9));
        if (want === undefined) problems.push(`${map}: no lifetime of the clock-deadline rule matches this entry`);
        else if (life < want || life > want + slack) {
          problems.push(`${map}: ${rule.field} - ${rule.since} = ${life} ns, expected ${want} ns (+ at most ${slack / NSEC_PER_SEC} s)`);
        }
        setField(out, rule.field, '<clock>');
        setField(out, rule.since, '<clock>');
        break;
      }
      case 'in-range': {
        const got = fieldOf(out, rule.field);
        if (!got.found) {
          problems.push(`${map}: in-range names ${rule.field}, which the entry does not have`);
          break;
        }
        const v = asBigInt(got.value, rule.field);
        if (v < BigInt(rule.min) || v > BigInt(rule.max)) problems.push(`${map}: ${rule.field} = ${v}, outside ${rule.min}..${rule.max}`);
        setField(out, rule.field, `<${rule.min}..${rule.max}>`);
        break;
      }
      case 'same-in-both':
        sameInBoth(rule, out, ctx, problems);
        break;
    }
  }
  return { ...out, problems };
}

/** The backends a call to `target` may reach under a `one-of-backends` rule, if one covers it. */
export function backendsFor(rules: readonly ParityRule[] | undefined, target: EndpointText): string[] | undefined {
  const t = normalizeEndpoint(target);
  for (const r of rules ?? []) {
    if (r.rule === 'one-of-backends' && normalizeEndpoint(r.service) === t) return r.backends.map(normalizeEndpoint);
  }
  return undefined;
}
