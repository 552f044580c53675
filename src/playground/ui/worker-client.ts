// The page's side of the worker protocol (../protocol.ts): requests with ids answered by
// promises, run progress by callback. A run is cancelled by terminating the worker (its packet
// loop reads no messages until it ends) and starting a fresh one; every request still waiting
// on the old worker is rejected with a `CancelledError`.
import type { ObjectDescription, PacketDetail, PageToWorker, RunSummary, WorkerToPage, WorkspaceFile } from '../protocol';

export class CancelledError extends Error {
  constructor() {
    super('cancelled');
    this.name = 'CancelledError';
  }
}

interface Pending {
  resolve: (value: never) => void;
  reject: (err: Error) => void;
}

export interface RunRequest {
  files: WorkspaceFile[];
  scenarioText: string;
  scenarioPath: string;
  traceLimit: number;
  state?: Uint8Array;
}

export class PlaygroundWorker {
  private worker!: Worker;
  private nextId = 1;
  private requests = new Map<number, Pending>();
  private runs = new Map<number, Pending & { onProgress: (done: number, total: number) => void }>();

  /** `onStray` gets errors that belong to no request (the worker failed to load, a bug). */
  constructor(private readonly onStray: (message: string) => void) {
    this.start();
  }

  private start(): void {
    this.worker = new Worker(new URL('../worker.ts', import.meta.url), { type: 'module' });
    this.worker.onmessage = (e: MessageEvent<WorkerToPage>) => this.receive(e.data);
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      const message = `worker: ${e.message || 'failed to start'}${e.filename ? ` (${e.filename}:${e.lineno})` : ''}`;
      this.failAll(new Error(message));
      this.onStray(message);
    };
    this.worker.onmessageerror = () => this.onStray('worker: a message could not be read (structured clone failed)');
  }

  private receive(msg: WorkerToPage): void {
    switch (msg.type) {
      case 'progress':
        this.runs.get(msg.runId)?.onProgress(msg.done, msg.total);
        return;
      case 'finished':
        return this.settleRun(msg.summary.runId, (p) => p.resolve(msg.summary as never));
      case 'described':
      case 'packet':
      case 'snapshot': {
        const value = msg.type === 'described' ? msg.description : msg.type === 'packet' ? msg.detail : msg.bytes;
        return this.settle(msg.requestId, (p) => p.resolve(value as never));
      }
      case 'error': {
        const err = new Error(msg.message);
        if (msg.requestId !== undefined && this.requests.has(msg.requestId)) return this.settle(msg.requestId, (p) => p.reject(err));
        if (msg.runId !== undefined && this.runs.has(msg.runId)) return this.settleRun(msg.runId, (p) => p.reject(err));
        this.onStray(msg.message);
      }
    }
  }

  private settle(id: number, f: (p: Pending) => void): void {
    const p = this.requests.get(id);
    this.requests.delete(id);
    if (p) f(p);
  }

  private settleRun(id: number, f: (p: Pending) => void): void {
    const p = this.runs.get(id);
    this.runs.delete(id);
    if (p) f(p);
  }

  private failAll(err: Error): void {
    for (const p of this.requests.values()) p.reject(err);
    for (const p of this.runs.values()) p.reject(err);
    this.requests.clear();
    this.runs.clear();
  }

  private request<T>(build: (requestId: number) => PageToWorker): Promise<T> {
    const requestId = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.requests.set(requestId, { resolve: resolve as (v: never) => void, reject });
      this.worker.postMessage(build(requestId));
    });
  }

  describe(files: WorkspaceFile[], object: string): Promise<ObjectDescription> {
    return this.request((requestId) => ({ type: 'describe', requestId, files, object }));
  }

  /** Starts a run; `runId` names it in later packet and snapshot requests. */
  run(req: RunRequest, onProgress: (done: number, total: number) => void): { runId: number; done: Promise<RunSummary> } {
    const runId = this.nextId++;
    const done = new Promise<RunSummary>((resolve, reject) => {
      this.runs.set(runId, { resolve: resolve as (v: never) => void, reject, onProgress });
      this.worker.postMessage({ type: 'run', runId, ...req } satisfies PageToWorker);
    });
    return { runId, done };
  }

  packet(runId: number, packet: number): Promise<PacketDetail> {
    return this.request((requestId) => ({ type: 'packet', requestId, runId, packet }));
  }

  snapshot(runId: number): Promise<Uint8Array> {
    return this.request((requestId) => ({ type: 'snapshot', requestId, runId }));
  }

  /** Stops whatever the worker is doing: terminate it and start a fresh one. */
  cancel(): void {
    this.worker.terminate();
    this.failAll(new CancelledError());
    this.start();
  }

  dispose(): void {
    this.worker.terminate();
    this.failAll(new CancelledError());
  }
}
