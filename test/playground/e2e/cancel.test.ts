// A long run can be cancelled: the page stays responsive while the worker runs, Cancel stops it
// (the worker is terminated, a fresh one started), and the next run works.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumMissing } from './browser.js';
import { byTestId, runToEnd, startSession, waitForStatus, type Session } from './harness.js';
import { cliRun, repeatCapture } from './oracle.js';
import { REPO } from './site.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

/** 22 packets x 6000: ~14 s of VM at the ~9,500 packets/s measured in Chromium, ample time to cancel mid-run. */
const COPIES = 6000;

describe.skipIf(missing !== undefined)('cancelling a run', () => {
  let session: Session;
  const temp = mkdtempSync(join(tmpdir(), 'bpfbed-e2e-cancel-'));
  const longCapture = join(temp, 'long-run.pcap');
  beforeAll(async () => {
    writeFileSync(longCapture, repeatCapture(join(REPO, 'fixtures/examples/packets.pcap'), COPIES));
    session = await startSession();
  });
  afterAll(async () => {
    await session?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  test('cancel during a long run returns the page to ready, and a new run still works', async () => {
    const { page, errors, screenshot, close } = await session.open();
    await byTestId(page, 'file-input').setInputFiles([join(REPO, 'fixtures/obj/examples/dnat.o'), longCapture]);
    await expect.poll(() => byTestId(page, 'scenario-text').inputValue()).toMatch(/long-run\.pcap/);
    await page.locator('[data-testid="programs"] [data-program]').first().waitFor();
    await waitForStatus(page, /^ready/);

    await expect(byTestId(page, 'cancel').isDisabled()).resolves.toBe(true);
    await byTestId(page, 'run').click();
    // Progress arrives while the worker runs: `running N/TOTAL` with N moving.
    const first = await waitForStatus(page, /^running [1-9]\d*\/\d+/, 60_000);
    const [, done, total] = /^running (\d+)\/(\d+)/.exec(first)!.map(Number);
    expect(total).toBe(22 * COPIES);
    expect(done).toBeLessThan(total);
    const later = await waitForStatus(page, new RegExp(`^running (?!${done}/)\\d+/`), 30_000);
    expect(Number(/^running (\d+)/.exec(later)![1])).toBeGreaterThan(done);
    await expect(byTestId(page, 'cancel').isEnabled()).resolves.toBe(true);
    await screenshot('long-run-running');

    const cancelledAt = Date.now();
    await byTestId(page, 'cancel').click();
    await waitForStatus(page, /^ready/, 10_000);
    const cancelMs = Date.now() - cancelledAt;
    console.log(`cancel: status back to ready ${cancelMs} ms after the click, at packet ~${/^running (\d+)/.exec(later)![1]} of ${total}`);
    expect(cancelMs).toBeLessThan(5_000);
    await expect(byTestId(page, 'cancel').isDisabled()).resolves.toBe(true);
    await expect(byTestId(page, 'run').isEnabled()).resolves.toBe(true);
    // It stays cancelled: no late result from the terminated worker shows up.
    await page.waitForTimeout(1000);
    expect((await byTestId(page, 'status').textContent())?.trim()).toMatch(/^ready/);
    expect(await page.locator('[data-testid="packet-row"]').count()).toBe(0);

    // A new run (the bundled example again) completes in a fresh worker.
    const scenario = 'fixtures/scenarios/kpr-remote.yaml';
    const cli = cliRun(['--scenario', scenario]).report;
    await byTestId(page, 'scenario-select').selectOption(scenario);
    await waitForStatus(page, /^ready/);
    const after = await runToEnd(page);
    expect(after.packets).toBe(cli.totals.packets);
    expect(await page.locator('[data-testid="packet-row"]').count()).toBe(cli.totals.packets);
    expect(errors).toEqual([]);
    await close();
  });
});
