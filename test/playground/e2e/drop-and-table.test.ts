// Files dropped on the page (objects, captures, a snapshot), the packet table past the size where
// it renders only the rows in view, its filters, and how a faulting packet is shown.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadObject } from '../../../src/loader/object.js';
import { chromiumMissing } from './browser.js';
import { dropFiles, fileFromDisk } from './drop.js';
import { byTestId, errorText, packetRow, runToEnd, startSession, visibleRows, waitForStatus, type Session } from './harness.js';
import { cliRun, repeatCapture } from './oracle.js';
import { REPO } from './site.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

const DNAT = 'fixtures/obj/examples/dnat.o';
const FAULT = 'fixtures/obj/testdata/fault_oob.o';
const CAPTURE = 'fixtures/examples/packets.pcap';
/** The objects' first programs, which the default scenario of a dropped object attaches. */
const firstProgram = (object: string) => loadObject(new Uint8Array(readFileSync(join(REPO, object))), { name: object }).programs[0].name;
const DNAT_PROGRAM = firstProgram(DNAT);
const FAULT_PROGRAM = firstProgram(FAULT);
/** 22 packets x 30 = 660 rows: past the 500 rows above which the table is windowed. */
const COPIES = 30;

/** Waits until the dropped object is described and the page is ready to run it. */
async function waitForObject(page: Page, capture: RegExp): Promise<void> {
  await page.locator('[data-testid="programs"] [data-program]').first().waitFor({ timeout: 30_000 });
  await expect.poll(() => byTestId(page, 'scenario-text').inputValue()).toMatch(capture);
  await waitForStatus(page, /^ready/);
}

/** key, value and status of a map-view's entries. */
async function mapEntries(page: Page, map: string): Promise<{ key: string; value: string }[]> {
  return page.locator(`[data-testid="map-view"][data-map="${map}"] [data-status]`).evaluateAll((rows) =>
    rows.map((r) => {
      const cells = [...r.querySelectorAll('td')].map((c) => (c.textContent ?? '').trim());
      return { key: cells[0] ?? '', value: cells[1] ?? '' };
    }),
  );
}

