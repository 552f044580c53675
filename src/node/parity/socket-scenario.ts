// A socket scenario in the kernel (sockets-kernel.ts) and in bpfbed (src/scenario/socket-run.ts):
// call by call the same errors, peers and sources, and a reached server that is the same or, for
// a service the scenario declares `one-of-backends`, one of its backends on both sides; both
// sides against the scenario's expectations; then the same map contents, with `same-in-both`
// tying entries keyed by socket cookies to the sockets that made them.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { prepareScenario } from '../../run/scenario-run.js';
import { backendsFor, normalizeEndpoint } from '../../scenario/parity.js';
import { callTarget, compareSeen, describeCall, runSocketScenario, type SocketSeen } from '../../scenario/socket-run.js';
import type { Scenario } from '../../scenario/types.js';
import { compareMaps } from './maps.js';
import { runningKconfig } from './kconfig.js';
import { emptyCounts, type ParityItem } from './report.js';
import { runSocketScenarioInKernel } from './sockets-kernel.js';
import { Workspace } from './workspace.js';

/** How the kernel's view of one call differs from bpfbed's. */
function diffSeen(scenario: Scenario, index: number, kernel: SocketSeen, bpfbed: SocketSeen): string[] {
  const problems: string[] = [];
  const target = callTarget(scenario.sockets!.calls, index);
  for (const field of ['error', 'reached', 'peer', 'from'] as const) {
    const k = kernel[field];
    const b = bpfbed[field];
    if (k === undefined && b === undefined) continue;
    if (field === 'reached' && k !== undefined && b !== undefined && target !== undefined) {
      const backends = backendsFor(scenario.parity, target);
      if (backends) {
        for (const [side, v] of [['kernel', k], ['bpfbed', b]] as const) {
          if (!backends.includes(normalizeEndpoint(v))) problems.push(`${side} reached ${v}, not one of the backends of ${target}`);
        }
        continue;
      }
    }
    const same = k !== undefined && b !== undefined && (field === 'error' ? k === b : normalizeEndpoint(k) === normalizeEndpoint(b));
    if (!same) problems.push(`${field}: kernel ${k ?? '-'}, bpfbed ${b ?? '-'}`);
  }
  return problems;
}

export async function compareSocketScenario(declared: Scenario, path: string, name: string, ws: Workspace): Promise<ParityItem> {
  // libbpf gives the kernel's copy the running kernel's __kconfig values; bpfbed gets the same
  const scenario: Scenario = { ...declared, kconfig: runningKconfig().values as Scenario['kconfig'] };
  const item: ParityItem = { kind: 'socket-scenario', name, status: 'agree', compared: 'socket calls (errors, reached servers, peers, sources), maps', counts: emptyCounts(), mismatches: [] };
  const base = dirname(path);
  const read = (p: string) => new Uint8Array(readFileSync(resolve(base, p)));
  const fresh = await prepareScenario(scenario, read);
  const { report, runner } = await runSocketScenario(scenario, read);
  const k = runSocketScenarioInKernel(scenario, resolve(base, scenario.object), fresh, ws);
  const calls = scenario.sockets!.calls;
  calls.forEach((call, i) => {
    if (call.open) return;
    item.counts.socketCalls++;
    const where = `call ${i + 1} (${call.socket}: ${describeCall(call)})`;
    for (const p of diffSeen(scenario, i, k.calls[i] ?? {}, report.calls[i].seen)) item.mismatches.push(`${where}: ${p}`);
    // the kernel against the scenario's (kernel-produced) expectations: a stale fixture shows here
    if (call.expect) for (const p of compareSeen(scenario.parity, callTarget(calls, i), call.expect, k.calls[i] ?? {})) item.mismatches.push(`${where}: kernel vs expectation: ${p}`);
  });
  for (const m of report.mismatches) item.mismatches.push(`bpfbed vs expectation: ${m}`);
  const maps = compareMaps(runner.bed, k.maps, scenario.parity, { kernel: { sockets: k.sockets }, bpfbed: { sockets: report.sockets } });
  item.counts.mapEntries += maps.entries;
  item.mismatches.push(...maps.mismatches);
  if (maps.rulesApplied) item.compared += `; ${maps.rulesApplied} parity rule${maps.rulesApplied === 1 ? '' : 's'} on maps`;
  if (item.mismatches.length) item.status = 'mismatch';
  return item;
}

/**
 * What the kernel shows the application at each call of a socket scenario: the expectations a
 * kernel-produced fixture records (scripts/parity.mjs --socket-expect). Its own workspace.
 */
export async function kernelSocketExpectations(scenario: Scenario, path: string): Promise<SocketSeen[]> {
  const ws = new Workspace();
  try {
    const read = (p: string) => new Uint8Array(readFileSync(resolve(dirname(path), p)));
    const fresh = await prepareScenario(scenario, read);
    return runSocketScenarioInKernel(scenario, resolve(dirname(path), scenario.object), fresh, ws).calls;
  } finally {
    ws.dispose();
  }
}
