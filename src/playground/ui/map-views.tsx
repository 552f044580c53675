// The maps after the run, BTF-decoded, each entry marked added / changed / same (and the
// entries the run removed), plus what the scenario expected and did not get.
import { useState } from 'preact/hooks';
import type { MapView, RunSummary } from '../protocol';
import { fieldColumns, flattenFields } from './typed-fields';

/** Expectations not met, shown in the page; the report holds them all (a big capture can miss thousands). */
const MISMATCHES_SHOWN = 50;

/** "3 faults, 2 expectations of the scenario not met": faults are the run's, not the scenario's. */
function problemsHeadline(mismatches: RunSummary['mismatches']): string {
  const faults = mismatches.filter((m) => m.what === 'fault').length;
  const unmet = mismatches.length - faults;
  const parts = [];
  if (faults > 0) parts.push(`${faults} fault${faults === 1 ? '' : 's'}`);
  if (unmet > 0) parts.push(`${unmet} expectation${unmet === 1 ? '' : 's'} of the scenario not met`);
  return parts.join(', ');
}

export function MapViews({ maps, mismatches }: { maps: MapView[]; mismatches: RunSummary['mismatches'] }) {
  const [onlyChanged, setOnlyChanged] = useState(false);
  return (
    <section class="map-views" id="map-views" aria-label="maps after the run">
      <div class="toolbar">
        <h2>Maps after the run</h2>
        <label class="check">
          <input type="checkbox" checked={onlyChanged} onChange={(e) => setOnlyChanged((e.currentTarget as HTMLInputElement).checked)} /> only what changed
        </label>
      </div>
      {mismatches.length > 0 && (
        <details class="mismatches" open={mismatches.length <= 10}>
          <summary>
            <strong>{problemsHeadline(mismatches)}</strong>
          </summary>
          <ul>
            {mismatches.slice(0, MISMATCHES_SHOWN).map((m, i) => (
              <li key={i}>
                {m.what}
                {m.packet !== undefined ? ` (packet ${m.packet})` : ''}: {m.message}
              </li>
            ))}
            {mismatches.length > MISMATCHES_SHOWN && <li class="muted">… and {mismatches.length - MISMATCHES_SHOWN} more (all of them are in report.json)</li>}
          </ul>
        </details>
      )}
      {maps.map((m) => {
        const entries = onlyChanged ? m.entries.filter((e) => e.status !== 'same') : m.entries;
        const counts = { added: 0, changed: 0, same: 0 };
        for (const e of m.entries) counts[e.status]++;
        return (
          <details class="map-view" data-testid="map-view" data-map={m.name} key={m.name} open={m.entries.length + m.removed.length > 0}>
            <summary>
              <span class="mono">{m.name}</span>{' '}
              <span class="muted small">
                {m.type} · {m.entries.length} entries{counts.added ? ` · ${counts.added} added` : ''}
                {counts.changed ? ` · ${counts.changed} changed` : ''}
                {m.removed.length ? ` · ${m.removed.length} removed` : ''}
                {m.truncated ? ` · ${m.truncated} more not shown` : ''}
              </span>
            </summary>
            <MapTable entries={entries} removed={m.removed} />
          </details>
        );
      })}
    </section>
  );
}

/** One column per BTF field of key and value, from the decoded entries. */
function MapTable({ entries, removed }: { entries: MapView['entries']; removed: MapView['removed'] }) {
  const rows = [...entries.map((e) => ({ ...e })), ...removed.map((e) => ({ ...e, status: 'removed' as const }))].map((e) => ({
    status: e.status,
    key: new Map(flattenFields(e.key)),
    value: new Map(flattenFields(e.value)),
  }));
  const keyCols = fieldColumns(rows.map((r) => [...r.key]));
  const valueCols = fieldColumns(rows.map((r) => [...r.value]));
  if (rows.length === 0) return <p class="muted small">empty</p>;
  return (
    <div class="table-scroll">
      <table class="grid map-table">
        <thead>
          <tr>
            {keyCols.map((c) => (
              <th key={`k${c}`} class="key-col">
                {c || 'key'}
              </th>
            ))}
            {valueCols.map((c, i) => (
              <th key={`v${c}`} class={i === 0 ? 'value-start' : undefined}>
                {c || 'value'}
              </th>
            ))}
            <th>status</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) => (
            <tr key={i} data-status={r.status} class={`status-${r.status}`}>
              {keyCols.map((c) => (
                <td key={`k${c}`} class="mono key-col">
                  {r.key.get(c) ?? ''}
                </td>
              ))}
              {valueCols.map((c, j) => (
                <td key={`v${c}`} class={j === 0 ? 'mono value-start' : 'mono'}>
                  {r.value.get(c) ?? ''}
                </td>
              ))}
              <td>{r.status}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
