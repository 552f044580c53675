// Accessibility basics, as the browser's own accessibility tree sees the page (Chromium's,
// through the DevTools protocol): every control has a name, the packet table is a grid that
// says where its windowed rows sit, focus is always drawn, and the run's phases are announced.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { chromiumMissing } from './browser.js';
import { byTestId, packetRow, runToEnd, startSession, type Session } from './harness.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

/** Roles a user operates: each needs an accessible name (WAI-ARIA 1.2, "name required" roles and form controls). Data
 * tables and their rows are not controls; a row is checked when it is focusable (the packet rows). */
const CONTROL_ROLES = new Set([
  'button',
  'checkbox',
  'combobox',
  'link',
  'listbox',
  'menuitem',
  'option',
  'progressbar',
  'radio',
  'searchbox',
  'slider',
  'spinbutton',
  'switch',
  'tab',
  'textbox',
  'grid',
]);

interface AXValue {
  value?: unknown;
}
interface AXNode {
  ignored: boolean;
  role?: AXValue;
  name?: AXValue;
  properties?: { name: string; value: AXValue }[];
  backendDOMNodeId?: number;
}

/** Controls (by role, or anything focusable) with an empty accessible name, described by tag and attributes. */
async function unnamedControls(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('Accessibility.enable');
    const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as unknown as { nodes: AXNode[] };
    const out: string[] = [];
    for (const n of nodes) {
      if (n.ignored) continue;
      const role = String(n.role?.value ?? '');
      const focusable = n.properties?.some((p) => p.name === 'focusable' && p.value.value === true) ?? false;
      // The root document and generic containers made focusable for scrolling are not controls.
      if (role === 'RootWebArea' || role === 'WebArea') continue;
      if (!CONTROL_ROLES.has(role) && !focusable) continue;
      const name = String(n.name?.value ?? '').trim();
      if (name !== '') continue;
      let what = `role ${role}`;
      if (n.backendDOMNodeId !== undefined) {
        const { node } = (await cdp.send('DOM.describeNode', { backendNodeId: n.backendDOMNodeId })) as { node: { nodeName: string; attributes?: string[] } };
        const attrs = node.attributes ?? [];
        const pairs: string[] = [];
        for (let i = 0; i < attrs.length; i += 2) if (/^(id|class|data-testid|data-field|type|data-map)$/.test(attrs[i])) pairs.push(`${attrs[i]}="${attrs[i + 1]}"`);
        what = `<${node.nodeName.toLowerCase()} ${pairs.join(' ')}> (${what})`;
      }
      out.push(what);
    }
    return out;
  } finally {
    await cdp.detach();
  }
}

describe.skipIf(missing !== undefined)('accessibility basics', () => {
  let session: Session;
  beforeAll(async () => {
    session = await startSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  test('every control has an accessible name: on opening, and with a run shown and a packet open', async () => {
    const { page, close } = await session.open();
    // Open every collapsed editor so their inputs are in the tree too.
    await page.locator('details:not([open]) > summary').evaluateAll((els) => els.forEach((e) => (e as HTMLElement).click()));
    expect(await unnamedControls(page)).toEqual([]);
    await runToEnd(page);
    await packetRow(page, 1).click();
    await byTestId(page, 'packet-detail').waitFor();
    await byTestId(page, 'trace').waitFor();
    await page.locator('details:not([open]) > summary').evaluateAll((els) => els.forEach((e) => (e as HTMLElement).click()));
    expect(await unnamedControls(page)).toEqual([]);
    await close();
  });

  test('the packet table is a grid with a row count, and each rendered row says its index', async () => {
    const { page, close } = await session.open();
    const done = await runToEnd(page);
    const table = byTestId(page, 'packet-table');
    expect(await table.getAttribute('role')).toBe('grid');
    expect(await table.getAttribute('aria-rowcount')).toBe(String(done.packets + 1));
    const indexes = await page.locator('[data-testid="packet-row"]').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-rowindex')));
    expect(indexes).toEqual(Array.from({ length: done.packets }, (_, i) => String(i + 2)));
    // Column headers name the cells.
    const headers = await table.locator('thead th').allTextContents();
    expect(headers.map((h) => h.trim()).filter(Boolean).length).toBe(6);
    await close();
  });

  test('every stop of the Tab order draws a visible focus ring', async () => {
    const { page, close } = await session.open();
    await runToEnd(page);
    const seen: string[] = [];
    const bare: string[] = [];
    for (let i = 0; i < 60; i++) {
      await page.keyboard.press('Tab');
      const r = await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el || el === document.body) return undefined;
        const drawn = (e: Element | null) => {
          if (!e) return false;
          const s = getComputedStyle(e);
          return (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow !== 'none' && s.boxShadow !== '');
        };
        // A visually hidden input draws its ring on the label that stands for it.
        const label = el.id ? document.querySelector(`label[for="${el.id}"]`) : null;
        const hidden = el.classList.contains('visually-hidden');
        const what = `${el.tagName.toLowerCase()}${el.getAttribute('data-testid') ? `[${el.getAttribute('data-testid')}]` : ''}${el.getAttribute('aria-label') ? `(${el.getAttribute('aria-label')})` : ''}`;
        return { what, ok: hidden ? drawn(label) : drawn(el) };
      });
      if (!r) continue;
      seen.push(r.what);
      if (!r.ok) bare.push(r.what);
    }
    expect(seen.length).toBeGreaterThan(10);
    expect(bare, `tab stops: ${seen.join(', ')}`).toEqual([]);
    await close();
  });

  test('the run phases are announced in a polite live region, and errors in an alert', async () => {
    const { page, close } = await session.open();
    const live = page.locator('[aria-live="polite"], [role="status"]').filter({ hasText: /./ });
    await expect.poll(() => live.allTextContents()).toContain('ready');
    const done = await runToEnd(page);
    const announced = await page.locator('[role="status"][aria-live="polite"]').allTextContents();
    expect(announced).toContain(`done: ${done.packets} packets, ${done.dropped} dropped, ${done.faults} faults`);
    // A broken scenario text is an error the page announces as an alert.
    await byTestId(page, 'scenario-text').fill('object: [unclosed');
    const alert = page.locator('[role="alert"]');
    await alert.first().waitFor();
    expect(await alert.first().getAttribute('data-testid')).toBe('error');
    await close();
  });
});
