import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { PageToWorker, WorkerToPage } from '../../src/playground/protocol.js';

// worker.ts talks to `self`; here `self` is a stand-in that records what the worker posts.
const posted: WorkerToPage[] = [];
const scope = { onmessage: null as ((ev: { data: PageToWorker }) => void) | null, onerror: null, onunhandledrejection: null, postMessage: (m: WorkerToPage) => posted.push(m) };

describe('playground worker', () => {
  beforeAll(async () => {
    vi.stubGlobal('self', scope);
    await import('../../src/playground/worker.js');
  });
  afterAll(() => vi.unstubAllGlobals());

  const send = async (msg: PageToWorker, replies: number) => {
    const start = posted.length;
    scope.onmessage!({ data: msg });
    await vi.waitFor(() => expect(posted.length).toBeGreaterThanOrEqual(start + replies), { timeout: 10_000 });
    return posted.slice(start);
  };

  it('answers a describe request with the description', async () => {
    const bytes = new Uint8Array(readFileSync('fixtures/obj/examples/dnat.o'));
    const [reply] = await send({ type: 'describe', requestId: 1, files: [{ path: 'dnat.o', bytes }], object: 'dnat.o' }, 1);
    expect(reply).toMatchObject({ type: 'described', requestId: 1, description: { path: 'dnat.o', programs: [{ name: 'dnat_ingress' }] } });
  });

  it('turns a failure into an error message naming the request, and keeps working after it', async () => {
    const [reply] = await send({ type: 'describe', requestId: 2, files: [{ path: 'x.o', bytes: new Uint8Array([1, 2, 3]) }], object: 'x.o' }, 1);
    expect(reply).toMatchObject({ type: 'error', requestId: 2, message: expect.stringMatching(/^describe x\.o: /) });
    const [unknown] = await send({ type: 'bogus' } as unknown as PageToWorker, 1);
    expect(unknown).toMatchObject({ type: 'error', message: "request: unknown request type 'bogus'" });
    const [again] = await send({ type: 'snapshot', requestId: 3, runId: 5 }, 1);
    expect(again).toMatchObject({ type: 'error', requestId: 3, runId: 5 });
  });
});
