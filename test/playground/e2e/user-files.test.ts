// A user's own files, picked with the file input: an object and a capture become a default
// scenario (the CLI's default world) that runs as `bpfbed run OBJ --prog P --pcap CAP` does, a
// broken object gets the loader's own error, and a program that faults shows the fault and the
// C line it happened on.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadObject } from '../../../src/loader/object.js';
import { chromiumMissing } from './browser.js';
import { byTestId, packetRow, runToEnd, startSession, visibleRows, waitForStatus, type Session } from './harness.js';
import { cliRun, faultLine } from './oracle.js';
import { REPO } from './site.js';

const missing = chromiumMissing();
if (missing) console.log(`playground browser tests skipped: ${missing}`);

const DNAT = 'fixtures/obj/examples/dnat.o';
const FAULT = 'fixtures/obj/testdata/fault_oob.o';
const CAPTURE = 'fixtures/examples/packets.pcap';

/** The object's first program, as the loader reads it (the one the default scenario attaches). */
function firstProgram(object: string): string {
  return loadObject(new Uint8Array(readFileSync(join(REPO, object))), { name: object }).programs[0].name;
}

describe.skipIf(missing !== undefined)("the user's own files", () => {
  let session: Session;
  beforeAll(async () => {
    session = await startSession();
  });
  afterAll(async () => {
    await session?.close();
  });

  test('an object and a capture picked with the file input run as the CLI runs them in its default world', async () => {
    const program = firstProgram(DNAT);
    const cli = cliRun([DNAT, '--prog', program, '--pcap', CAPTURE]).report;
    const { page, errors, screenshot, close } = await session.open();
    await byTestId(page, 'file-input').setInputFiles([join(REPO, DNAT), join(REPO, CAPTURE)]);
    await page.locator(`[data-testid="programs"] [data-program="${program}"]`).waitFor();
    await expect.poll(() => byTestId(page, 'scenario-text').inputValue()).toMatch(/packets\.pcap/);
    expect(await byTestId(page, 'scenario-text').inputValue()).toMatch(/dnat\.o/);
    await waitForStatus(page, /^ready/);
    const done = await runToEnd(page);
    expect(done).toEqual({ packets: cli.totals.packets, dropped: cli.totals.dropped, faults: cli.totals.faults });
    const rows = await visibleRows(page);
    expect(rows.map((r) => [Number(r.packet), r.verdict, r.output])).toEqual(cli.packets.map((p) => [p.packet, p.verdict, p.output]));
    await screenshot('user-object-run');
    expect(errors).toEqual([]);
    await close();
  });

  test("a broken object shows the loader's error, naming the file and what is wrong", async () => {
    const broken = 'fixtures/broken/truncated.o';
    // What the loader says about it, through the CLI: `bpfbed: truncated.o: section header ...`.
    const cli = spawnSync(process.execPath, [join(REPO, 'bin/bpfbed.js'), 'inspect', broken], { cwd: REPO, encoding: 'utf8' });
    expect(cli.status).toBe(2);
    const reason = /truncated\.o: (.+)$/m.exec(cli.stderr)?.[1];
    expect(reason, cli.stderr).toBeDefined();

    const { page, errors, screenshot, close } = await session.open();
    await byTestId(page, 'file-input').setInputFiles(join(REPO, broken));
    const error = byTestId(page, 'error');
    await error.waitFor();
    const text = (await error.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('truncated.o');
    expect(text).toContain(reason!.trim());
    await screenshot('broken-object-error');
    // The page still works: the bundled example runs.
    await byTestId(page, 'scenario-select').selectOption('fixtures/scenarios/kpr-remote.yaml');
    await waitForStatus(page, /^ready/);
    expect((await runToEnd(page)).packets).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    await close();
  });

  test('a program that reads past the packet shows its fault and the C line of the faulting read', async () => {
    const program = firstProgram(FAULT);
    const cli = cliRun([FAULT, '--prog', program, '--pcap', CAPTURE]).report;
    const faulted = cli.packets.find((p) => p.hops.some((h) => h.fault));
    expect(faulted, 'the CLI sees the fault too').toBeDefined();
    const at = faultLine(faulted!.hops.find((h) => h.fault)!.fault!);
    expect(at, 'the CLI names the C line').toBeDefined();

    const { page, screenshot, close } = await session.open();
    await byTestId(page, 'file-input').setInputFiles([join(REPO, FAULT), join(REPO, CAPTURE)]);
    await page.locator(`[data-testid="programs"] [data-program="${program}"]`).waitFor();
    await expect.poll(() => byTestId(page, 'scenario-text').inputValue()).toMatch(/packets\.pcap/);
    await waitForStatus(page, /^ready/);
    const done = await runToEnd(page);
    expect(done.faults).toBe(cli.totals.faults);

    await packetRow(page, faulted!.packet).click();
    const detail = byTestId(page, 'packet-detail');
    await detail.waitFor();
    const fault = byTestId(detail, 'fault');
    await expect(fault.isVisible()).resolves.toBe(true);
    const faultText = (await fault.innerText()).replace(/\s+/g, ' ');
    // The same C line the CLI names, read from the source file itself.
    const source = readFileSync(join(REPO, at!.file), 'utf8').split('\n')[at!.line - 1].trim();
    expect(source).toBe(at!.text);
    expect(faultText).toContain(source);
    expect(faultText).toContain(`fault_oob.c:${at!.line}`);

    const faultLines = detail.locator('[data-testid="trace-line"][data-fault="true"]');
    await expect(faultLines.count()).resolves.toBe(1);
    expect(await faultLines.getAttribute('data-line')).toMatch(new RegExp(`(^|/)fault_oob\\.c:${at!.line}$`));
    expect((await faultLines.innerText()).replace(/\s+/g, ' ')).toContain(source);
    // Only that line is marked.
    const lines = await detail.locator('[data-testid="trace-line"]').count();
    expect(lines).toBeGreaterThan(1);
    await screenshot('fault-line');
    await close();
  });
});
