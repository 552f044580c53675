// The page as it opens: the bundled example loaded (kpr-remote selected, its object described),
// nothing wrong in the console, no request outside the site, and a layout that fits 1280x800.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadObject } from '../../../src/loader/object.js';
import { chromiumMissing } from './browser.js';
import { byTestId, hasHorizontalScrollbar, startSession, type PlaygroundPage, type Session } from './harness.js';
import { REPO } from './site.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

const SCENARIO = 'fixtures/scenarios/kpr-remote.yaml';
const OBJECT = 'fixtures/obj/kpr/nodeport.o';

// One page for the whole file: these tests only look at the page as it opened.
describe.skipIf(missing !== undefined)('the playground page as it opens', () => {
  let session: Session;
  let opened: PlaygroundPage;
  beforeAll(async () => {
    session = await startSession();
    opened = await session.open();
    await opened.page.locator('[data-testid="programs"] [data-program]').first().waitFor();
  });
  afterAll(async () => {
    await session?.close();
  });

  test('opens with the NodePort remote-backend scenario selected and its YAML in the editor', async () => {
    const { page } = opened;
    await expect(byTestId(page, 'scenario-select').inputValue()).resolves.toBe(SCENARIO);
    await expect(byTestId(page, 'scenario-text').inputValue()).resolves.toBe(readFileSync(join(REPO, SCENARIO), 'utf8'));
    // Every bundled scenario is offered.
    const offered = await byTestId(page, 'scenario-select').locator('option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    for (const name of ['kpr-remote', 'kpr-no-backend', 'kpr-local', 'dnat']) expect(offered).toContain(`fixtures/scenarios/${name}.yaml`);
  });

  test("lists the scenario object's programs and maps as the loader reads them", async () => {
    const { page, screenshot } = opened;
    const spec = loadObject(new Uint8Array(readFileSync(join(REPO, OBJECT))), { name: 'nodeport.o' });
    const programs = await page.locator('[data-testid="programs"] [data-program]').evaluateAll((els) => els.map((e) => e.getAttribute('data-program')));
    expect(programs.sort()).toEqual(spec.programs.map((p) => p.name).sort());
    const maps = await page.locator('[data-testid="maps"] [data-map]').evaluateAll((els) => els.map((e) => e.getAttribute('data-map')));
    for (const m of spec.maps) expect(maps).toContain(m.name);
    // The tc/ingress picker holds the scenario's program.
    await expect(page.locator('[data-testid="program-picker"][data-attach="tc/ingress"]').inputValue()).resolves.toBe('nodeport_ingress');
    await screenshot('opened');
  });

  test('loads with no console errors and no request outside its own origin', async () => {
    const p = opened;
    expect(p.errors).toEqual([]);
    expect(p.foreignRequests()).toEqual([]);
    // It did fetch the bundled files from the site itself.
    expect(p.requests.some((u) => /\.o$/.test(u))).toBe(true);
    expect(p.requests.some((u) => /\.pcap$/.test(u))).toBe(true);
  });

  test('fits 1280x800 without a horizontal scrollbar', async () => {
    const { page } = opened;
    expect(await hasHorizontalScrollbar(page)).toMatchObject({ scroll: false });
    // The controls that start a run are on the first screen.
    const run = await byTestId(page, 'run').boundingBox();
    expect(run).not.toBeNull();
    expect(run!.y + run!.height).toBeLessThanOrEqual(800);
    expect(run!.x + run!.width).toBeLessThanOrEqual(1280);
  });
});
