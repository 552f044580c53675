// The execution trace of each program run on the packet's way, grouped by C source line (BTF
// line info), with the registers each instruction changed. The line of a fault is highlighted
// and scrolled into view.
import { useEffect, useRef } from 'preact/hooks';
import type { HopDetail, TraceGroup, TraceRow } from '../protocol';
import { FAULT_VERDICT } from './packet-table';

/** Registers r0..r10 that differ from the previous row (all non-zero ones on the first row). */
function changedRegs(row: TraceRow, prev: TraceRow | undefined): string {
  const parts: string[] = [];
  row.regs.forEach((v, r) => {
    if (prev ? prev.regs[r] !== v : !/^(0x)?0+$/.test(v)) parts.push(`r${r}=${v}`);
  });
  return parts.join(' ');
}

/** The group holding the faulting instruction: the last one containing its pc. */
function faultGroupIndex(hop: HopDetail): number {
  const fault = hop.fault;
  if (!fault) return -1;
  for (let i = hop.trace.length - 1; i >= 0; i--) if (hop.trace[i].entries.some((e) => e.pc === fault.pc)) return i;
  if (fault.line) {
    const { file, line } = fault.line;
    for (let i = hop.trace.length - 1; i >= 0; i--) if (hop.trace[i].line?.file === file && hop.trace[i].line?.line === line) return i;
  }
  return -1;
}

export function TraceView({ hops }: { hops: HopDetail[] }) {
  const root = useRef<HTMLDivElement>(null);
  const faults = useRef<HTMLDivElement>(null);
  // A fault: bring its message into view, then scroll the trace (its own scroll box) so the
  // faulting C line sits in its upper part (its instructions below it), and make sure that line is on screen.
  useEffect(() => {
    const trace = root.current;
    const line = trace?.querySelector<HTMLElement>('[data-fault="true"]');
    if (!trace || !line) return;
    faults.current?.scrollIntoView({ block: 'start' });
    const offset = line.getBoundingClientRect().top - trace.getBoundingClientRect().top + trace.scrollTop;
    trace.scrollTop = Math.max(0, offset - trace.clientHeight / 4);
    // The faulting instruction under the line (or the line itself) on screen: the page scrolls as little as it can.
    (trace.querySelector<HTMLElement>('.fault-row') ?? line).scrollIntoView({ block: 'nearest' });
  }, [hops]);

  // Faults are stated above the trace, so the message stays in sight while the trace scrolls.
  return (
    <>
      <div ref={faults}>{hops.map((hop, h) => hop.fault && <FaultBox key={h} hop={hop} fault={hop.fault} />)}</div>
      <div class="trace" data-testid="trace" ref={root} tabIndex={0} role="region" aria-label="execution trace">
        {hops.length === 0 && <p class="muted">no program ran on this packet</p>}
        {hops.map((hop, h) => (
          <HopTrace key={h} hop={hop} />
        ))}
      </div>
    </>
  );
}

function FaultBox({ hop, fault }: { hop: HopDetail; fault: NonNullable<HopDetail['fault']> }) {
  return (
    <div class="fault" data-testid="fault" role="alert">
      <strong>fault in {hop.program}:</strong> {fault.message}
      <div class="mono">
        pc {fault.pc}: {fault.disasm}
      </div>
      {fault.line && (
        <div class="mono fault-line">
          {fault.line.file}:{fault.line.line}: {fault.line.text.trim()}
        </div>
      )}
    </div>
  );
}

function HopTrace({ hop }: { hop: HopDetail }) {
  const faultAt = faultGroupIndex(hop);
  let prev: TraceRow | undefined;
  return (
    <div class="hop">
      <h4>
        <span class="mono">{hop.program}</span>{' '}
        <span class="muted">
          {hop.attach} on {hop.device} → {hop.verdict === FAULT_VERDICT ? <span class="verdict-fault">{hop.verdict}</span> : hop.verdict}
          {hop.redirect ? ` (redirect ${hop.redirect})` : ''} · {hop.insnCount} insns
          {hop.tailCalls > 0 ? ` · ${hop.tailCalls} tail calls` : ''}
        </span>
      </h4>
      {hop.trace.length === 0 && <p class="muted small">no trace kept (trace entries per program run is 0?)</p>}
      <table class="trace-table">
        {hop.trace.map((group: TraceGroup, g) => {
          const isFault = g === faultAt;
          const rows = group.entries.map((row, i) => {
            const regs = changedRegs(row, prev);
            prev = row;
            const faultRow = isFault && hop.fault?.pc === row.pc;
            return (
              <tr key={i} data-testid="trace-row" data-pc={row.pc} class={faultRow ? 'fault-row' : undefined} title={row.regs.map((v, r) => `r${r}=${v}`).join(' ')}>
                <td class="pc">{row.pc}</td>
                <td class="mono disasm">{row.disasm}</td>
                <td class="mono regs">{regs}</td>
              </tr>
            );
          });
          return (
            <tbody key={g} class={isFault ? 'group fault-group' : 'group'}>
              <tr
                class="line-header"
                data-testid={group.line ? 'trace-line' : 'trace-noline'}
                data-line={group.line ? `${group.line.file}:${group.line.line}` : undefined}
                data-fault={isFault ? 'true' : undefined}
              >
                <th colSpan={3}>
                  {group.line ? (
                    <>
                      <span class="muted">
                        {group.line.file}:{group.line.line}
                      </span>{' '}
                      <code>{group.line.text.trim()}</code>
                    </>
                  ) : (
                    <span class="muted">(no line info)</span>
                  )}
                </th>
              </tr>
              {rows}
            </tbody>
          );
        })}
      </table>
      {hop.traceTruncated && <p class="muted small">trace truncated at the entry limit (raise “trace entries per program run”)</p>}
    </div>
  );
}
