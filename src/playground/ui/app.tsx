// The playground page: owns the workspace (files and the scenario text being edited) and the
// worker; every editor writes into the scenario text, and the worker describes objects, runs
// the scenario and answers questions about one packet.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { DEFAULT_SCENARIO, bundledScenarios, fetchBundled } from '../bundled';
import { defaultScenario } from '../engine/default-scenario';
import type { ObjectDescription, PacketDetail, RunSummary } from '../protocol';
import { decodeShareHash, encodeShareHash } from '../share';
import { decodePlaygroundSnapshot } from '../snapshot';
import { EnvEditor } from './env-editor';
import { MapEditors } from './map-editor';
import { MapViews } from './map-views';
import { ObjectPanel } from './object-panel';
import { PacketDetailView } from './packet-detail';
import { PacketTable } from './packet-table';
import { basename, dirname, relativePath, resolvePath } from './paths';
import { editScenarioText, parseScenarioText, type ScenarioData, type YamlPath } from './scenario-doc';
import { TopBar, type RunState } from './top-bar';
import { CancelledError, PlaygroundWorker } from './worker-client';
import {
  fileKind,
  fileText,
  freePath,
  namedFiles,
  scenarioNaming,
  textBytes,
  workspaceFiles,
  type Workspace,
} from './workspace';

