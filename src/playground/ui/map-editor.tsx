// Typed tables of the scenario's map entries: one column per BTF field of key and value (names
// from MapDescription), addresses and MACs as text. Each edit rewrites `maps.<name>` in the YAML.
import type { FieldDescription, MapDescription, ObjectDescription } from '../protocol';
import { DraftInput } from './draft-input';
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
  // One card per entry: the key's fields on one wrapping line, the value's below, each field with
  // its BTF name beside it. A row-per-entry table needs one column per field and does not fit a
  // side column for structs like lb4_key + lb4_service (7 fields) or 16-byte IPv6 addresses.
  const fieldCell = (e: Entry, row: number, part: 'key' | 'value', f: FieldDescription) => {
    const name = `${part}${f.path ? `.${f.path}` : ''}`;
    return (
      <label key={name} class={`typed-field kind-${f.kind}${f.path ? '' : ' whole'}`} title={`${name}: ${f.btfType} (${f.kind})`}>
        <span class="field-name" aria-hidden="true">
          {f.path || part}
        </span>
        <DraftInput
          value={formatCell(fieldGet(e[part], f.path))}
          data-field={name}
          aria-label={`${map.name} entry ${row + 1} ${name}`}
          disabled={disabled}
          spellcheck={false}
          onCommit={(text) => setField(row, part, f, text)}
        />
      </label>
    );
  };
  return (
    <details class="map-editor" data-testid="map-editor" data-map={map.name} open={entries.length > 0}>
      <summary>
        <span class="mono">{map.name}</span> <span class="muted small">{entries.length} entries · {map.type}</span>
      </summary>
      <ol class="map-entries" aria-label={`${map.name} entries`}>
        {entries.map((e, row) => (
          <li key={row} class="map-entry" data-testid="map-entry" aria-label={`${map.name} entry ${row + 1}`}>
            <div class="entry-part key" role="group" aria-label="key">
              <span class="part-name">key</span>
              <div class="entry-fields">{keyFields.map((f) => fieldCell(e, row, 'key', f))}</div>
            </div>
            <div class="entry-part value" role="group" aria-label="value">
              <span class="part-name">value</span>
              <div class="entry-fields">{valueFields.map((f) => fieldCell(e, row, 'value', f))}</div>
            </div>
            <button type="button" class="icon entry-remove" aria-label={`remove ${map.name} entry ${row + 1}`} title="remove this entry" disabled={disabled} onClick={() => onChange(entries.filter((_, i) => i !== row))}>
              ×
            </button>
          </li>
        ))}
      </ol>
      <button type="button" class="small" onClick={add} disabled={disabled} aria-label={`add a ${map.name} entry`}>
        add entry
      </button>
    </details>
  );
}
