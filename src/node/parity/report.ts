// The parity report: per scenario and per program what was compared between the kernel and
// bpfbed and whether it agreed, and the totals. Plain data (JSON-safe) plus a text form.

/** How many things of each kind one item compared. */
export interface ParityCounts {
  packets: number;
  /** Output bytes compared (kernel data_out against what bpfbed let leave). */
  bytes: number;
  /** Context fields compared (ctx_out of each test run: __sk_buff mark, priority, cb, ...; xdp_md data, data_end). */
  contextFields: number;
  /** Socket calls compared (what the application saw). */
  socketCalls: number;
  /** Map entries compared (the larger side's count, per map). */
  mapEntries: number;
  /** Map definitions compared (type, key and value size, max entries). */
  maps: number;
  /** Global data bytes compared (.data/.rodata/.bss after load). */
  globalBytes: number;
}

export type ParityStatus = 'agree' | 'mismatch' | 'error' | 'not-compared';

export interface ParityItem {
  kind: 'packet-scenario' | 'socket-scenario' | 'object' | 'program';
  /** The scenario file or object (relative to the repository), with `:program` for a program. */
  name: string;
  status: ParityStatus;
  /** What was compared, in words ("verdicts, output bytes, maps with 1 parity rule"). */
  compared: string;
  counts: ParityCounts;
  /** Each disagreement, as a sentence naming where. */
  mismatches: string[];
  /** Why it was not compared, or what could not run. */
  note?: string;
}

export interface ParityTotals {
  scenarios: number;
  programs: number;
  objects: number;
  packets: number;
  bytes: number;
  contextFields: number;
  socketCalls: number;
  mapEntries: number;
  randomPrograms: number;
  mismatches: number;
  errors: number;
  notCompared: number;
}

export interface ParityReport {
  kernel: string;
  startedAt: string;
  durationMs: number;
  items: ParityItem[];
  /** The differential run of the instruction set, when it ran. */
  differential?: { seed: number; generated: number; accepted: number; compared: number; mismatches: number; toolErrors: number; reports: string[] };
  totals: ParityTotals;
}

export const emptyCounts = (): ParityCounts => ({ packets: 0, bytes: 0, contextFields: 0, socketCalls: 0, mapEntries: 0, maps: 0, globalBytes: 0 });

export function computeTotals(items: readonly ParityItem[], differential?: ParityReport['differential']): ParityTotals {
  const sum = (f: (i: ParityItem) => number) => items.reduce((n, i) => n + f(i), 0);
  return {
    scenarios: items.filter((i) => i.kind.endsWith('-scenario') && i.status !== 'not-compared').length,
    programs: items.filter((i) => i.kind === 'program' && i.status !== 'not-compared').length,
    objects: items.filter((i) => i.kind === 'object' && i.status !== 'not-compared').length,
    packets: sum((i) => i.counts.packets),
    bytes: sum((i) => i.counts.bytes),
    contextFields: sum((i) => i.counts.contextFields ?? 0),
    socketCalls: sum((i) => i.counts.socketCalls),
    mapEntries: sum((i) => i.counts.mapEntries),
    randomPrograms: differential?.compared ?? 0,
    mismatches: sum((i) => i.mismatches.length) + (differential ? differential.mismatches + differential.toolErrors : 0),
    errors: items.filter((i) => i.status === 'error').length,
    notCompared: items.filter((i) => i.status === 'not-compared').length,
  };
}

/** The one-line summary: "parity: 9 scenarios, 31 programs, ... 0 mismatches". */
export function formatTotalsLine(t: ParityTotals): string {
  return (
    `parity: ${t.scenarios} scenarios, ${t.objects} objects, ${t.programs} programs, ${t.packets} packets (${t.bytes} bytes, ${t.contextFields} context fields), ` +
    `${t.socketCalls} socket calls, ${t.mapEntries} map entries, ${t.randomPrograms} random programs compared; ` +
    `${t.mismatches} mismatches, ${t.errors} errors` +
    (t.notCompared ? `, ${t.notCompared} not compared` : '')
  );
}

/** The readable report: one row per item, its mismatches under it, then the totals. */
export function formatParityText(r: ParityReport): string {
  const rows = r.items.map((i) => {
    const c = i.counts;
    const what = [
      c.packets && `${c.packets} packets`,
      c.bytes && `${c.bytes} bytes`,
      c.contextFields && `${c.contextFields} context fields`,
      c.socketCalls && `${c.socketCalls} calls`,
      c.mapEntries && `${c.mapEntries} map entries`,
      c.maps && `${c.maps} maps`,
      c.globalBytes && `${c.globalBytes} global bytes`,
    ].filter(Boolean);
    return { i, line: `${i.status.padEnd(12)} ${i.kind.padEnd(15)} ${i.name}  [${i.compared}${what.length ? `: ${what.join(', ')}` : ''}]` };
  });
  const out = [`bpfbed kernel parity, kernel ${r.kernel}, ${r.startedAt}, ${(r.durationMs / 1000).toFixed(1)} s`, ''];
  for (const { i, line } of rows) {
    out.push(line);
    if (i.note) out.push(`    ${i.note}`);
    for (const m of i.mismatches) out.push(`    MISMATCH ${m}`);
  }
  if (r.differential) {
    const d = r.differential;
    out.push('', `differential: seed ${d.seed}, generated ${d.generated}, accepted ${d.accepted}, compared ${d.compared}, mismatches ${d.mismatches}, tool errors ${d.toolErrors}`);
    for (const m of d.reports) out.push(m);
  }
  out.push('', formatTotalsLine(r.totals));
  return out.join('\n') + '\n';
}
