// What the page hands out: output captures that src/pcap reads back with the CLI's bytes, the
// CLI's JSON report, a snapshot file that loads again with its state, and a link that carries
// the scenario to a new page.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readCapture } from '../../../src/pcap/index.js';
import { chromiumMissing } from './browser.js';
import { byTestId, runToEnd, startSession, waitForStatus, type Session } from './harness.js';
import { cliRun, framesOf, type CliPacket } from './oracle.js';
import { REPO } from './site.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

/** Clicks a download control and returns the file's bytes and suggested name. */
async function download(page: Page, selector: string): Promise<{ name: string; bytes: Uint8Array }> {
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.locator(selector).click()]);
  const path = await dl.path();
  return { name: dl.suggestedFilename(), bytes: new Uint8Array(readFileSync(path)) };
}

/** key and value text of a map-view's entries (the first two cells of each entry row). */
async function mapEntries(page: Page, map: string): Promise<{ key: string; value: string; status: string }[]> {
  return page.locator(`[data-testid="map-view"][data-map="${map}"] [data-status]`).evaluateAll((rows) =>
    rows.map((r) => {
      const cells = [...r.querySelectorAll('td')].map((c) => (c.textContent ?? '').trim());
      return { key: cells[0] ?? '', value: cells[1] ?? '', status: r.getAttribute('data-status') ?? '' };
    }),
  );
}

const essentials = (p: CliPacket) => ({
  packet: p.packet,
  input: p.input,
  output: p.output,
  verdict: p.verdict,
  changes: p.changes,
  hops: p.hops.map((h) => ({ program: h.program, verdict: h.verdict, fault: h.fault })),
});

describe.skipIf(missing !== undefined)('downloads, snapshots and share links', () => {
  let session: Session;
  beforeAll(async () => {
    session = await startSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  test('each output capture downloads as a pcap that src/pcap reads back, with the frames the CLI writes', async () => {
    const scenario = 'fixtures/scenarios/dnat.yaml';
    const cli = cliRun(['--scenario', scenario]);
    const { page, close } = await session.open();
    await byTestId(page, 'scenario-select').selectOption(scenario);
    await waitForStatus(page, /^ready/);
    await runToEnd(page);
    const devices = await page.locator('[data-testid="download-pcap"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-device') ?? ''));
    expect(devices.sort()).toEqual(cli.report.outputs.map((o) => o.name).sort());
    expect(devices.length).toBeGreaterThan(1);
    for (const device of devices) {
      const file = await download(page, `[data-testid="download-pcap"][data-device="${device}"]`);
      expect(file.name).toBe(`${device}.pcap`);
      const frames = readCapture(file.bytes).packets.map((p) => [...p.data]);
      expect(frames.length, device).toBe(cli.report.outputs.find((o) => o.name === device)!.packets);
      expect(frames, device).toEqual(framesOf(join(cli.outDir, `${device}.pcap`)).map((f) => [...f]));
    }
    await close();
  });

  test("the report download is the CLI's JSON report of the same scenario", async () => {
    const scenario = 'fixtures/scenarios/kpr-remote.yaml';
    const cli = cliRun(['--scenario', scenario]).report;
    const { page, close } = await session.open();
    await runToEnd(page);
    const file = await download(page, '[data-testid="download-report"]');
    const report = JSON.parse(new TextDecoder().decode(file.bytes)) as typeof cli;
    expect(report.totals).toEqual(cli.totals);
    expect(report.outputs).toEqual(cli.outputs);
    expect(report.packets.map(essentials)).toEqual(cli.packets.map(essentials));
    await close();
  });

  test('a snapshot downloaded after a run loads again with its scenario and the state after that run', async () => {
    const scenario = 'fixtures/scenarios/dnat.yaml';
    const text = readFileSync(join(REPO, scenario), 'utf8');
    const first = await session.open();
    await byTestId(first.page, 'scenario-select').selectOption(scenario);
    await waitForStatus(first.page, /^ready/);
    await runToEnd(first.page);
    const fresh = await mapEntries(first.page, 'stats');
    const counted = fresh.filter((e) => /^\d+$/.test(e.value) && Number(e.value) > 0);
    expect(counted.length, 'the run counted packets in stats').toBeGreaterThan(0);
    const snap = await download(first.page, '[data-testid="download-snapshot"]');
    expect(snap.bytes.length).toBeGreaterThan(0);
    await first.close();

    // A fresh page (kpr-remote selected) loads the snapshot through the file input.
    const second = await session.open();
    const { page } = second;
    await byTestId(page, 'file-input').setInputFiles({ name: snap.name || 'dnat.bpfbed', mimeType: 'application/octet-stream', buffer: Buffer.from(snap.bytes) });
    await expect.poll(() => byTestId(page, 'scenario-select').inputValue()).toBe(scenario);
    expect(await byTestId(page, 'scenario-text').inputValue()).toBe(text);
    await waitForStatus(page, /^ready/);
    // The next run starts from the state after the first: every counter counts the capture twice.
    await runToEnd(page);
    const again = await mapEntries(page, 'stats');
    for (const e of counted) {
      const now = again.find((x) => x.key === e.key);
      expect(now?.value, `stats[${e.key}]`).toBe(String(2 * Number(e.value)));
    }
    expect(second.errors).toEqual([]);
    await second.screenshot('snapshot-restored');
    await second.close();
  });

  test('a share link opened in a new page loads the scenario it carries, edits included', async () => {
    const scenario = 'fixtures/scenarios/kpr-no-backend.yaml';
    const cli = cliRun(['--scenario', scenario]).report;
    const sharer = await session.open();
    await byTestId(sharer.page, 'scenario-select').selectOption(scenario);
    await waitForStatus(sharer.page, /^ready/);
    const edited = readFileSync(join(REPO, scenario), 'utf8').replace(/^description: .*$/m, 'description: shared from the e2e test');
    expect(edited).toContain('shared from the e2e test');
    await byTestId(sharer.page, 'scenario-text').fill(edited);
    await byTestId(sharer.page, 'share-link').click();
    const link = await byTestId(sharer.page, 'share-url').inputValue();
    expect(link.startsWith(session.url)).toBe(true);
    const hash = new URL(link).hash;
    expect(hash).toMatch(/^#s=[A-Za-z0-9_-]+$/);
    await sharer.close();

    const opened = await session.open(hash);
    const { page } = opened;
    await expect.poll(() => byTestId(page, 'scenario-text').inputValue()).toBe(edited);
    expect(await byTestId(page, 'scenario-select').inputValue()).toBe(scenario);
    const done = await runToEnd(page);
    expect(done).toEqual({ packets: cli.totals.packets, dropped: cli.totals.dropped, faults: cli.totals.faults });
    expect(opened.errors).toEqual([]);
    expect(opened.foreignRequests()).toEqual([]);
    await opened.close();
  });
});
