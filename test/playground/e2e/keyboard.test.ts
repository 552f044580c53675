// The page without a mouse, and at 1280x800: Tab reaches Run, Enter on a focused packet row
// opens that packet, nothing scrolls sideways with a packet open, and the map and environment
// editors fit the side column whatever the struct and however long its values.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumMissing } from './browser.js';
import { ARTIFACTS, byTestId, hasHorizontalScrollbar, packetRow, runToEnd, startSession, VIEWPORT, type Session } from './harness.js';
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

  /** Elements of the left column wider than it, or sticking out of it (none expected). */
  async function overflowingInLeftColumn(page: Page): Promise<string[]> {
    return page.evaluate(() => {
      const left = document.querySelector('.left') as HTMLElement;
      const box = left.getBoundingClientRect();
      const out: string[] = [];
      if (left.scrollWidth > left.clientWidth) out.push(`.left scrolls sideways (${left.scrollWidth} > ${left.clientWidth})`);
      for (const el of left.querySelectorAll<HTMLElement>('[data-testid="map-editor"], [data-testid="env-editor"], .table-scroll, .map-entry')) {
        if (el.scrollWidth > el.clientWidth + 1) out.push(`${el.getAttribute('data-testid') ?? el.className}${el.dataset.map ? `[${el.dataset.map}]` : ''} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
      }
      for (const el of left.querySelectorAll<HTMLElement>('input, select, button, textarea')) {
        const r = el.getBoundingClientRect();
        if (r.width === 0) continue;
        if (r.right > box.right + 0.5 || r.left < box.left - 0.5) out.push(`${el.tagName.toLowerCase()} ${el.getAttribute('aria-label') ?? el.getAttribute('data-testid') ?? ''} sticks out (${Math.round(r.left)}..${Math.round(r.right)} of ${Math.round(box.left)}..${Math.round(box.right)})`);
      }
      return out;
    });
  }

  test(`at ${VIEWPORT.width}x${VIEWPORT.height} the map and environment editors fit the left column, IPv6 addresses and long values included`, async () => {
    const { page, close } = await session.open();
    for (const scenario of ['fixtures/scenarios/kpr-remote.yaml', 'fixtures/scenarios/kpr-v6-remote.yaml']) {
      await byTestId(page, 'scenario-select').selectOption(scenario);
      await expect.poll(() => byTestId(page, 'scenario-text').inputValue()).toContain(scenario.includes('v6') ? 'lb6_backends' : 'lb4_backends');
      const map = scenario.includes('v6') ? 'lb6_backends' : 'lb4_backends';
      await page.locator(`[data-testid="map-editor"][data-map="${map}"] [data-testid="map-entry"]`).first().waitFor();
      await page.locator('.left details:not([open]) > summary').evaluateAll((els) => els.forEach((e) => (e as HTMLElement).click()));
      expect(await overflowingInLeftColumn(page), scenario).toEqual([]);
    }
    // The longest text forms: a full IPv6 address, 16 bytes of hex, a long address list.
    const entry = page.locator('[data-testid="map-editor"][data-map="lb6_backends"] [data-testid="map-entry"]').first();
    const address = entry.locator('[data-field="value.address"]');
    await address.fill('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    await address.press('Tab');
    await expect.poll(() => byTestId(page, 'scenario-text').inputValue()).toContain('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
    const port = entry.locator('[data-field="value.port"]');
    await port.fill('0x00112233445566778899aabbccddeeff');
    const addrs = page.locator('[data-env="devices"] tr[data-row="0"] [data-field="addrs"]');
    await addrs.fill('10.0.0.2/24, fd00:1234:5678:9abc:def0:1234:5678:9abc/64, fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128');
    await addrs.press('Tab');
    expect(await overflowingInLeftColumn(page)).toEqual([]);
    expect(await hasHorizontalScrollbar(page)).toMatchObject({ scroll: false });
    // What a user sees: the viewport with the edited IPv6 entry in view (a full-page shot would
    // show the left column unscrolled).
    await entry.scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(ARTIFACTS, 'editors-1280x800.png') });
    await close();
  });
});
