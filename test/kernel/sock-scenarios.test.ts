// Every socket scenario in fixtures/scenarios (a `sockets:` section: cgroup hooks driven by an
// application's socket calls) run in the kernel (real sockets of a python3 process in a fresh
// cgroup v2 with the programs attached, in a fresh network namespace) and in bpfbed (emulated
// sockets): the same errors, peers and sources call by call, reached servers that agree or
// follow the scenario's `one-of-backends`, and the same maps (with `same-in-both` for entries
// keyed by socket cookies). Skipped, saying why, without root, BPF, python3 or iproute2.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { kernelAvailable } from '../../src/node/kernel.js';
import { compareSocketScenario } from '../../src/node/parity/socket-scenario.js';
import { socketKernelAvailable } from '../../src/node/parity/sockets-kernel.js';
import { Workspace } from '../../src/node/parity/workspace.js';
import { parseScenario } from '../../src/scenario/parse.js';

const dir = join(import.meta.dirname, '../../fixtures/scenarios');
const files = readdirSync(dir)
  .filter((f) => /\.ya?ml$/.test(f))
  .filter((f) => parseScenario(readFileSync(join(dir, f), 'utf8'), f).sockets !== undefined);
const kernel = kernelAvailable();
const tools = kernel.ok ? socketKernelAvailable() : kernel;
if (!tools.ok) console.log(`socket scenario parity: skipped (${tools.why})`);

describe.skipIf(!tools.ok)('socket scenarios agree with the kernel', () => {
  let ws: Workspace | undefined;
  afterAll(() => ws?.dispose());

  it('there is at least one socket scenario', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.each(files)('%s: every call sees the same, maps agree', async (file) => {
    ws ??= new Workspace();
    const path = join(dir, file);
    const item = await compareSocketScenario(parseScenario(readFileSync(path, 'utf8'), file), path, file, ws);
    expect(item.counts.socketCalls).toBeGreaterThan(0);
    expect(item.mismatches).toEqual([]);
  });

  it('a backend outside the declared one-of-backends list is a mismatch', async () => {
    ws ??= new Workspace();
    const path = join(dir, 'sock-clusterip.yaml');
    const scenario = parseScenario(readFileSync(path, 'utf8'), 'sock-clusterip.yaml');
    // claim the echo service has one backend no socket can reach
    scenario.parity = scenario.parity!.map((r) => (r.rule === 'one-of-backends' && r.service === '10.96.50.5:7' ? { ...r, backends: ['10.9.9.9:7'] } : r));
    const item = await compareSocketScenario(scenario, path, 'sock-clusterip.yaml (wrong backends)', ws);
    expect(item.mismatches.some((m) => /kernel reached 10\.0\.\d\.\d+:7007, not one of the backends of 10\.96\.50\.5:7/.test(m))).toBe(true);
  });
});
