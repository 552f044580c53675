// One packet, looked at: its header fields before and after (changed ones highlighted), the
// bytes before and after (changed bytes marked), printk lines, the map entries it changed, and
// the execution trace of every program it met on its way.
import { useMemo, useState } from 'preact/hooks';
import type { DecodedField, PacketDetail } from '../protocol';
import { HexView } from './hex-view';
import { isFault } from './packet-table';
import { TraceView } from './trace-view';
import { formatValue } from './typed-fields';

interface Props {
  detail?: PacketDetail;
  loading: boolean;
  selected?: number;
}

export function PacketDetailView({ detail, loading, selected }: Props) {
  const [range, setRange] = useState<[number, number]>();
  const changedBytes = useMemo(() => new Set(detail?.changedBytes ?? []), [detail]);
  const changedFields = useMemo(() => new Set(detail?.changedFields ?? []), [detail]);

  if (selected === undefined) {
    return (
      <section class="packet-detail empty-detail" aria-label="packet detail">
        <p class="muted">Select a packet (click, or focus a row and press Enter) to see its fields, bytes, printk output, map changes and trace.</p>
      </section>
    );
  }
  if (!detail || detail.row.packet !== selected) {
    return (
      <section class="packet-detail empty-detail" aria-label="packet detail" aria-busy={loading}>
        <p class="muted">{loading ? `loading packet ${selected}…` : `packet ${selected}`}</p>
      </section>
    );
  }
  const { row } = detail;
  const printk = detail.hops.flatMap((h) => h.printk.map((line) => ({ program: h.program, line })));
  return (
    <section class="packet-detail" data-testid="packet-detail" data-packet={row.packet} aria-label={`packet ${row.packet}`}>
      <h2>
        Packet {row.packet}{' '}
        <span class="muted small">
          {row.direction} on {row.device} → {isFault(row) ? <span class="verdict-fault">{row.verdict}</span> : row.verdict} → {row.output}
          {row.redirect ? ` (redirect ${row.redirect})` : ''}
        </span>
      </h2>
      {row.error && <p class="err-text">{row.error}</p>}
      <nav class="jump" aria-label="sections of the packet">
        <a href="#sec-fields">fields</a> <a href="#sec-hex">bytes</a> <a href="#sec-printk">printk ({printk.length})</a> <a href="#sec-maps">map changes ({detail.mapChanges.length})</a>{' '}
        <a href="#sec-trace">trace</a>
      </nav>
      <div class="pair" id="sec-fields">
        <FieldTable title="Fields before" testid="fields-before" fields={detail.beforeFields} changed={changedFields} onRange={setRange} />
        {detail.afterFields ? (
          <FieldTable title="Fields after" testid="fields-after" fields={detail.afterFields} changed={changedFields} onRange={setRange} />
        ) : (
          <div class="half" data-testid="fields-after">
            <h3>Fields after</h3>
            <p class="muted">no packet left ({row.output})</p>
          </div>
        )}
      </div>
      <div class="pair" id="sec-hex">
        <div class="half">
          <h3>
            Bytes before <span class="muted small">{detail.beforeBytes.length} B</span>
          </h3>
          <HexView testid="hex-before" bytes={detail.beforeBytes} changed={changedBytes} range={range} />
        </div>
        <div class="half">
          <h3>
            Bytes after <span class="muted small">{detail.afterBytes ? `${detail.afterBytes.length} B, ${detail.changedBytes.length} changed` : ''}</span>
          </h3>
          {detail.afterBytes ? <HexView testid="hex-after" bytes={detail.afterBytes} changed={changedBytes} range={range} /> : <pre class="hex muted" data-testid="hex-after">(none)</pre>}
        </div>
      </div>
      <h3 id="sec-printk">printk</h3>
      <div data-testid="printk">
        {printk.length === 0 ? (
          <p class="muted">no bpf_trace_printk output</p>
        ) : (
          <ol class="printk">
            {printk.map((p, i) => (
              <li key={i}>
                <span class="muted">{p.program}:</span> <span class="mono">{p.line}</span>
              </li>
            ))}
          </ol>
        )}
      </div>
      <h3 id="sec-maps">Map changes</h3>
      <div data-testid="map-changes">
        {detail.mapChanges.length === 0 ? (
          <p class="muted">no map entry changed</p>
        ) : (
          <table class="grid">
            <thead>
              <tr>
                <th>map</th>
                <th>kind</th>
                <th>key</th>
                <th>before</th>
                <th>after</th>
              </tr>
            </thead>
            <tbody>
              {detail.mapChanges.map((c, i) => (
                <tr key={i} data-map={c.map} data-kind={c.kind} class={`status-${c.kind}`}>
                  <td class="mono nowrap">{c.map}</td>
                  <td class="nowrap">{c.kind}</td>
                  <td class="mono">{formatValue(c.key)}</td>
                  <td class="mono">
                    <ValueDiff value={c.before} other={c.after} />
                  </td>
                  <td class="mono">
                    <ValueDiff value={c.after} other={c.before} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <h3 id="sec-trace">Trace</h3>
      <TraceView hops={detail.hops} />
    </section>
  );
}

function FieldTable({ title, testid, fields, changed, onRange }: { title: string; testid: string; fields: DecodedField[]; changed: Set<string>; onRange: (r?: [number, number]) => void }) {
  return (
    <div class="half">
      <h3>{title}</h3>
      <table class="grid fields" data-testid={testid}>
        <tbody>
          {fields.map((f, i) => {
            const isChanged = changed.has(f.name);
            return (
              <tr
                key={i}
                data-field={f.name}
                data-changed={isChanged ? 'true' : undefined}
                class={`${isChanged ? 'changed' : ''} layer-start-${i === 0 || fields[i - 1].layer !== f.layer}`}
                onMouseEnter={() => onRange(f.range)}
                onMouseLeave={() => onRange(undefined)}
              >
                <td class="mono name" title={`layer ${f.layer}${f.range ? `, bytes ${f.range[0]}..${f.range[0] + f.range[1] - 1}` : ''}`}>
                  {f.name}
                </td>
                <td class="mono value">{f.value}</td>
              </tr>
            );
          })}
          {fields.length === 0 && (
            <tr>
              <td class="muted">not decoded</td>
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}

/** A decoded value with the top-level fields that differ from `other` marked. */
function ValueDiff({ value, other }: { value: unknown; other: unknown }) {
  const plain = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
  if (!plain(value) || !plain(other)) return <>{formatValue(value)}</>;
  const entries = Object.entries(value);
  return (
    <>
      {'{ '}
      {entries.map(([k, v], i) => {
        const differs = formatValue(v) !== formatValue(other[k]);
        return (
          <span key={k}>
            {i > 0 && ', '}
            <span class={differs ? 'diff-changed' : undefined} data-changed={differs ? 'true' : undefined}>
              {k}: {formatValue(v)}
            </span>
          </span>
        );
      })}
      {' }'}
    </>
  );
}
