// The bundled NodePort example, run in the page: the table shows what `bpfbed run` reports for
// the same scenario, a packet opens to its fields, bytes and trace by C line, and the filters
// show the packets they name.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumMissing } from './browser.js';
import { byTestId, packetRow, runToEnd, startSession, visibleRows, waitForStatus, type Session } from './harness.js';
import { cliRun, framesOf, type CliReport } from './oracle.js';
import { REPO } from './site.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

const REMOTE = 'fixtures/scenarios/kpr-remote.yaml';
const NO_BACKEND = 'fixtures/scenarios/kpr-no-backend.yaml';

const hex = (bytes: Uint8Array | number[]) => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');

describe.skipIf(missing !== undefined)('the bundled NodePort scenario in the page', () => {
  let session: Session;
  let remote: { report: CliReport; outDir: string };
  beforeAll(async () => {
    remote = cliRun(['--scenario', REMOTE]);
    session = await startSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  test('a run shows, packet by packet, the verdicts and outputs the CLI reports', async () => {
    const { page, errors, screenshot, close } = await session.open();
    const done = await runToEnd(page);
    const { totals, packets } = remote.report;
    expect(done).toEqual({ packets: totals.packets, dropped: totals.dropped, faults: totals.faults });
    const rows = await visibleRows(page);
    expect(rows.map((r) => ({ packet: Number(r.packet), verdict: r.verdict, output: r.output }))).toEqual(
      packets.map((p) => ({ packet: p.packet, verdict: p.verdict, output: p.output })),
    );
    // The one-line summaries are the CLI's too (src/packet/summary.ts in both).
    expect(rows.map((r) => [r.before, r.after])).toEqual(packets.map((p) => [p.input, p.result ?? '']));
    await screenshot('kpr-remote-run');
    expect(errors).toEqual([]);
    await close();
  });

  test('the SYN packet opens to its changed ip.dst, its changed bytes and a trace grouped by nodeport.c lines', async () => {
    const { page, screenshot, close } = await session.open();
    await runToEnd(page);
    const syn = remote.report.packets.find((p) => /\[SYN\]/.test(p.input));
    expect(syn, 'the capture starts with a SYN').toBeDefined();
    await packetRow(page, syn!.packet).click();
    const detail = byTestId(page, 'packet-detail');
    await detail.waitFor();
    expect(await detail.getAttribute('data-packet')).toBe(String(syn!.packet));

    // ip.dst: the service address before, the backend after (the CLI's change list says which).
    const dstChange = syn!.changes.find((c) => c.startsWith('ip.dst '));
    expect(dstChange).toBeDefined();
    const [, dstBefore, dstAfter] = /^ip\.dst (\S+) -> (\S+)/.exec(dstChange!)!;
    const changedAfter = await byTestId(detail, 'fields-after').locator('[data-changed="true"]').allTextContents();
    expect(changedAfter.some((t) => t.includes('ip.dst') && t.includes(dstAfter))).toBe(true);
    const changedBefore = await byTestId(detail, 'fields-before').locator('[data-changed="true"]').allTextContents();
    expect(changedBefore.some((t) => t.includes('ip.dst') && t.includes(dstBefore))).toBe(true);
    // Fields the NAT leaves alone are not marked.
    expect(changedAfter.some((t) => /tcp\.seq\b/.test(t))).toBe(false);

    // The marked bytes are exactly the bytes that differ between the input frame and the frame
    // the CLI wrote to the packet's output device.
    const before = framesOf(join(REPO, 'fixtures/kpr/pcap/remote-flow.pcap'))[syn!.packet - 1];
    const outIndex = remote.report.packets.filter((p) => p.packet < syn!.packet && p.output === syn!.output).length;
    const after = framesOf(join(remote.outDir, `${syn!.output}.pcap`))[outIndex];
    expect(after.length).toBe(before.length);
    const differing = [...after.keys()].filter((i) => after[i] !== before[i]);
    expect(differing.length).toBeGreaterThan(0);
    const marked = await byTestId(detail, 'hex-after').locator('[data-changed="true"]').allTextContents();
    expect(marked.join('').replace(/\s+/g, '')).toBe(hex(differing.map((i) => after[i])));
    expect(await byTestId(detail, 'hex-after').innerText().then((t) => t.replace(/\s+/g, ''))).toContain(hex(after.subarray(0, 14)));

    // The trace: groups headed by nodeport.c lines, each header showing that line of the source.
    const trace = byTestId(detail, 'trace');
    const lines = await trace.locator('[data-testid="trace-line"]').evaluateAll((els) => els.map((e) => ({ at: e.getAttribute('data-line') ?? '', text: e.textContent ?? '' })));
    const nodeportLines = lines.filter((l) => /(^|\/)nodeport\.c:\d+$/.test(l.at));
    expect(nodeportLines.length).toBeGreaterThan(0);
    const source = readFileSync(join(REPO, 'bpf/kpr/nodeport.c'), 'utf8').split('\n');
    for (const l of nodeportLines) {
      const n = Number(l.at.split(':').pop());
      expect(l.text.replace(/\s+/g, ' ')).toContain(source[n - 1].trim().replace(/\s+/g, ' '));
    }
    // Files named by the line info are the repository's sources (headers of bpf/kpr included).
    for (const l of lines) {
      const file = l.at.replace(/:\d+$/, '');
      expect(() => readFileSync(resolve(REPO, file)), `${file} is a source file of the repository`).not.toThrow();
    }
    const pcs = await trace.locator('[data-testid="trace-row"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-pc')));
    expect(pcs.length).toBeGreaterThan(10);
    expect(pcs.every((pc) => /^\d+$/.test(pc ?? ''))).toBe(true);
    await trace.locator('[data-testid="trace-line"]').first().scrollIntoViewIfNeeded();
    await screenshot('kpr-remote-syn-trace');
    await close();
  });

  test('on the no-backend scenario, "only drops" shows the dropped packets and "only rewritten" the rewritten ones', async () => {
    const noBackend = cliRun(['--scenario', NO_BACKEND]).report;
    const { page, screenshot, close } = await session.open();
    await byTestId(page, 'scenario-select').selectOption(NO_BACKEND);
    await expect.poll(() => byTestId(page, 'scenario-text').inputValue()).toBe(readFileSync(join(REPO, NO_BACKEND), 'utf8'));
    await waitForStatus(page, /^ready/);
    const done = await runToEnd(page);
    expect(done.dropped).toBe(noBackend.totals.dropped);
    expect(noBackend.totals.dropped).toBeGreaterThan(0);
    expect(noBackend.totals.dropped).toBeLessThan(noBackend.totals.packets);
    const all = noBackend.packets.map((p) => String(p.packet));
    expect((await visibleRows(page)).map((r) => r.packet)).toEqual(all);

    await byTestId(page, 'filter-drops').check();
    const drops = await visibleRows(page);
    expect(drops.map((r) => r.packet)).toEqual(noBackend.packets.filter((p) => p.output === 'drop').map((p) => String(p.packet)));
    expect(drops.every((r) => r.output === 'drop')).toBe(true);
    await screenshot('kpr-no-backend-only-drops');

    await byTestId(page, 'filter-drops').uncheck();
    expect((await visibleRows(page)).map((r) => r.packet)).toEqual(all);
    await byTestId(page, 'filter-rewritten').check();
    expect((await visibleRows(page)).map((r) => r.packet)).toEqual(noBackend.packets.filter((p) => p.changes.length > 0).map((p) => String(p.packet)));
    await close();
  });
});
