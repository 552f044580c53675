// The top bar: which scenario, files in, run / cancel, status and progress, downloads.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { RunSummary } from '../protocol';
import { bundledScenarios } from '../bundled';
import { basename } from './paths';
import { downloadBytes } from './download';

export type RunState =
  | { phase: 'loading' }
  | { phase: 'ready'; note?: string }
  | { phase: 'running'; done: number; total: number }
  | { phase: 'done' }
  | { phase: 'error'; message: string };

export function statusText(state: RunState, summary: RunSummary | undefined): string {
  switch (state.phase) {
    case 'loading':
      return 'loading the example…';
    case 'ready':
      return 'ready';
    case 'running':
      return state.total > 0 ? `running ${state.done}/${state.total}` : 'running';
    case 'done': {
      const t = summary?.totals;
      return t ? `done: ${t.packets} packets, ${t.dropped} dropped, ${t.faults} faults` : 'done';
    }
    case 'error':
      return `error: ${state.message}`;
  }
}

/** What the live region says: the status without the per-packet count while running. */
export function announcement(state: RunState, summary: RunSummary | undefined): string {
  if (state.phase === 'running') return 'running';
  if (state.phase === 'ready' && state.note) return `ready (${state.note})`;
  return statusText(state, summary);
}

interface Props {
  scenarios: string[];
  scenarioPath: string;
  onScenario: (path: string) => void;
  onFiles: (files: File[]) => void;
  onRun: () => void;
  onCancel: () => void;
  runState: RunState;
  /** Files are being read: Run waits until the workspace has them. */
  busy: boolean;
  summary?: RunSummary;
  scenarioStem: string;
  onSnapshot: () => Promise<Uint8Array>;
  onShare: () => Promise<string>;
  onError: (message: string) => void;
}

