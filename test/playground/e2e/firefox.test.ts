// The same site in Firefox (Debian's firefox-esr over WebDriver BiDi, see firefox.ts): the
// bundled example loads, runs in the worker with the CLI's verdicts, and a packet opens to its
// trace, with no console error, no foreign request and nothing scrolling sideways at 1280x800.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { BidiFirefox, firefoxMissing } from './firefox.js';
import { ARTIFACTS, VIEWPORT } from './harness.js';
import { cliRun } from './oracle.js';
import { copyOfSite } from './site.js';
import { serveStatic, type StaticServer } from './static-server.js';

const missing = firefoxMissing();
if (missing) console.log(`playground Firefox test skipped: ${missing}`);

const status = "return document.querySelector('[data-testid=\"status\"]')?.textContent?.trim() ?? ''";

describe.skipIf(missing !== undefined)('the playground in Firefox', () => {
  let server: StaticServer;
  let firefox: BidiFirefox;
  let site: { dir: string; remove(): void };
  beforeAll(async () => {
    site = copyOfSite();
    server = await serveStatic(site.dir);
    firefox = await BidiFirefox.launch(VIEWPORT);
  });
  afterAll(async () => {
    await firefox?.close();
    await server?.close();
    site?.remove();
  });

  test('runs the bundled NodePort example with the verdicts the CLI reports, and opens a packet to its trace', async () => {
    const cli = cliRun(['--scenario', 'fixtures/scenarios/kpr-remote.yaml']).report;
    await firefox.navigate(server.url);
    await firefox.waitFor(`const s = (() => { ${status} })(); return /^ready/.test(s) && document.querySelector('[data-testid="programs"] [data-program]') !== null;`, 'status ready');
    await firefox.evaluate(`document.querySelector('[data-testid="run"]').click(); return true;`);
    const done = await firefox.waitFor<string>(`const s = (() => { ${status} })(); return /^(done|error)/.test(s) ? s : '';`, 'the run to end');
    expect(done).toBe(`done: ${cli.totals.packets} packets, ${cli.totals.dropped} dropped, ${cli.totals.faults} faults`);
    const rows = await firefox.evaluate<[number, string, string][]>(
      `return [...document.querySelectorAll('[data-testid="packet-row"]')].map((r) => [Number(r.getAttribute('data-packet')), r.querySelector('[data-col="verdict"]').textContent.trim(), r.querySelector('[data-col="output"]').textContent.trim()]);`,
    );
    expect(rows).toEqual(cli.packets.map((p) => [p.packet, p.verdict, p.output]));

    await firefox.evaluate(`document.querySelector('[data-testid="packet-row"][data-packet="1"]').click(); return true;`);
    const lines = await firefox.waitFor<string[]>(
      `const d = document.querySelector('[data-testid="packet-detail"][data-packet="1"]'); if (!d) return null; const l = [...d.querySelectorAll('[data-testid="trace-line"]')].map((e) => e.getAttribute('data-line')); return l.length ? l : null;`,
      'packet 1 and its trace',
    );
    expect(lines.some((l) => /(^|\/)nodeport\.c:\d+$/.test(l))).toBe(true);
    const changed = await firefox.evaluate<string[]>(`return [...document.querySelectorAll('[data-testid="fields-after"] [data-changed="true"]')].map((e) => e.textContent);`);
    expect(changed.some((t) => t.includes('ip.dst'))).toBe(true);
    const scroll = await firefox.evaluate<boolean>('const el = document.scrollingElement; return el.scrollWidth > el.clientWidth;');
    expect(scroll).toBe(false);

    mkdirSync(ARTIFACTS, { recursive: true });
    await firefox.screenshot(join(ARTIFACTS, 'firefox-kpr-remote.png'));
    expect(firefox.errors).toEqual([]);
    const origin = new URL(server.url).origin;
    expect(firefox.requests.filter((u) => /^(https?|wss?):/.test(u) && new URL(u).origin !== origin)).toEqual([]);
    expect(firefox.requests.some((u) => u.endsWith('.o'))).toBe(true);
  });
});
