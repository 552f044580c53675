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

/** What one side knows about an output packet of the run, for `same-in-both` with `packet`. */
export interface PacketFacts {
  /** The input packet it came from. */
  packet: number;
  /** The fields the rules name (packetFieldsNamed), by Wireshark name, as decodePacket gives them. */
  fields: Readonly<Record<string, number | string | undefined>>;
}

export interface ParityContext {
  sockets?: readonly SocketFacts[];
  /** The output packets, in packet order. */
  packets?: readonly PacketFacts[];
}

/** The packet fields `same-in-both` rules link map entries to (for the caller to decode). */
export function packetFieldsNamed(rules: readonly ParityRule[] | undefined): string[] {
  const out = new Set<string>();
  for (const r of rules ?? []) if (r.rule === 'same-in-both' && r.packet) for (const f of Object.values(r.packet)) out.add(f);
  return [...out];
}

/** One decoded map entry (TypedMap.decodeKey / decodeValue). */
export interface DecodedEntry {
  key: unknown;
  value: unknown;
}

export interface AppliedEntry extends DecodedEntry {
  /** The rules this entry broke, as sentences. */
  problems: string[];
  /** The output packets' fields a `same-in-both` rule linked this entry to. */
  links: { packet: number; field: string; value: number | string }[];
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

/** Whether a decoded entry field and a fact (a port, an address as text) hold the same value. */
function sameValue(entryValue: unknown, fact: unknown): boolean {
  if (typeof fact === 'bigint' || typeof fact === 'number') {
    try {
      return asBigInt(entryValue, 'field') === BigInt(fact);
    } catch {
      return false;
    }
  }
  return String(entryValue).toLowerCase() === String(fact).toLowerCase();
}

/** Whether the entry meets a rule's `when` (every field present and equal). */
function meetsWhen(entry: DecodedEntry, when: Record<string, number | string> | undefined): boolean {
  return Object.entries(when ?? {}).every(([f, want]) => {
    const got = fieldOf(entry, f);
    return got.found && sameValue(got.value, typeof want === 'number' ? BigInt(want) : want);
  });
}

function sameInBoth(rule: SameInBothRule, entry: DecodedEntry, out: DecodedEntry, ctx: ParityContext, problems: string[], links: AppliedEntry['links']): void {
  if (!meetsWhen(entry, rule.when)) return;
  if (rule.packet) return linkToPacket(rule, rule.packet, entry, out, ctx, problems, links);
  const fields = Object.entries(rule.socket ?? {});
  const cookieField = fields.find(([, p]) => p === 'cookie')?.[0];
  const sockets = ctx.sockets ?? [];
  const propertyOf = (s: SocketFacts, p: NonNullable<SameInBothRule['socket']>[string]): unknown =>
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
  for (const [f, p] of fields) setField(out, f, `<${owner.name}.${p}>`);
}

/**
 * `same-in-both` with `packet`: the entry's fields equal those of an output packet of the same
 * side (the first in packet order); they are then compared as "the value packet N carried".
 */
function linkToPacket(rule: SameInBothRule, link: Record<string, string>, entry: DecodedEntry, out: DecodedEntry, ctx: ParityContext, problems: string[], links: AppliedEntry['links']): void {
  const fields = Object.entries(link);
  const matches = (p: PacketFacts) =>
    fields.every(([f, pf]) => {
      const got = fieldOf(entry, f);
      const want = p.fields[pf];
      return got.found && want !== undefined && sameValue(got.value, typeof want === 'number' ? BigInt(want) : want);
    });
  const owner = (ctx.packets ?? []).find(matches);
  if (!owner) {
    const shown = fields.map(([f]) => `${f}=${String(fieldOf(entry, f).value)}`).join(', ');
    problems.push(`${rule.map}: entry with ${shown}: no output packet of the run has ${fields.map(([f, pf]) => `${pf} = ${f}`).join(' and ')}`);
    return;
  }
  for (const [f, pf] of fields) {
    setField(out, f, `<packet ${owner.packet} ${pf}>`);
    links.push({ packet: owner.packet, field: pf, value: owner.fields[pf]! });
  }
}

/**
 * Checks every rule that names `map` on one entry of one side, and returns the entry with the
 * fields the rules cover replaced (left out, or by what they stand for), ready to compare by value.
 */
export function applyParity(rules: readonly ParityRule[] | undefined, map: string, entry: DecodedEntry, ctx: ParityContext = {}): AppliedEntry {
  // rules read the entry as it was and replace fields in a copy, so two rules can cover one field
  // (a SNAT port in range, and the port its packet carries)
  const out: DecodedEntry = structuredClone(entry);
  const problems: string[] = [];
  const links: AppliedEntry['links'] = [];
  for (const rule of rules ?? []) {
    if (!('map' in rule) || rule.map !== map) continue;
    switch (rule.rule) {
      case 'clock-deadline': {
        const deadline = fieldOf(entry, rule.field);
        const since = fieldOf(entry, rule.since);
        if (!deadline.found || !since.found) {
          problems.push(`${map}: clock-deadline names ${!deadline.found ? rule.field : rule.since}, which the entry does not have`);
          break;
        }
        const life = asBigInt(deadline.value, rule.field) - asBigInt(since.value, rule.since);
        const want = lifetimeOf(rule, entry);
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
        if (!meetsWhen(entry, rule.when)) break;
        const got = fieldOf(entry, rule.field);
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
        sameInBoth(rule, entry, out, ctx, problems, links);
        break;
    }
  }
  return { ...out, problems, links };
}

/** The backends a call to `target` may reach under a `one-of-backends` rule, if one covers it. */
export function backendsFor(rules: readonly ParityRule[] | undefined, target: EndpointText): string[] | undefined {
  const t = normalizeEndpoint(target);
  for (const r of rules ?? []) {
    if (r.rule === 'one-of-backends' && normalizeEndpoint(r.service) === t) return r.backends.map(normalizeEndpoint);
  }
  return undefined;
}
