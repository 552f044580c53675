// The playground's Web Worker: a thin adapter between postMessage and the engine
// (src/playground/engine/engine.ts). A run's packet loop is synchronous, so the page cancels it
// by terminating this worker. Every failure reaches the page as an `error` message naming what
// failed; nothing dies silently.
import { PlaygroundEngine } from './engine/engine.js';
import type { PageToWorker, WorkerToPage } from './protocol.js';

interface WorkerScope {
  onmessage: ((ev: MessageEvent<PageToWorker>) => void) | null;
  onerror: ((ev: ErrorEvent | string) => void) | null;
  onunhandledrejection?: ((ev: PromiseRejectionEvent) => void) | null;
  postMessage(message: WorkerToPage, transfer?: Transferable[]): void;
}

const scope = self as unknown as WorkerScope;
const engine = new PlaygroundEngine();

const post = (reply: WorkerToPage): void => {
  try {
    scope.postMessage(reply);
  } catch (err) {
    // A reply structured clone cannot carry: say so instead of losing it.
    scope.postMessage({ type: 'error', message: `worker: cannot send the ${reply.type} reply: ${(err as Error).message}` });
  }
};

// Requests run one after another, in the order they came: a detail request waits for the run.
let queue: Promise<void> = Promise.resolve();

scope.onmessage = (ev) => {
  const msg = ev.data;
  queue = queue.then(() => engine.handle(msg, post)).catch((err: unknown) => post({ type: 'error', message: `worker: ${err instanceof Error ? err.message : String(err)}` }));
};

scope.onerror = (ev) => {
  post({ type: 'error', message: `worker: ${typeof ev === 'string' ? ev : ev.message}` });
};

scope.onunhandledrejection = (ev) => {
  const reason = ev.reason as unknown;
  post({ type: 'error', message: `worker: ${reason instanceof Error ? reason.message : String(reason)}` });
};
