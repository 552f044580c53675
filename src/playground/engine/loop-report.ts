// A run's report built by the engine's own packet loop (a run from a loaded snapshot's state,
// which runScenario cannot start from): the report runScenario builds, packet for packet, from
// the same pieces (startReport, addToReport in src/run/scenario-run.ts).
import { OutputSet } from '../../run/outputs.js';
import { addToReport, startReport, type RunReport } from '../../run/scenario-run.js';
import type { PacketLoop } from './world.js';

/**
 * Every packet through the loop, with the report runScenario would give before its expectation
 * checks (which compare against a scenario's own starting state, not a loaded snapshot's).
 */
export function runAllPackets(loop: PacketLoop, object: string, description: string | undefined, onPacket?: (done: number, total: number) => void): { report: RunReport; outputs: OutputSet } {
  const outputs = new OutputSet();
  const report = startReport({ object, description }, loop.world.captureError);
  const total = loop.world.packets.length;
  while (!loop.done) {
    const pkt = loop.world.packets[loop.next];
    if (addToReport(report, outputs, pkt, loop.step())) onPacket?.(loop.next, total);
  }
  report.outputs = outputs.names().map((name) => ({ name, packets: outputs.packets(name).length }));
  report.ok = report.mismatches.length === 0;
  return { report, outputs };
}