describe.skipIf(missing !== undefined)('dropped files and the packet table', () => {
  let session: Session;
  const temp = mkdtempSync(join(tmpdir(), 'bpfbed-e2e-drop-'));
  const longCapture = join(temp, 'windowed.pcap');
  beforeAll(async () => {
    writeFileSync(longCapture, repeatCapture(join(REPO, CAPTURE), COPIES));
    session = await startSession();
  });
  afterAll(async () => {
    await session?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  test('an object and a capture dropped on the drop zone run as the CLI runs them', async () => {
    const cli = cliRun([DNAT, '--prog', DNAT_PROGRAM, '--pcap', CAPTURE]).report;
    const { page, errors, close } = await session.open();
    const dropped = await dropFiles(page, [fileFromDisk(join(REPO, DNAT)), fileFromDisk(join(REPO, CAPTURE))]);
    // The page takes the drop (a browser would otherwise navigate to the file).
    expect(dropped).toEqual({ dropPrevented: true, overPrevented: true });
    await waitForObject(page, /packets\.pcap/);
    expect(await byTestId(page, 'scenario-text').inputValue()).toMatch(/dnat\.o/);
    const done = await runToEnd(page);
    expect(done).toEqual({ packets: cli.totals.packets, dropped: cli.totals.dropped, faults: cli.totals.faults });
    const rows = await visibleRows(page);
    expect(rows.map((r) => [Number(r.packet), r.verdict, r.output, r.after])).toEqual(cli.packets.map((p) => [p.packet, p.verdict, p.output, p.result ?? '']));
    expect(errors).toEqual([]);
    await close();
  });

  test('a snapshot file dropped on the page restores its scenario and the state after its run', async () => {
    const scenario = 'fixtures/scenarios/dnat.yaml';
    const first = await session.open();
    await byTestId(first.page, 'scenario-select').selectOption(scenario);
    await waitForStatus(first.page, /^ready/);
    await runToEnd(first.page);
    const counted = (await mapEntries(first.page, 'stats')).filter((e) => /^\d+$/.test(e.value) && Number(e.value) > 0);
    expect(counted.length, 'the run counted packets in stats').toBeGreaterThan(0);
    const [dl] = await Promise.all([first.page.waitForEvent('download', { timeout: 30_000 }), byTestId(first.page, 'download-snapshot').click()]);
    const snapshot = { name: dl.suggestedFilename(), bytes: new Uint8Array(readFileSync(await dl.path())) };
    expect(snapshot.name).toMatch(/\.bpfbed$/);
    await first.close();

    const second = await session.open();
    const { page } = second;
    expect(await byTestId(page, 'scenario-select').inputValue()).not.toBe(scenario);
    await dropFiles(page, [snapshot]);
    await expect.poll(() => byTestId(page, 'scenario-select').inputValue()).toBe(scenario);
    expect(await byTestId(page, 'scenario-text').inputValue()).toBe(readFileSync(join(REPO, scenario), 'utf8'));
    await expect.poll(() => page.locator('.note').innerText()).toContain('state of the loaded snapshot');
    await waitForStatus(page, /^ready/);
    // The run continues from the snapshot's maps: every counter has counted the capture twice.
    await runToEnd(page);
    const again = await mapEntries(page, 'stats');
    for (const e of counted) expect(again.find((x) => x.key === e.key)?.value, `stats[${e.key}]`).toBe(String(2 * Number(e.value)));
    expect(second.errors).toEqual([]);
    await second.close();
  });

  test('a capture of more than 500 packets scrolls to its last packet, which opens its detail', async () => {
    const cli = cliRun([DNAT, '--prog', DNAT_PROGRAM, '--pcap', longCapture]).report;
    expect(cli.totals.packets).toBe(22 * COPIES);
    const lastPacket = cli.packets.at(-1)!;
    const { page, errors, screenshot, close } = await session.open();
    await dropFiles(page, [fileFromDisk(join(REPO, DNAT)), fileFromDisk(longCapture)]);
    await waitForObject(page, /windowed\.pcap/);
    const done = await runToEnd(page);
    expect(done.packets).toBe(cli.totals.packets);

    // Windowed: far fewer rows in the DOM than packets, and the grid says how many there are.
    const table = byTestId(page, 'packet-table');
    expect(await table.getAttribute('aria-rowcount')).toBe(String(cli.totals.packets + 1));
    const rendered = await page.locator('[data-testid="packet-row"]').count();
    expect(rendered).toBeGreaterThan(0);
    expect(rendered).toBeLessThan(200);
    expect(await packetRow(page, lastPacket.packet).count()).toBe(0);

    const scroller = page.locator('.table-scroller');
    await scroller.evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    const last = packetRow(page, lastPacket.packet);
    await last.waitFor({ timeout: 10_000 });
    // The row is inside the scroller's visible box, not just in the DOM.
    const box = (await last.boundingBox())!;
    const view = (await scroller.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(view.y);
    expect(box.y + box.height).toBeLessThanOrEqual(view.y + view.height + 1);
    expect(await last.getAttribute('aria-rowindex')).toBe(String(cli.totals.packets + 1));
    const cells = await last.evaluate((r) => Object.fromEntries([...r.querySelectorAll('[data-col]')].map((c) => [c.getAttribute('data-col'), (c.textContent ?? '').trim()])));
    expect([cells.packet, cells.verdict, cells.output, cells.after]).toEqual([String(lastPacket.packet), lastPacket.verdict, lastPacket.output, lastPacket.result ?? '']);

    await last.click();
    const detail = byTestId(page, 'packet-detail');
    await expect.poll(() => detail.getAttribute('data-packet'), { timeout: 30_000 }).toBe(String(lastPacket.packet));
    // The source address as the CLI summarises it: '10.0.0.1:40000 → ...' or '[fd00::1]:40000 → ...'.
    const source = /^(?:\[([^\]]+)\]|([^\s→:]+))/.exec(lastPacket.input)?.slice(1).find(Boolean);
    expect(source).toBeDefined();
    expect(await byTestId(detail, 'fields-before').innerText()).toContain(source!);
    await screenshot('windowed-last-packet');
    expect(errors).toEqual([]);
    await close();
  });

  test('"only rewritten" shows exactly the packets the CLI reports changes for', async () => {
    const scenario = 'fixtures/scenarios/dnat.yaml';
    const cli = cliRun(['--scenario', scenario]).report;
    const rewritten = cli.packets.filter((p) => p.changes.length > 0).map((p) => String(p.packet));
    expect(rewritten.length).toBeGreaterThan(0);
    expect(rewritten.length).toBeLessThan(cli.packets.length);
    const { page, close } = await session.open();
    await byTestId(page, 'scenario-select').selectOption(scenario);
    await waitForStatus(page, /^ready/);
    await runToEnd(page);
    expect((await visibleRows(page)).length).toBe(cli.packets.length);
    await byTestId(page, 'filter-rewritten').check();
    await expect.poll(async () => (await visibleRows(page)).map((r) => r.packet)).toEqual(rewritten);
    // Its count is shown beside it.
    expect(await page.locator('label:has([data-testid="filter-rewritten"])').innerText()).toContain(`(${rewritten.length})`);
    await byTestId(page, 'filter-rewritten').uncheck();
    await expect.poll(async () => (await visibleRows(page)).length).toBe(cli.packets.length);
    await close();
  });

  test('a faulting packet shows FAULT as a marked verdict, and "only drops" counts it', async () => {
    const cli = cliRun([FAULT, '--prog', FAULT_PROGRAM, '--pcap', CAPTURE]).report;
    const faulted = cli.packets.filter((p) => p.hops.some((h) => h.fault)).map((p) => String(p.packet));
    expect(faulted.length, 'the CLI sees faults').toBeGreaterThan(0);
    const { page, screenshot, close } = await session.open();
    await dropFiles(page, [fileFromDisk(join(REPO, FAULT)), fileFromDisk(join(REPO, CAPTURE))]);
    await waitForObject(page, /packets\.pcap/);
    const done = await runToEnd(page);
    expect(done.faults).toBe(faulted.length);

    const rows = await visibleRows(page);
    expect(rows.filter((r) => r.verdict === 'FAULT').map((r) => r.packet)).toEqual(faulted);
    // Marked as a fault, and drawn differently from a verdict the kernel gives.
    const cell = packetRow(page, Number(faulted[0])).locator('[data-col="verdict"]');
    expect(await cell.getAttribute('data-fault')).toBe('true');
    const look = (sel: string) => page.locator(sel).first().evaluate((el) => getComputedStyle(el).backgroundColor);
    const badge = await look(`[data-testid="packet-row"][data-packet="${faulted[0]}"] .verdict-fault`);
    expect(badge).not.toBe('rgba(0, 0, 0, 0)');

    await byTestId(page, 'filter-drops').check();
    await expect.poll(async () => (await visibleRows(page)).filter((r) => r.verdict === 'FAULT').map((r) => r.packet)).toEqual(faulted);
    const label = await page.locator('label:has([data-testid="filter-drops"])').innerText();
    const count = Number(/\((\d+)\)/.exec(label)?.[1]);
    expect(count).toBe(done.dropped);
    expect(count).toBeGreaterThanOrEqual(faulted.length);
    await screenshot('fault-verdict');
    expect(await errorText(page)).toBe('(none)');
    await close();
  });
});
