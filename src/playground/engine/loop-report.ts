// A run's report built by the engine's own packet loop (a run from a loaded snapshot's state,
// which runScenario cannot start from): the report runScenario builds, packet for packet.
import { OutputSet } from '../../run/outputs.js';
import type { RunReport } from '../../run/scenario-run.js';
import type { PacketLoop } from './world.js';

/**
 * Every packet through the loop, with the report runScenario would give before its expectation
 * checks (which compare against a scenario's own starting state, not a loaded snapshot's).
 */
export function runAllPackets(loop: PacketLoop, object: string, description: string | undefined, onPacket?: (done: number, total: number) => void): { report: RunReport; outputs: OutputSet } {
  const outputs = new OutputSet();
  const report: RunReport = { object, description, packets: [], outputs: [], mismatches: [], totals: { packets: 0, faults: 0, dropped: 0, instructions: 0 }, ok: true };
  if (loop.world.captureError) {
    report.captureError = loop.world.captureError;
    report.mismatches.push({ what: 'capture', message: report.captureError });
  }
  const total = loop.world.packets.length;
  while (!loop.done) {
    const pkt = loop.world.packets[loop.next];
    const { entry, frame, fate } = loop.step();
    report.packets.push(entry);
    if (!fate || !frame) {
      report.mismatches.push({ what: 'capture', packet: pkt.index, message: entry.error ?? 'unreadable packet' });
      continue;
    }
    outputs.add(fate.output, { packet: pkt.index, data: fate.data ?? frame, timestampNs: pkt.timestampNs });
    for (const clone of fate.clones) outputs.add(clone.output, { packet: pkt.index, data: clone.data, timestampNs: pkt.timestampNs });
    for (const hop of fate.hops) {
      report.totals.instructions += hop.insnCount;
      if (hop.fault) {
        report.totals.faults++;
        report.mismatches.push({ what: 'fault', packet: pkt.index, message: `packet ${pkt.index}: ${hop.program}: ${hop.fault}` });
      }
    }
    if (fate.output === 'drop') report.totals.dropped++;
    report.totals.packets++;
    onPacket?.(loop.next, total);
  }
  report.outputs = outputs.names().map((name) => ({ name, packets: outputs.packets(name).length }));
  report.ok = report.mismatches.length === 0;
  return { report, outputs };
}
