// A packet's report as the page's table shows it: one small row per packet.
import type { Hop } from '../../run/pipeline.js';
import type { PacketReport } from '../../run/scenario-run.js';
import type { PacketRow } from '../protocol.js';

/** "eth1", or "ifindex 7" when the target is no device, with how (neigh, peer, ingress). */
export function redirectText(hop: Hop): string | undefined {
  const r = hop.redirect;
  if (!r) return undefined;
  const target = r.device ?? `ifindex ${r.ifindex}`;
  const how = r.kind === 'redirect_neigh' ? ' (neigh)' : r.kind === 'redirect_peer' ? ' (peer)' : r.kind === 'redirect_map' ? ' (map)' : r.ingress ? ' (ingress)' : '';
  return target + how;
}

export function packetRow(p: PacketReport): PacketRow {
  const redirectHop = [...p.hops].reverse().find((h) => h.redirect);
  const row: PacketRow = {
    packet: p.packet,
    device: p.device,
    direction: p.direction,
    before: p.input,
    verdict: p.verdict,
    output: p.output,
    rewritten: p.changes.length > 0,
    fault: p.hops.some((h) => h.fault !== undefined),
  };
  if (p.result !== undefined) row.after = p.result;
  const redirect = redirectHop && redirectText(redirectHop);
  if (redirect) row.redirect = redirect;
  if (p.error !== undefined) row.error = p.error;
  return row;
}