const NO_ROWS: RunSummary['rows'] = [];
const EMPTY_WORKSPACE: Workspace = { files: new Map(), scenarios: [], scenarioPath: '', scenarioText: '' };

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function App() {
  const [ws, setWsState] = useState<Workspace>(EMPTY_WORKSPACE);
  // The latest workspace for async flows (file drops, the initial load) that span renders.
  const wsRef = useRef<Workspace>(EMPTY_WORKSPACE);
  const setWs = useCallback((patch: Partial<Workspace>) => {
    wsRef.current = { ...wsRef.current, ...patch };
    setWsState(wsRef.current);
  }, []);

  const [error, setError] = useState<string>();
  const [loading, setLoading] = useState(true);
  const [description, setDescription] = useState<ObjectDescription>();
  const [runState, setRunState] = useState<RunState>({ phase: 'ready' });
  const [summary, setSummary] = useState<RunSummary>();
  const [selected, setSelected] = useState<number>();
  const [detail, setDetail] = useState<PacketDetail>();
  const [detailLoading, setDetailLoading] = useState(false);
  const [traceLimit, setTraceLimit] = useState(4096);
  /** A Testbed state from a loaded snapshot, the next run starts from it. */
  const [restoredState, setRestoredState] = useState<Uint8Array>();
  /** Dropped files still being read and described: Run waits for them (it would run the old workspace). */
  const [adding, setAdding] = useState(0);

  const workerRef = useRef<PlaygroundWorker>();
  if (!workerRef.current) workerRef.current = new PlaygroundWorker((message) => setError(message));
  const client = workerRef.current;
  useEffect(() => () => client.dispose(), [client]);

  const parsed = useMemo(() => parseScenarioText(ws.scenarioText, ws.scenarioPath || 'scenario'), [ws.scenarioText, ws.scenarioPath]);
  // While the text does not parse, the editors keep showing the last scenario that did (read-only).
  const lastGood = useRef<{ path: string; data: ScenarioData }>();
  if (parsed.data) lastGood.current = { path: ws.scenarioPath, data: parsed.data };
  const editorData = parsed.data ?? (lastGood.current?.path === ws.scenarioPath ? lastGood.current.data : undefined);
  const objectPath = typeof editorData?.object === 'string' && editorData.object !== '' ? resolvePath(dirname(ws.scenarioPath), editorData.object) : undefined;
  const objectBytes = objectPath ? ws.files.get(objectPath) : undefined;

  /** Replaces the scenario text (the editors' and the textarea's single way to change it). */
  const setScenarioText = useCallback(
    (text: string) => {
      const cur = wsRef.current;
      const files = new Map(cur.files);
      if (cur.scenarioPath) files.set(cur.scenarioPath, textBytes(text));
      setWs({ scenarioText: text, files });
    },
    [setWs],
  );

  const selectScenario = useCallback(
    (path: string) => {
      const cur = wsRef.current;
      const bytes = cur.files.get(path);
      setWs({ scenarioPath: path, scenarioText: bytes ? fileText(bytes) : '', scenarios: cur.scenarios.includes(path) ? cur.scenarios : [...cur.scenarios, path] });
      setRestoredState(undefined);
    },
    [setWs],
  );

  /** Writes one value into the scenario YAML (editors call this). */
  const edit = useCallback(
    (path: YamlPath, value: unknown, opts?: { flowList?: boolean }) => {
      try {
        setScenarioText(editScenarioText(wsRef.current.scenarioText, path, value, opts));
        setError(undefined);
      } catch (err) {
        setError(errorMessage(err));
      }
    },
    [setScenarioText],
  );

  // The initial workspace: the bundled example, with kpr-remote or the shared scenario selected.
  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const files = await fetchBundled();
        if (!live) return;
        setWs({ files: new Map(files.map((f) => [f.path, f.bytes])), scenarios: [...bundledScenarios] });
        let path = DEFAULT_SCENARIO;
        if (location.hash.startsWith('#s=')) {
          const shared = await decodeShareHash(location.hash);
          if (shared) {
            // A shared scenario carries no files: it may only name files of the bundled example.
            const missing = namedFiles(shared.scenarioPath, shared.scenarioText).filter((p) => !wsRef.current.files.has(p));
            if (missing.length > 0) setError(`share link: the scenario names ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not in the bundled example; drop ${missing.length === 1 ? 'it' : 'them'} on the page`);
            const files = new Map(wsRef.current.files);
            files.set(shared.scenarioPath, textBytes(shared.scenarioText));
            setWs({ files });
            path = shared.scenarioPath;
          } else setError('share link: the scenario in the URL (#s=...) could not be read');
        }
        selectScenario(path);
      } catch (err) {
        setError(errorMessage(err));
      } finally {
        if (live) setLoading(false);
      }
    })();
    return () => {
      live = false;
    };
  }, [setWs, selectScenario]);

  // Describe the scenario's object whenever it changes (a new path or new bytes).
  useEffect(() => {
    if (!objectPath || loading) return setDescription(undefined);
    if (!objectBytes) {
      setDescription(undefined);
      setError(`${ws.scenarioPath}: the object ${objectPath} is not in the workspace (drop it on the page or pick it with the file input)`);
      return;
    }
    let live = true;
    client
      .describe([{ path: objectPath, bytes: objectBytes }], objectPath)
      .then((d) => live && setDescription(d))
      .catch((err) => {
        if (!live || err instanceof CancelledError) return;
        setDescription(undefined);
        setError(errorMessage(err));
      });
    return () => {
      live = false;
    };
  }, [client, objectPath, objectBytes, loading, ws.scenarioPath]);

  // Progress arrives per packet; the page shows it at most once a frame.
  const progressRef = useRef<{ done: number; total: number; frame?: number }>({ done: 0, total: 0 });
  const onProgress = useCallback((done: number, total: number) => {
    const p = progressRef.current;
    p.done = done;
    p.total = total;
    if (p.frame === undefined) {
      p.frame = requestAnimationFrame(() => {
        p.frame = undefined;
        setRunState((s) => (s.phase === 'running' ? { phase: 'running', done: p.done, total: p.total } : s));
      });
    }
  }, []);

  const runIdRef = useRef<number>();
  const run = useCallback(() => {
    const cur = wsRef.current;
    const check = parseScenarioText(cur.scenarioText, cur.scenarioPath);
    if (check.error) {
      setError(check.error);
      setRunState({ phase: 'error', message: check.error });
      return;
    }
    setError(undefined);
    setSummary(undefined);
    setSelected(undefined);
    setDetail(undefined);
    setRunState({ phase: 'running', done: 0, total: 0 });
    const { runId, done } = client.run(
      { files: workspaceFiles(cur), scenarioText: cur.scenarioText, scenarioPath: cur.scenarioPath, traceLimit, state: restoredState },
      onProgress,
    );
    runIdRef.current = runId;
    done.then(
      (s) => {
        if (runIdRef.current !== runId) return;
        setSummary(s);
        setRunState({ phase: 'done' });
        if (s.captureError) setError(`capture: ${s.captureError}`);
      },
      (err) => {
        if (runIdRef.current !== runId) return;
        if (err instanceof CancelledError) return setRunState({ phase: 'ready', note: 'run cancelled' });
        setRunState({ phase: 'error', message: errorMessage(err) });
        setError(errorMessage(err));
      },
    );
  }, [client, traceLimit, restoredState, onProgress]);

  const cancel = useCallback(() => {
    runIdRef.current = undefined;
    client.cancel();
    setRunState({ phase: 'ready', note: 'run cancelled' });
  }, [client]);

  // The selected packet's detail, asked of the worker that ran it.
  useEffect(() => {
    if (selected === undefined || !summary) return setDetail(undefined);
    let live = true;
    setDetailLoading(true);
    client
      .packet(summary.runId, selected)
      .then((d) => live && setDetail(d))
      .catch((err) => {
        if (!live || err instanceof CancelledError) return;
        setDetail(undefined);
        setError(errorMessage(err));
      })
      .finally(() => live && setDetailLoading(false));
    return () => {
      live = false;
    };
  }, [client, summary, selected]);

  /** Dropped or picked files: objects, captures, scenarios, snapshots. */
  const addFiles = useCallback(
    async (list: File[]) => {
      setError(undefined);
      const problems: string[] = [];
      const objects: string[] = [];
      const captures: string[] = [];
      let scenario: string | undefined;
      for (const file of list) {
        let bytes: Uint8Array;
        try {
          bytes = new Uint8Array(await file.arrayBuffer());
        } catch (err) {
          problems.push(`${file.name}: cannot read the file (${errorMessage(err)})`);
          continue;
        }
        const kind = fileKind(file.name);
        if (kind === 'snapshot' || kind === 'unknown') {
          try {
            const snap = decodePlaygroundSnapshot(bytes);
            const files = new Map(wsRef.current.files);
            for (const f of snap.files) files.set(f.path, f.bytes);
            files.set(snap.scenarioPath, textBytes(snap.scenarioText));
            setWs({ files });
            selectScenario(snap.scenarioPath);
            setRestoredState(snap.state);
          } catch (err) {
            problems.push(
              kind === 'snapshot'
                ? `${file.name}: ${errorMessage(err)}`
                : `${file.name}: not an object (.o), capture (.pcap, .pcapng), scenario (.yaml, .yml, .json) or playground snapshot (${errorMessage(err)})`,
            );
          }
          continue;
        }
        const files = new Map(wsRef.current.files);
        files.set(file.name, bytes);
        const scenarios = kind === 'scenario' && !wsRef.current.scenarios.includes(file.name) ? [...wsRef.current.scenarios, file.name] : wsRef.current.scenarios;
        setWs({ files, scenarios });
        if (kind === 'object') objects.push(file.name);
        if (kind === 'capture') captures.push(file.name);
        if (kind === 'scenario') scenario = file.name;
      }
      if (scenario) selectScenario(scenario);
      let captureUsed = false;
      for (const object of objects) {
        const naming = scenarioNaming(wsRef.current, object);
        if (naming) {
          if (!scenario) selectScenario(naming);
          continue;
        }
        try {
          const d = await client.describe([{ path: object, bytes: wsRef.current.files.get(object)! }], object);
          const text = defaultScenario(d, object, captures[0]);
          captureUsed ||= captures.length > 0;
          const path = freePath(wsRef.current, object.replace(/\.o$/i, '') + '.yaml');
          const files = new Map(wsRef.current.files);
          files.set(path, textBytes(text));
          setWs({ files });
          selectScenario(path);
        } catch (err) {
          if (!(err instanceof CancelledError)) problems.push(errorMessage(err));
        }
      }
      // A capture on its own becomes the input of the scenario being edited.
      if (captures.length > 0 && !captureUsed && !scenario) {
        const cur = wsRef.current;
        if (!cur.scenarioPath) problems.push(`${captures[0]}: no scenario to feed it to; drop an object (.o) or a scenario with it`);
        else {
          try {
            setScenarioText(editScenarioText(cur.scenarioText, ['input', 'pcap'], relativePath(dirname(cur.scenarioPath), captures[0])));
          } catch (err) {
            problems.push(`${captures[0]}: cannot set it as the input, ${errorMessage(err)}`);
          }
        }
      }
      if (problems.length > 0) setError(problems.join('\n'));
    },
    [client, setWs, selectScenario, setScenarioText],
  );
  const onFiles = useCallback(
    async (list: File[]) => {
      setAdding((n) => n + 1);
      try {
        await addFiles(list);
      } finally {
        setAdding((n) => n - 1);
      }
    },
    [addFiles],
  );

  const shareLink = useCallback(async (): Promise<string> => {
    const cur = wsRef.current;
    const hash = await encodeShareHash(cur.scenarioText, cur.scenarioPath);
    const url = `${location.href.replace(/#.*$/, '')}${hash.startsWith('#') ? hash : `#${hash}`}`;
    try {
      await navigator.clipboard.writeText(url);
    } catch {
      // Clipboard access needs a permission or a secure context: the link is shown anyway.
    }
    return url;
  }, []);

  const snapshot = useCallback(async (): Promise<Uint8Array> => {
    if (!summary) throw new Error('snapshot: run the scenario first');
    return client.snapshot(summary.runId);
  }, [client, summary]);

  const shownError = parsed.error ?? error;
  const scenarioStem = basename(ws.scenarioPath).replace(/\.(ya?ml|json)$/i, '') || 'playground';

  return (
    <div class="app">
      <TopBar
        scenarios={ws.scenarios}
        scenarioPath={ws.scenarioPath}
        onScenario={selectScenario}
        onFiles={onFiles}
        onRun={run}
        onCancel={cancel}
        runState={loading ? { phase: 'loading' } : runState}
        busy={adding > 0}
        summary={summary}
        scenarioStem={scenarioStem}
        onSnapshot={snapshot}
        onShare={shareLink}
        onError={setError}
      />
      {shownError !== undefined && (
        <div class="error-bar">
          <div class="error" data-testid="error" role="alert">
            {shownError}
          </div>
          {parsed.error === undefined && (
            <button type="button" class="error-close" aria-label="dismiss the error" onClick={() => setError(undefined)}>
              ×
            </button>
          )}
        </div>
      )}
      {restoredState && (
        <div class="note">
          The next run starts from the state of the loaded snapshot.{' '}
          <button type="button" onClick={() => setRestoredState(undefined)}>
            start from the scenario instead
          </button>
        </div>
      )}
      <div class="columns">
        <aside class="left" aria-label="object and world">
          <fieldset class="editors" disabled={parsed.error !== undefined} title={parsed.error ? 'fix the scenario YAML below first' : undefined}>
            <ObjectPanel
              description={description}
              objectPath={objectPath}
              data={editorData}
              onEdit={edit}
              traceLimit={traceLimit}
              onTraceLimit={setTraceLimit}
            />
            <section class="panel">
              <h2>World</h2>
              <MapEditors description={description} data={editorData} onEdit={edit} />
              <EnvEditor data={editorData} onEdit={edit} onError={setError} />
            </section>
          </fieldset>
          <section class="panel">
            <label class="block-label" for="scenario-text">
              Scenario YAML <span class="muted">({ws.scenarioPath || 'none'}; the editors above write here)</span>
            </label>
            <textarea
              id="scenario-text"
              data-testid="scenario-text"
              class={parsed.error ? 'scenario-text invalid' : 'scenario-text'}
              spellcheck={false}
              value={ws.scenarioText}
              aria-invalid={parsed.error ? 'true' : 'false'}
              onInput={(e) => setScenarioText((e.currentTarget as HTMLTextAreaElement).value)}
            />
          </section>
        </aside>
        <main class="main">
          <PacketTable rows={summary?.rows ?? NO_ROWS} selected={selected} onSelect={setSelected} running={runState.phase === 'running'} />
          <div class="lower" id="lower">
            <PacketDetailView detail={detail} loading={detailLoading} selected={selected} />
            {summary && <MapViews maps={summary.maps} mismatches={summary.mismatches} />}
          </div>
        </main>
      </div>
    </div>
  );
}
