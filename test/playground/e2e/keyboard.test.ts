// The page without a mouse, and at 1280x800: Tab reaches Run, Enter on a focused packet row
// opens that packet, and nothing scrolls sideways with a packet open.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumMissing } from './browser.js';
import { byTestId, hasHorizontalScrollbar, packetRow, runToEnd, startSession, VIEWPORT, type Session } from './harness.js';
import { cliRun } from './oracle.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

const SCENARIO = 'fixtures/scenarios/kpr-remote.yaml';

describe.skipIf(missing !== undefined)('keyboard and layout', () => {
  let session: Session;
  beforeAll(async () => {
    session = await startSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  test('Tab from the top of the page reaches the run button, and Enter runs', async () => {
    const { page, close } = await session.open();
    const testIdOfFocus = () => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? '');
    const seen: string[] = [];
    for (let i = 0; i < 40 && (await testIdOfFocus()) !== 'run'; i++) {
      await page.keyboard.press('Tab');
      seen.push(await testIdOfFocus());
    }
    expect(await testIdOfFocus(), `focus went through ${seen.join(', ')}`).toBe('run');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await byTestId(page, 'status').textContent())?.trim(), { timeout: 60_000 }).toMatch(/^done:/);
    await close();
  });

  test('Enter on a focused packet row opens that packet', async () => {
    const cli = cliRun(['--scenario', SCENARIO]).report;
    const { page, screenshot, close } = await session.open();
    await runToEnd(page);
    // Rows are in the tab order; focus the second one and press Enter.
    const target = cli.packets[1];
    const row = packetRow(page, target.packet);
    expect(await row.getAttribute('tabindex')).toBe('0');
    await row.focus();
    await page.keyboard.press('Enter');
    const detail = byTestId(page, 'packet-detail');
    await detail.waitFor();
    await expect.poll(() => detail.getAttribute('data-packet')).toBe(String(target.packet));
    // The fields before are that packet's: its source address as the CLI summarises it.
    const source = /^([^\s→]+?)(?::\d+)? →/.exec(target.input)?.[1];
    expect(source).toBeDefined();
    expect(await byTestId(detail, 'fields-before').innerText()).toContain(source!);
    // Arrow keys move the selection from there.
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => detail.getAttribute('data-packet')).toBe(String(cli.packets[2].packet));
    await screenshot('keyboard-packet-open');
    await close();
  });

  test(`at ${VIEWPORT.width}x${VIEWPORT.height} nothing scrolls sideways, with a run shown and a packet open`, async () => {
    const { page, screenshot, close } = await session.open();
    await runToEnd(page);
    await packetRow(page, 1).click();
    await byTestId(page, 'packet-detail').waitFor();
    expect(await hasHorizontalScrollbar(page)).toMatchObject({ scroll: false });
    // The table, the detail and the run controls are all on screen.
    for (const id of ['run', 'status', 'packet-table', 'packet-detail']) {
      const box = await byTestId(page, id).boundingBox();
      expect(box, id).not.toBeNull();
      expect(box!.x, id).toBeGreaterThanOrEqual(0);
      expect(box!.x + Math.min(box!.width, VIEWPORT.width), id).toBeLessThanOrEqual(VIEWPORT.width);
      expect(box!.y, id).toBeLessThan(VIEWPORT.height);
    }
    await screenshot('layout-1280x800');
    await close();
  });
});
