// The packets of the run: one row each (number, before, after, verdict, output, redirect), with
// filters. Large captures are windowed: only the rows in view (and a margin) are in the DOM,
// between two spacer rows of the height of the rest, so 100,000 rows scroll as fast as 100.
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { PacketRow } from '../protocol';

export interface PacketFilters {
  drops: boolean;
  rewritten: boolean;
}

/** Row height in px; style.css gives `.packet-table tbody tr` the same height. */
const ROW_HEIGHT = 24;
/** Up to this many rows the table is not windowed (every row is in the DOM). */
const WINDOW_ABOVE = 500;
const MARGIN_ROWS = 30;

/** The verdict src/run/pipeline.ts gives a hop whose program faulted (no kernel verdict exists). */
export const FAULT_VERDICT = 'FAULT';

export function isFault(r: PacketRow): boolean {
  return r.fault || r.verdict === FAULT_VERDICT;
}

/** Dropped: the pipeline sent it nowhere, or a program faulted on it (the pipeline drops those too). */
export function isDrop(r: PacketRow): boolean {
  return r.output === 'drop' || isFault(r);
}

interface Props {
  rows: PacketRow[];
  selected?: number;
  onSelect: (packet: number) => void;
  running: boolean;
}

export function PacketTable({ rows, selected, onSelect, running }: Props) {
  // Filters live here, not in the page: toggling one re-renders the table only.
  const [filters, onFilters] = useState<PacketFilters>({ drops: false, rewritten: false });
  const shown = useMemo(() => rows.filter((r) => (!filters.drops || isDrop(r)) && (!filters.rewritten || r.rewritten)), [rows, filters]);
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewHeight, setViewHeight] = useState(400);
  const focusPacket = useRef<number>();
  const frame = useRef<number>();

  useEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const windowed = shown.length > WINDOW_ABOVE;
  const first = windowed ? Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - MARGIN_ROWS) : 0;
  const last = windowed ? Math.min(shown.length, Math.ceil((scrollTop + viewHeight) / ROW_HEIGHT) + MARGIN_ROWS) : shown.length;

  // After a keyboard move, focus the newly selected row once it is rendered.
  useLayoutEffect(() => {
    const packet = focusPacket.current;
    if (packet === undefined) return;
    const row = scroller.current?.querySelector<HTMLElement>(`tr[data-packet="${packet}"]`);
    if (row) {
      focusPacket.current = undefined;
      row.focus({ preventScroll: true });
      row.scrollIntoView({ block: 'nearest' });
    }
  });

  const moveTo = (index: number) => {
    if (shown.length === 0) return;
    const i = Math.max(0, Math.min(shown.length - 1, index));
    const packet = shown[i].packet;
    const el = scroller.current;
    if (el) {
      // Bring the row's slot into view first, so the window renders it (header row included).
      const top = i * ROW_HEIGHT;
      const header = ROW_HEIGHT;
      if (top < el.scrollTop) el.scrollTop = top;
      else if (top + ROW_HEIGHT + header > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT + header - el.clientHeight;
      setScrollTop(el.scrollTop);
    }
    focusPacket.current = packet;
    onSelect(packet);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const target = (e.target as HTMLElement).closest('tr[data-packet]') as HTMLElement | null;
    if (!target) return;
    const packet = Number(target.dataset.packet);
    const index = shown.findIndex((r) => r.packet === packet);
    const page = Math.max(1, Math.floor(viewHeight / ROW_HEIGHT) - 1);
    const moves: Record<string, number> = { ArrowDown: index + 1, ArrowUp: index - 1, PageDown: index + page, PageUp: index - page, Home: 0, End: shown.length - 1 };
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onSelect(packet);
    } else if (e.key in moves) {
      e.preventDefault();
      moveTo(moves[e.key]);
    }
  };

  const { drops, rewritten } = useMemo(() => {
    let drops = 0;
    let rewritten = 0;
    for (const r of rows) {
      if (isDrop(r)) drops++;
      if (r.rewritten) rewritten++;
    }
    return { drops, rewritten };
  }, [rows]);

  return (
    <section class="packets" id="packets" tabIndex={-1} aria-label="packets">
      <div class="toolbar">
        <h2>Packets</h2>
        <label class="check">
          <input type="checkbox" data-testid="filter-drops" checked={filters.drops} onChange={(e) => onFilters({ ...filters, drops: (e.currentTarget as HTMLInputElement).checked })} />
          only drops <span class="muted">({drops})</span>
        </label>
        <label class="check">
          <input type="checkbox" data-testid="filter-rewritten" checked={filters.rewritten} onChange={(e) => onFilters({ ...filters, rewritten: (e.currentTarget as HTMLInputElement).checked })} />
          only rewritten <span class="muted">({rewritten})</span>
        </label>
        <span class="muted small">
          {shown.length === rows.length ? `${rows.length} packets` : `${shown.length} of ${rows.length} packets`}
          {rows.length > 0 && ' · ↑↓ to move, Enter to open'}
        </span>
      </div>
      <div
        class="table-scroller"
        ref={scroller}
        onScroll={(e) => {
          const top = (e.currentTarget as HTMLElement).scrollTop;
          if (frame.current !== undefined) return;
          frame.current = requestAnimationFrame(() => {
            frame.current = undefined;
            setScrollTop(scroller.current?.scrollTop ?? top);
          });
        }}
      >
        {/* A grid (rows are focusable and selectable): aria-rowcount/aria-rowindex tell assistive
            technology where the rendered window sits among all the rows. */}
        <table class="packet-table" data-testid="packet-table" role="grid" aria-label="packets of the run" aria-readonly="true" aria-rowcount={shown.length + 1}>
          <thead>
            <tr aria-rowindex={1}>
              <th class="num">#</th>
              <th>before</th>
              <th>after</th>
              <th>verdict</th>
              <th>output</th>
              <th>redirect</th>
            </tr>
          </thead>
          <tbody onKeyDown={onKeyDown}>
            {first > 0 && <tr class="spacer" aria-hidden="true" style={{ height: `${first * ROW_HEIGHT}px` }} />}
            {shown.slice(first, last).map((r, i) => {
              const fault = isFault(r);
              const cls = [isDrop(r) ? 'drop' : '', fault || r.error ? 'fault' : '', r.rewritten ? 'rewritten' : '', r.packet === selected ? 'selected' : ''].filter(Boolean).join(' ');
              return (
                <tr
                  key={r.packet}
                  data-testid="packet-row"
                  data-packet={r.packet}
                  class={cls}
                  tabIndex={0}
                  aria-selected={r.packet === selected}
                  aria-rowindex={first + i + 2}
                  onClick={() => onSelect(r.packet)}
                >
                  <td data-col="packet" class="num">
                    {r.packet}
                  </td>
                  <td data-col="before" title={r.before}>
                    {r.before}
                  </td>
                  <td data-col="after" title={r.error ?? r.after ?? ''}>
                    {r.error ? <span class="err-text">{r.error}</span> : r.after ?? ''}
                  </td>
                  <td data-col="verdict" data-fault={fault ? 'true' : undefined}>
                    {fault ? (
                      <span class="verdict-fault" title="the program faulted: the emulator stopped it where the kernel's verifier would have refused it; the packet is dropped">
                        {r.verdict}
                      </span>
                    ) : (
                      r.verdict
                    )}
                  </td>
                  <td data-col="output">{r.output}</td>
                  <td data-col="redirect">{r.redirect ?? ''}</td>
                </tr>
              );
            })}
            {last < shown.length && <tr class="spacer" aria-hidden="true" style={{ height: `${(shown.length - last) * ROW_HEIGHT}px` }} />}
          </tbody>
        </table>
        {rows.length === 0 && <p class="empty muted">{running ? 'running…' : 'Run the scenario to see what the program does to each packet.'}</p>}
      </div>
    </section>
  );
}