export function TopBar(props: Props) {
  const { runState, summary } = props;
  const running = runState.phase === 'running';
  const [dragging, setDragging] = useState(false);
  const [shareUrl, setShareUrl] = useState<string>();
  const fileInput = useRef<HTMLInputElement>(null);

  // Dropping anywhere on the page loads the files (and never navigates away to them).
  useEffect(() => {
    const over = (e: DragEvent) => {
      if (!e.dataTransfer?.types.includes('Files')) return;
      e.preventDefault();
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (e.relatedTarget === null) setDragging(false);
    };
    const drop = (e: DragEvent) => {
      e.preventDefault();
      setDragging(false);
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length > 0) props.onFiles(files);
    };
    window.addEventListener('dragover', over);
    window.addEventListener('dragleave', leave);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragover', over);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('drop', drop);
    };
  }, [props.onFiles]);

  // Blob URLs of this run's downloads, released when the run is replaced.
  const links = useMemo(() => {
    if (!summary) return undefined;
    return {
      outputs: summary.outputs.map((o) => ({ name: o.name, packets: o.packets, url: URL.createObjectURL(new Blob([o.pcap as BlobPart], { type: 'application/vnd.tcpdump.pcap' })) })),
      report: URL.createObjectURL(new Blob([summary.reportJson], { type: 'application/json' })),
    };
  }, [summary]);
  useEffect(
    () => () => {
      if (!links) return;
      for (const o of links.outputs) URL.revokeObjectURL(o.url);
      URL.revokeObjectURL(links.report);
    },
    [links],
  );

  const progress = runState.phase === 'running' ? runState : runState.phase === 'done' ? { done: 1, total: 1 } : { done: 0, total: 1 };

  return (
    <header class="top-bar">
      <a class="skip-link" href="#packets">
        Skip to the packets
      </a>
      <h1 class="brand" title="bpfbed playground: real BPF objects on real captures, in your browser">bpfbed</h1>
      <label class="field">
        <span class="visually-hidden">Scenario</span>
        <select data-testid="scenario-select" value={props.scenarioPath} onChange={(e) => props.onScenario((e.currentTarget as HTMLSelectElement).value)} disabled={running}>
          {props.scenarios.map((path) => (
            <option key={path} value={path}>
              {bundledScenarios.includes(path) ? basename(path) : `${path} (yours)`}
            </option>
          ))}
        </select>
      </label>
      <div class={dragging ? 'drop-zone dragging' : 'drop-zone'} data-testid="drop-zone">
        <input
          ref={fileInput}
          id="file-input"
          data-testid="file-input"
          type="file"
          multiple
          accept=".o,.pcap,.pcapng,.yaml,.yml,.json,.bpfbed"
          class="visually-hidden"
          onChange={(e) => {
            const input = e.currentTarget as HTMLInputElement;
            const files = [...(input.files ?? [])];
            input.value = '';
            if (files.length > 0) props.onFiles(files);
          }}
        />
        <label for="file-input" class="button">
          Open files…
        </label>
        <span class="muted small" title="objects (.o), captures (.pcap, .pcapng), scenarios (.yaml, .yml, .json) and snapshots (.bpfbed)">or drop</span>
      </div>
      <div class="run-controls">
        <button type="button" class="primary" data-testid="run" onClick={props.onRun} disabled={running || props.busy || runState.phase === 'loading'} title={props.busy ? 'reading the files…' : undefined}>
          Run
        </button>
        <button type="button" data-testid="cancel" onClick={props.onCancel} disabled={!running}>
          Cancel
        </button>
      </div>
      <div class="status-box">
        {/* The visible status changes every frame while running; assistive technology hears the
            phase changes instead, from the announcer below (not every packet count). */}
        <span data-testid="status" class={`status ${runState.phase}`} aria-live="off" title={statusText(runState, summary)}>
          {statusText(runState, summary)}
        </span>
        <span class="visually-hidden" data-testid="announcer" role="status" aria-live="polite" aria-atomic="true">
          {announcement(runState, summary)}
        </span>
        {runState.phase === 'ready' && runState.note && <span class="muted"> ({runState.note})</span>}
        <progress
          data-testid="progress"
          max={Math.max(progress.total, 1)}
          value={progress.done}
          aria-label="run progress"
          aria-valuetext={runState.phase === 'running' ? `${runState.done} of ${runState.total} packets` : undefined}
        />
      </div>
      <nav class="downloads" aria-label="downloads">
        {links?.outputs.map((o) => (
          <a key={o.name} class="button small" data-testid="download-pcap" data-device={o.name} href={o.url} download={`${o.name}.pcap`} title={`${o.packets} packets that left through ${o.name}`}>
            {o.name}.pcap
          </a>
        ))}
        {links ? (
          <a class="button small" data-testid="download-report" href={links.report} download="report.json">
            report.json
          </a>
        ) : (
          <button type="button" class="small" data-testid="download-report" disabled title="run the scenario first">
            report.json
          </button>
        )}
        <button
          type="button"
          class="small"
          data-testid="download-snapshot"
          disabled={!summary}
          title={summary ? 'the workspace and the state after the run, loadable again' : 'run the scenario first'}
          onClick={() =>
            props
              .onSnapshot()
              .then((bytes) => downloadBytes(bytes, `${props.scenarioStem}.bpfbed`, 'application/octet-stream'))
              .catch((err: unknown) => props.onError(err instanceof Error ? err.message : String(err)))
          }
        >
          snapshot
        </button>
        <a
          class="button small"
          data-testid="share-link"
          href={shareUrl ?? '#'}
          role="button"
          title="a link that carries this scenario in the URL"
          onClick={(e) => {
            e.preventDefault();
            props
              .onShare()
              .then(setShareUrl)
              .catch((err: unknown) => props.onError(`share link: ${err instanceof Error ? err.message : String(err)}`));
          }}
        >
          share link
        </a>
        {shareUrl && (
          <input class="share-url" data-testid="share-url" readOnly value={shareUrl} aria-label="share link (copied to the clipboard)" onFocus={(e) => (e.currentTarget as HTMLInputElement).select()} />
        )}
      </nav>
    </header>
  );
}
