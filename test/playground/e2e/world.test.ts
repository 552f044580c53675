// Editing the world in the page: a change in a typed map table is written into the scenario
// YAML, and the run uses it — checked against the CLI running that edited YAML.
import { mkdtempSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { chromiumMissing } from './browser.js';
import { byTestId, runToEnd, startSession, visibleRows, type Session } from './harness.js';
import { cliRun } from './oracle.js';
import { REPO } from './site.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

interface BackendEntry {
  key: number;
  value: { address: string; port: number; proto: number };
}

describe.skipIf(missing !== undefined)('editing the world', () => {
  let session: Session;
  const temp = mkdtempSync(join(tmpdir(), 'bpfbed-e2e-world-'));
  beforeAll(async () => {
    session = await startSession();
  });
  afterAll(async () => {
    await session?.close();
    rmSync(temp, { recursive: true, force: true });
  });

  /**
   * Runs the CLI on scenario text as if it were fixtures/scenarios/NAME: the scenario's relative
   * paths (../obj, ../kpr, NAME/expected) resolve through links to the repository's fixtures.
   */
  function cliOnText(text: string) {
    const scenarios = join(temp, 'scenarios');
    mkdirSync(scenarios, { recursive: true });
    for (const dir of ['obj', 'kpr', 'examples', 'k8s']) symlinkSync(join(REPO, 'fixtures', dir), join(temp, dir));
    symlinkSync(join(REPO, 'fixtures/scenarios/kpr-remote'), join(scenarios, 'kpr-remote'));
    const file = join(scenarios, 'edited.yaml');
    writeFileSync(file, text);
    return cliRun(['--scenario', file]).report;
  }

  test('a backend port changed in the lb4_backends table is written to the YAML and used by the run', async () => {
    const { page, errors, screenshot, close } = await session.open();
    const editor = page.locator('[data-testid="map-editor"][data-map="lb4_backends"]');
    await editor.locator('[data-testid="map-entry"]').first().waitFor();
    const before = parse(await byTestId(page, 'scenario-text').inputValue()) as { maps: { lb4_backends: BackendEntry[] } };
    const tcp = before.maps.lb4_backends.findIndex((e) => e.value.proto === 6);
    expect(tcp).toBeGreaterThanOrEqual(0);
    const oldPort = before.maps.lb4_backends[tcp].value.port;
    const newPort = oldPort + 1000;

    const port = editor.locator('[data-testid="map-entry"]').nth(tcp).locator('[data-field="value.port"]');
    expect(await port.inputValue()).toBe(String(oldPort));
    await port.fill(String(newPort));
    await port.press('Tab');
    await expect
      .poll(async () => (parse(await byTestId(page, 'scenario-text').inputValue()) as typeof before).maps.lb4_backends[tcp].value.port)
      .toBe(newPort);
    const edited = await byTestId(page, 'scenario-text').inputValue();
    // Nothing else of the entry moved.
    const after = parse(edited) as typeof before;
    expect({ ...after.maps.lb4_backends[tcp], value: { ...after.maps.lb4_backends[tcp].value, port: oldPort } }).toEqual(before.maps.lb4_backends[tcp]);

    await runToEnd(page);
    const cli = cliOnText(edited);
    const rows = await visibleRows(page);
    expect(rows.map((r) => [Number(r.packet), r.verdict, r.output, r.after])).toEqual(cli.packets.map((p) => [p.packet, p.verdict, p.output, p.result ?? '']));
    // The client's TCP packets now go to the new port.
    const syn = rows.find((r) => /\[SYN\]/.test(r.before));
    expect(syn?.after).toContain(`:${newPort} `);
    await screenshot('world-edited-backend-port');
    expect(errors).toEqual([]);
    await close();
  });
});
