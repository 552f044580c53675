// Typed tables of the scenario's map entries: one column per BTF field of key and value (names
// from MapDescription), addresses and MACs as text. Each edit rewrites `maps.<name>` in the YAML.
import type { FieldDescription, MapDescription, ObjectDescription } from '../protocol';
import { getIn, type ScenarioData, type YamlPath } from './scenario-doc';
import { fieldGet, fieldSet, formatCell, parseCell } from './typed-fields';

interface Entry {
  key: unknown;
  value: unknown;
  [more: string]: unknown;
}

/** Global data (.bss, .data, .rodata, .kconfig) is not a map a scenario fills. */
function editable(m: MapDescription): boolean {
  return !m.name.startsWith('.') && !/\.(bss|data|rodata|kconfig)/.test(m.name);
}

const WHOLE: FieldDescription[] = [{ path: '', kind: 'bytes', btfType: 'raw bytes (hex) or a number' }];

interface Props {
  description?: ObjectDescription;
  data?: ScenarioData;
  onEdit: (path: YamlPath, value: unknown, opts?: { flowList?: boolean }) => void;
}

export function MapEditors({ description, data, onEdit }: Props) {
  const maps = (description?.maps ?? []).filter(editable);
  if (maps.length === 0) return null;
  return (
    <div class="map-editors">
      <h3>Map entries</h3>
      {maps.map((m) => {
        const raw = getIn(data, ['maps', m.name]);
        const entries = Array.isArray(raw) ? (raw as Entry[]) : [];
        return <MapEditor key={m.name} map={m} entries={entries} disabled={!data} onChange={(next) => onEdit(['maps', m.name], next.length > 0 ? next : undefined, { flowList: true })} />;
      })}
    </div>
  );
}

function MapEditor({ map, entries, disabled, onChange }: { map: MapDescription; entries: Entry[]; disabled: boolean; onChange: (next: Entry[]) => void }) {
  const keyFields = map.keyFields.length > 0 ? map.keyFields : WHOLE;
  const valueFields = map.valueFields.length > 0 ? map.valueFields : WHOLE;
  const setField = (row: number, part: 'key' | 'value', field: FieldDescription, text: string) => {
    const next = entries.map((e, i) => (i === row ? { ...e, [part]: fieldSet(e[part], field.path, parseCell(text, field.kind)) ?? 0 } : e));
    onChange(next);
  };
  const add = () => {
    const blank = (fields: FieldDescription[]) => (fields.length === 1 && fields[0].path === '' ? 0 : Object.fromEntries([[fields[0].path.split('.')[0], 0]]));
    onChange([...entries, { key: blank(keyFields), value: blank(valueFields) }]);
  };
  const header = (part: string, f: FieldDescription) => (
    <th key={`${part}:${f.path}`} title={`${part}${f.path ? `.${f.path}` : ''}: ${f.btfType} (${f.kind})`} class={part}>
      {f.path || part}
    </th>
  );
  return (
    <details class="map-editor" data-testid="map-editor" data-map={map.name} open={entries.length > 0}>
      <summary>
        <span class="mono">{map.name}</span> <span class="muted small">{entries.length} entries · {map.type}</span>
      </summary>
      <div class="table-scroll">
        <table class="typed-table">
          <thead>
            <tr>
              <th class="group key" colSpan={keyFields.length}>
                key
              </th>
              <th class="group value" colSpan={valueFields.length}>
                value
              </th>
              <th />
            </tr>
            <tr>
              {keyFields.map((f) => header('key', f))}
              {valueFields.map((f) => header('value', f))}
              <th />
            </tr>
          </thead>
          <tbody>
            {entries.map((e, row) => (
              <tr key={row} data-testid="map-entry">
                {(['key', 'value'] as const).flatMap((part) =>
                  (part === 'key' ? keyFields : valueFields).map((f) => (
                    <td key={`${part}:${f.path}`} class={part}>
                      <input
                        type="text"
                        value={formatCell(fieldGet(e[part], f.path))}
                        data-field={`${part}${f.path ? `.${f.path}` : ''}`}
                        aria-label={`${map.name} entry ${row + 1} ${part}${f.path ? `.${f.path}` : ''}`}
                        title={`${f.btfType} (${f.kind})`}
                        disabled={disabled}
                        size={f.kind === 'ip6' ? 16 : f.kind === 'mac' ? 14 : f.kind === 'ip4' ? 10 : 5}
                        onChange={(ev) => setField(row, part, f, (ev.currentTarget as HTMLInputElement).value)}
                      />
                    </td>
                  )),
                )}
                <td>
                  <button type="button" class="icon" aria-label={`remove ${map.name} entry ${row + 1}`} disabled={disabled} onClick={() => onChange(entries.filter((_, i) => i !== row))}>
                    ×
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <button type="button" class="small" onClick={add} disabled={disabled}>
        add entry
      </button>
    </details>
  );
}
