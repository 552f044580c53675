// The emulated kernel's world as editable tables (environment.devices / routes / neighbours of
// src/env/environment.ts EnvironmentSpec), and its clock and seed. Each edit rewrites that list
// in the scenario YAML; fields without a column (netns, mtu, state...) are kept as they are.
import { DraftInput } from './draft-input';
import { getIn, type ScenarioData, type YamlPath } from './scenario-doc';

type ColumnKind = 'text' | 'number' | 'list';
interface Column {
  key: string;
  label: string;
  kind: ColumnKind;
  size: number;
}

/** A column labelled with its field's name; `size` is its usual text length (input size and share of the width). */
const column = (key: string, size: number, kind: ColumnKind = 'text'): Column => ({ key, label: key, kind, size });

const TABLES: { key: 'devices' | 'routes' | 'neighbours'; title: string; columns: Column[]; blank: Record<string, unknown> }[] = [
  { key: 'devices', title: 'Devices', columns: [column('name', 5), column('ifindex', 3, 'number'), column('mac', 17), column('addrs', 15, 'list')], blank: { name: 'eth9' } },
  { key: 'routes', title: 'Routes', columns: [column('dst', 14), column('via', 11), column('dev', 6)], blank: { dst: 'default' } },
  { key: 'neighbours', title: 'Neighbours', columns: [column('ip', 11), column('mac', 15), column('dev', 6)], blank: { ip: '0.0.0.0' } },
];

function cellText(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return v.join(', ');
  return String(v);
}

function cellValue(text: string, kind: ColumnKind): unknown {
  const t = text.trim();
  if (t === '') return undefined;
  if (kind === 'list') return t.split(/[\s,]+/).filter(Boolean);
  if (kind === 'number' && /^\d+$/.test(t)) return Number(t);
  return t;
}

interface Props {
  data?: ScenarioData;
  onEdit: (path: YamlPath, value: unknown, opts?: { flowList?: boolean }) => void;
  onError: (message: string) => void;
}

export function EnvEditor({ data, onEdit, onError }: Props) {
  const disabled = !data;
  const clock = getIn(data, ['environment', 'clock', 'monotonicNs']);
  const seed = getIn(data, ['environment', 'seed']);
  return (
    <div class="env-editor" data-testid="env-editor">
      <h3>Environment</h3>
      {TABLES.map((t) => {
        const raw = getIn(data, ['environment', t.key]);
        const rows = Array.isArray(raw) ? (raw as Record<string, unknown>[]) : [];
        const write = (next: Record<string, unknown>[]) => onEdit(['environment', t.key], next.length > 0 ? next : undefined, { flowList: true });
        return (
          <details key={t.key} class="env-table" data-env={t.key} open>
            <summary>
              {t.title} <span class="muted small">{rows.length}</span>
            </summary>
            <div class="table-scroll">
              <table class="typed-table env-table-grid" aria-label={t.title.toLowerCase()}>
                <thead>
                  <tr>
                    {/* Fixed layout, widths by each column's usual text length: the table is as
                        wide as the column, and long values scroll inside their inputs. */}
                    {t.columns.map((c) => (
                      <th key={c.key} style={{ width: `calc(${(100 * c.size) / t.columns.reduce((n, x) => n + x.size, 0)}% - ${26 / t.columns.length}px)` }}>
                        {c.label}
                      </th>
                    ))}
                    <th class="remove-col">
                      <span class="visually-hidden">remove</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r, i) => (
                    <tr key={i} data-row={i}>
                      {t.columns.map((c) => (
                        <td key={c.key}>
                          <DraftInput
                            size={c.size}
                            value={cellText(r?.[c.key])}
                            data-field={c.key}
                            aria-label={`${t.key} ${i + 1} ${c.label}`}
                            disabled={disabled}
                            spellcheck={false}
                            onCommit={(text) => {
                              const v = cellValue(text, c.kind);
                              const next = rows.map((row, j) => {
                                if (j !== i) return row;
                                const copy = { ...row };
                                if (v === undefined) delete copy[c.key];
                                else copy[c.key] = v;
                                return copy;
                              });
                              write(next);
                            }}
                          />
                        </td>
                      ))}
                      <td>
                        <button type="button" class="icon" aria-label={`remove ${t.key} ${i + 1}`} disabled={disabled} onClick={() => write(rows.filter((_, j) => j !== i))}>
                          ×
                        </button>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <button type="button" class="small" disabled={disabled} onClick={() => write([...rows, { ...t.blank }])}>
              add {t.key.replace(/s$/, '')}
            </button>
          </details>
        );
      })}
      <div class="clock-seed">
        <label class="inline-field">
          <span title="environment.clock.monotonicNs: CLOCK_MONOTONIC when the run starts (default 1 s)">Clock (monotonic ns)</span>
          <DraftInput
            inputMode="numeric"
            data-testid="clock-input"
            placeholder="1000000000"
            value={clock === undefined ? '' : String(clock)}
            disabled={disabled}
            onCommit={(text) => {
              const t = text.trim();
              if (t === '') return onEdit(['environment', 'clock', 'monotonicNs'], undefined);
              if (!/^\d+$/.test(t)) return onError(`clock: '${t}' is not a whole number of nanoseconds`);
              const n = Number(t);
              // A YAML number above 2^53 would be read back rounded.
              if (!Number.isSafeInteger(n)) return onError(`clock: ${t} ns is above 2^53 and cannot be written exactly`);
              onEdit(['environment', 'clock', 'monotonicNs'], n);
            }}
          />
        </label>
        <label class="inline-field">
          <span title="environment.seed: bpf_get_prandom_u32's generator (default 1)">Seed</span>
          <DraftInput
            type="number"
            min={0}
            data-testid="seed-input"
            placeholder="1"
            value={seed === undefined ? '' : String(seed)}
            disabled={disabled}
            onCommit={(text) => {
              const t = text.trim();
              if (t === '') return onEdit(['environment', 'seed'], undefined);
              const n = Number(t);
              if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) return onError(`seed: '${t}' is not an integer within 0..4294967295`);
              onEdit(['environment', 'seed'], n);
            }}
          />
        </label>
      </div>
    </div>
  );
}
