// Debian's Chromium, driven by playwright-core (which brings no browser of its own). Where it is
// not installed the browser tests skip and say why; under CI=true a missing browser is an error,
// because .ci/run installs it and a silent skip would hide a broken CI image.
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.BPFBED_CHROMIUM ?? '/usr/bin/chromium';

// --no-sandbox: the tests run as root in CI, where Chromium refuses its sandbox. The rest keep a
// headless run quiet and deterministic: no GPU, no QUIC, no first-run UI, and no background
// traffic (component updates, sync, safe browsing lists) that would show up as foreign requests.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const inCI = /^(1|true|yes)$/i.test(process.env.CI ?? '');

/** Whether the browser tests can run here: undefined when they can, else why not (BPFBED_E2E=0 turns
 * them off). A missing browser under CI throws. */
export function chromiumMissing(): string | undefined {
  if (process.env.BPFBED_E2E === '0') return 'turned off by BPFBED_E2E=0';
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return undefined;
  } catch {
    const why = `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set BPFBED_CHROMIUM)`;
    if (inCI) throw new Error(`CI=true but the playground's browser tests cannot run: ${why}`);
    return why;
  }
}

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

/**
 * Starts Chromium with a fresh profile (`--user-data-dir`) in a temp folder, removed on close.
 * Tests open their own contexts on `browser` (browser.newContext()), so nothing carries over
 * between them.
 */
export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'bpfbed-chromium-'));
  let context: BrowserContext;
  try {
    // Playwright passes the profile as --user-data-dir (it refuses one in `args`).
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: CHROMIUM_ARGS,
      timeout: 60_000,
    });
  } catch (err) {
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`cannot start ${CHROMIUM_PATH}: ${(err as Error).message}`);
  }
  const browser = context.browser();
  if (!browser) throw new Error('playwright-core gave a persistent context without its browser');
  return {
    browser,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
