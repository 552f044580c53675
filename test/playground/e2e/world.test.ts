// Editing the world in the page: a change in a typed map table, the environment's neighbours,
// the seed or the clock is written into the scenario YAML, and the run uses it — checked
// against the CLI running that edited YAML.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse, parseDocument } from 'yaml';
import { readCapture } from '../../../src/pcap/index.js';
import { chromiumMissing } from './browser.js';
import { byTestId, errorText, runToEnd, startSession, visibleRows, type Session } from './harness.js';
import { cliRun, framesOf } from './oracle.js';
import { REPO } from './site.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

interface ScenarioYaml {
  environment: {
    devices: unknown[];
    neighbours: { ip: string; mac: string; dev: string }[];
    seed?: number;
    clock?: { monotonicNs?: number };
  };
}

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
   * Each call gets a folder of its own.
   */
  let runs = 0;
  function cliOnText(text: string) {
    const root = join(temp, `run${++runs}`);
    const scenarios = join(root, 'scenarios');
    mkdirSync(scenarios, { recursive: true });
    for (const dir of ['obj', 'kpr', 'examples', 'k8s']) symlinkSync(join(REPO, 'fixtures', dir), join(root, dir));
    symlinkSync(join(REPO, 'fixtures/scenarios/kpr-remote'), join(scenarios, 'kpr-remote'));
    const file = join(scenarios, 'edited.yaml');
    writeFileSync(file, text);
    return cliRun(['--scenario', file]);
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
    const cli = cliOnText(edited).report;
    const rows = await visibleRows(page);
    expect(rows.map((r) => [Number(r.packet), r.verdict, r.output, r.after])).toEqual(cli.packets.map((p) => [p.packet, p.verdict, p.output, p.result ?? '']));
    // The client's TCP packets now go to the new port.
    const syn = rows.find((r) => /\[SYN\]/.test(r.before));
    expect(syn?.after).toContain(`:${newPort} `);
    await screenshot('world-edited-backend-port');
    expect(errors).toEqual([]);
    await close();
  });

  /** The scenario text after `edit` has been written into it (polls until `done` says so). */
  async function editedText(page: Page, done: (yaml: ScenarioYaml) => boolean): Promise<string> {
    await expect
      .poll(async () => done(parse(await byTestId(page, 'scenario-text').inputValue()) as ScenarioYaml), { timeout: 5_000 })
      .toBe(true)
      .catch(async (err: Error) => {
        throw new Error(`${err.message}; the scenario text is:\n${await byTestId(page, 'scenario-text').inputValue()}\nerror shown: ${await errorText(page)}`);
      });
    return byTestId(page, 'scenario-text').inputValue();
  }

  test("a neighbour's MAC edited in the environment table is the destination MAC of the frames the CLI sends there", async () => {
    const { page, errors, close } = await session.open();
    const before = parse(await byTestId(page, 'scenario-text').inputValue()) as ScenarioYaml;
    // node2, the remote backend's node: the FIB lookup's next hop for the pod's subnet.
    const at = before.environment.neighbours.findIndex((n) => n.ip === '10.0.0.5');
    expect(at).toBeGreaterThanOrEqual(0);
    const oldMac = before.environment.neighbours[at].mac;
    const newMac = '02:00:00:00:0e:99';
    const row = page.locator('[data-testid="env-editor"] [data-env="neighbours"] tr[data-row]').nth(at);
    expect(await row.locator('[data-field="ip"]').inputValue()).toBe('10.0.0.5');
    const mac = row.locator('[data-field="mac"]');
    expect(await mac.inputValue()).toBe(oldMac);
    await mac.fill(newMac);
    await mac.press('Tab');
    const edited = await editedText(page, (y) => y.environment.neighbours[at].mac === newMac);
    // The other neighbours and the devices are as they were.
    const after = parse(edited) as ScenarioYaml;
    expect(after.environment.devices).toEqual(before.environment.devices);
    expect(after.environment.neighbours.filter((_, i) => i !== at)).toEqual(before.environment.neighbours.filter((_, i) => i !== at));

    await runToEnd(page);
    const cli = cliOnText(edited);
    const rows = await visibleRows(page);
    expect(rows.map((r) => [Number(r.packet), r.verdict, r.output, r.after])).toEqual(cli.report.packets.map((p) => [p.packet, p.verdict, p.output, p.result ?? '']));
    // What the CLI sends out of eth0 towards node2 carries the new MAC, and the page's eth0.pcap is those same frames.
    const cliFrames = framesOf(join(cli.outDir, 'eth0.pcap'));
    const dstMacs = cliFrames.map((f) => [...f.subarray(0, 6)].map((b) => b.toString(16).padStart(2, '0')).join(':'));
    expect(dstMacs).toContain(newMac);
    expect(dstMacs).not.toContain(oldMac);
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.locator('[data-testid="download-pcap"][data-device="eth0"]').click()]);
    const pageFrames = readCapture(new Uint8Array(readFileSync(await dl.path()))).packets.map((p) => [...p.data]);
    expect(pageFrames).toEqual(cliFrames.map((f) => [...f]));
    expect(errors).toEqual([]);
    await close();
  });

  test('the seed input changes the SNAT port the datapath draws at random after a collision, as the CLI does with that seed', async () => {
    const { page, errors, close } = await session.open();
    const original = await byTestId(page, 'scenario-text').inputValue();
    expect((parse(original) as ScenarioYaml).environment.seed).toBeUndefined();
    const snatPort = (after: string | undefined) => /^10\.0\.0\.2:(\d+) →/.exec(after ?? '')?.[1];
    // The port the client's connection hashes to (bpf/kpr/nodeport.c snat_allocate, tuple_hash)...
    const hashed = snatPort(cliOnText(original).report.packets[0].result);
    expect(hashed).toBeDefined();
    // ...is taken by another connection's reply tuple, so the datapath retries with
    // bpf_get_prandom_u32(): the port now depends on the seed.
    const doc = parseDocument(original);
    const taken = { key: { saddr: '10.244.1.5', daddr: '10.0.0.2', sport: 8080, dport: Number(hashed), proto: 6, dir: 2 }, value: { to_addr: '10.0.0.99', to_port: 50000 } };
    expect(doc.hasIn(['maps', 'snat4'])).toBe(false);
    doc.setIn(['maps', 'snat4'], doc.createNode([taken]));
    await byTestId(page, 'scenario-text').fill(doc.toString());

    const portsWith = async (): Promise<string | undefined> => {
      const text = await byTestId(page, 'scenario-text').inputValue();
      await runToEnd(page);
      const cli = cliOnText(text).report;
      const rows = await visibleRows(page);
      expect(rows.map((r) => [Number(r.packet), r.verdict, r.output, r.after])).toEqual(cli.packets.map((p) => [p.packet, p.verdict, p.output, p.result ?? '']));
      return snatPort(rows[0].after);
    };
    const defaultSeedPort = await portsWith();
    expect(defaultSeedPort).toBeDefined();
    expect(defaultSeedPort, 'the collision made the datapath draw a port').not.toBe(hashed);

    const seed = byTestId(page, 'seed-input');
    await seed.fill('12345');
    await seed.press('Tab');
    await editedText(page, (y) => y.environment.seed === 12345);
    const seededPort = await portsWith();
    expect(seededPort).toBeDefined();
    // Another seed, another draw (a 1 in 28,232 chance of the same port).
    expect(seededPort).not.toBe(defaultSeedPort);
    expect(errors).toEqual([]);
    await close();
  });

  test('the clock input sets the monotonic clock the connection entries are stamped with, as the CLI does', async () => {
    const { page, errors, close } = await session.open();
    const clockNs = 5_000_000_000_000;
    const clock = byTestId(page, 'clock-input');
    await clock.fill(String(clockNs));
    await clock.press('Tab');
    const edited = await editedText(page, (y) => y.environment.clock?.monotonicNs === clockNs);
    await runToEnd(page);
    const cli = cliOnText(edited);
    const rows = await visibleRows(page);
    expect(rows.map((r) => [Number(r.packet), r.verdict, r.output, r.after])).toEqual(cli.report.packets.map((p) => [p.packet, p.verdict, p.output, p.result ?? '']));
    // ct4's created_ns is bpf_ktime_get_ns() at the connection's first packet: at or after the
    // clock set, and before the default clock (1 s) plus the capture's length would be.
    const view = page.locator('[data-testid="map-view"][data-map="ct4"]');
    await view.waitFor();
    const stamps = ((await view.innerText()).match(/\b\d{13,}\b/g) ?? []).map(Number);
    expect(stamps.length).toBeGreaterThan(0);
    for (const t of stamps) expect(t).toBeGreaterThanOrEqual(clockNs);
    expect(errors).toEqual([]);
    await close();
  });
});
