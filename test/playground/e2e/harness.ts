// What every browser test file needs: the built site served over HTTP, Chromium, a fresh
// browser context per test (1280x800, downloads allowed) that records console errors, uncaught
// errors and every request, and helpers that read the page through its data-testid contract.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchChromium, type LaunchedBrowser } from './browser.js';
import { copyOfSite, REPO } from './site.js';
import { serveStatic, type StaticServer } from './static-server.js';

/** Screenshots land here (test-artifacts/ is not committed; CI keeps it as an artifact). */
export const ARTIFACTS = join(REPO, 'test-artifacts/playground');

export const VIEWPORT = { width: 1280, height: 800 };

export interface Session {
  /** The site's root URL (http://127.0.0.1:PORT/). */
  url: string;
  browser: Browser;
  /** A new context and page on the site (with `hash`, e.g. '#s=...'), once the page says `ready`. */
  open(hash?: string): Promise<PlaygroundPage>;
  close(): Promise<void>;
}

export interface PlaygroundPage {
  page: Page;
  context: BrowserContext;
  /** console.error messages and uncaught exceptions, of the page and its worker. */
  errors: string[];
  /** Every URL requested (page, worker, fetches). */
  requests: string[];
  /** The requests that left the site's origin (http(s)/ws(s) to another host or port). */
  foreignRequests(): string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** Starts the static server and Chromium for one test file (call in beforeAll). */
export async function startSession(): Promise<Session> {
  // Built by the global setup already (cheap to check again), then copied: see copyOfSite.
  const site = copyOfSite();
  const server: StaticServer = await serveStatic(site.dir);
  let launched: LaunchedBrowser;
  try {
    launched = await launchChromium();
  } catch (err) {
    await server.close();
    site.remove();
    throw err;
  }
  const origin = new URL(server.url).origin;
  const pages: PlaygroundPage[] = [];
  return {
    url: server.url,
    browser: launched.browser,
    async open(hash = '') {
      const context = await launched.browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
      const errors: string[] = [];
      const requests: string[] = [];
      context.on('console', (m) => {
        if (m.type() === 'error') errors.push(`console.error: ${m.text()} (${m.location().url}:${m.location().lineNumber})`);
      });
      context.on('weberror', (e) => errors.push(`uncaught: ${e.error().message}`));
      context.on('request', (r) => requests.push(r.url()));
      const page = await context.newPage();
      const p: PlaygroundPage = {
        page,
        context,
        errors,
        requests,
        foreignRequests: () =>
          requests.filter((u) => {
            const url = new URL(u);
            return /^(https?|wss?):$/.test(url.protocol) && url.origin !== origin;
          }),
        screenshot: async (name) => {
          mkdirSync(ARTIFACTS, { recursive: true });
          const path = join(ARTIFACTS, `${name}.png`);
          await page.screenshot({ path, fullPage: true });
          return path;
        },
        close: () => context.close(),
      };
      pages.push(p);
      await page.goto(server.url + hash);
      await waitForStatus(page, /^ready/, 60_000);
      return p;
    },
    async close() {
      for (const p of pages) await p.close().catch(() => {});
      await launched.close();
      await server.close();
      site.remove();
    },
  };
}

export const byTestId = (page: Page | Locator, id: string): Locator => page.locator(`[data-testid="${id}"]`);

/** Text of the `status` element once it matches; on timeout, an error with the last status and any `error` text. */
export async function waitForStatus(page: Page, want: RegExp, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = ((await byTestId(page, 'status').first().textContent().catch(() => '')) ?? '').trim();
    if (want.test(last)) return last;
    if (/^error/.test(last) && !want.test(last)) {
      throw new Error(`status is '${last}' while waiting for ${want}; error shown: ${await errorText(page)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`status still '${last}' after ${timeoutMs} ms waiting for ${want}; error shown: ${await errorText(page)}`);
    }
    await page.waitForTimeout(100);
  }
}

/** The visible `error` element's text, or '(none)'. */
export async function errorText(page: Page): Promise<string> {
  const err = byTestId(page, 'error');
  const texts = await err.allTextContents().catch(() => []);
  return texts.map((t) => t.trim()).filter(Boolean).join(' | ') || '(none)';
}

export interface DoneStatus {
  packets: number;
  dropped: number;
  faults: number;
}

/** `done: N packets, M dropped, K faults` as numbers. */
export function parseDone(status: string): DoneStatus {
  const m = /^done: (\d+) packets?, (\d+) dropped, (\d+) faults?/.exec(status);
  if (!m) throw new Error(`status '${status}' is not 'done: N packets, M dropped, K faults'`);
  return { packets: Number(m[1]), dropped: Number(m[2]), faults: Number(m[3]) };
}

/**
 * Clicks `run` and waits for this run to finish; returns the final status. A previous run's
 * `done: ...` does not count: the page must have shown `running` since the click.
 */
export async function runToEnd(page: Page, timeoutMs = 90_000): Promise<DoneStatus> {
  await page.evaluate(() => {
    const w = window as unknown as { __statusesSeen: string[]; __statusObserver?: MutationObserver };
    w.__statusObserver?.disconnect();
    w.__statusesSeen = [];
    const read = () => document.querySelector('[data-testid="status"]')?.textContent?.trim() ?? '';
    w.__statusObserver = new MutationObserver(() => w.__statusesSeen.push(read()));
    w.__statusObserver.observe(document.body, { subtree: true, childList: true, characterData: true });
  });
  await byTestId(page, 'run').click();
  await page
    .waitForFunction(() => (window as unknown as { __statusesSeen: string[] }).__statusesSeen.some((s) => s.startsWith('running')), null, { timeout: 10_000 })
    .catch(async () => {
      throw new Error(`the page never showed 'running' after Run was clicked; status: ${await byTestId(page, 'status').textContent()}; error shown: ${await errorText(page)}`);
    });
  return parseDone(await waitForStatus(page, /^done:/, timeoutMs));
}

export interface TableRow {
  packet: string;
  before: string;
  after: string;
  verdict: string;
  output: string;
  redirect: string;
}

/** The rows of `packet-table` a user can see (filters hide rows), read from their data-col cells. */
export async function visibleRows(page: Page): Promise<TableRow[]> {
  await byTestId(page, 'packet-table').waitFor();
  return page.$$eval('[data-testid="packet-row"]', (rows) =>
    rows
      .filter((r) => (r as HTMLElement).offsetParent !== null || (r as HTMLElement).getClientRects().length > 0)
      .map((r) => {
        const cell = (col: string) => (r.querySelector(`[data-col="${col}"]`)?.textContent ?? '').trim();
        return { packet: cell('packet'), before: cell('before'), after: cell('after'), verdict: cell('verdict'), output: cell('output'), redirect: cell('redirect') };
      }),
  );
}

/** The packet-row of packet `n` (1-based, as the table numbers them). */
export const packetRow = (page: Page, n: number): Locator => page.locator(`[data-testid="packet-row"][data-packet="${n}"]`);

/** Whether the page scrolls sideways at its current size. */
export async function hasHorizontalScrollbar(page: Page): Promise<{ scroll: boolean; scrollWidth: number; clientWidth: number }> {
  return page.evaluate(() => {
    const el = document.scrollingElement ?? document.documentElement;
    return { scroll: el.scrollWidth > el.clientWidth, scrollWidth: el.scrollWidth, clientWidth: el.clientWidth };
  });
}
