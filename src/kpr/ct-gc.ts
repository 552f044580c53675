// The host-side garbage collection of the NodePort datapath's connection tracking, as Cilium's
// agent does it (pkg/maps/ctmap/gc: walk the CT map, delete what has expired, then delete the
// NAT entries whose connection is gone — ctmap.PurgeOrphanNATEntries). The datapath itself never
// deletes: an expired entry only stops being used. LRU eviction happens besides, in the map.
//
// Works on any map set with the BpfMap host interface (the bpf(2) syscall's semantics), so the
// same sweep runs on bpfbed's maps; `nowNs` is bpf_ktime_get_ns() of the machine the maps
// belong to (Environment.ktimeGetNs()). Browser-safe.
import type { BpfMap } from '../maps/types.js';
import { CT_DIR_FORWARD, encodeTupleKey, layoutForKeySize, NAT_DIR_EGRESS, NAT_DIR_INGRESS } from './layout.js';

export interface CtSweepResult {
  /** CT entries deleted because their lifetime was over. */
  expired: number;
  /** NAT entries deleted because no live connection uses them any more. */
  orphanNat: number;
  /** CT entries left. */
  liveCt: number;
}

export interface CtSweepMaps {
  /** ct4 or ct6 (told apart by key size); `nat` must be of the same family. */
  ct: BpfMap;
  /** The SNAT map; when given, NAT entries of connections that are gone are deleted too. */
  nat?: BpfMap;
}

/** Deletes the CT entries whose deadline is at or before `nowNs`, and the NAT entries orphaned by that. */
export function sweepConntrack(maps: CtSweepMaps, nowNs: bigint): CtSweepResult {
  const result: CtSweepResult = { expired: 0, orphanNat: 0, liveCt: 0 };
  // Collect first, delete after: deleting while walking get_next_key order would restart the walk.
  const dead: Uint8Array[] = [];
  const liveForward = new Set<string>();
  const ctLayout = layoutForKeySize(maps.ct.keySize);
  for (const e of maps.ct.entries()) {
    const entry = ctLayout.ct(e.value);
    if (entry.expiresNs <= nowNs) dead.push(e.key);
    else {
      result.liveCt++;
      const k = ctLayout.key(e.key);
      if (k.dir === CT_DIR_FORWARD) liveForward.add(tupleId(k.saddr, k.daddr, k.sport, k.dport, k.proto));
    }
  }
  for (const key of dead) if (maps.ct.delete(key) === 0) result.expired++;
  if (!maps.nat) return result;

  // A NAT pair belongs to the forward connection client -> backend (its EGRESS key is that
  // tuple; its INGRESS value points back at the client).
  const orphans: Uint8Array[] = [];
  const natLayout = layoutForKeySize(maps.nat.keySize);
  if (natLayout.key !== ctLayout.key) throw new Error(`sweepConntrack: the CT map (${maps.ct.keySize}-byte keys) and the NAT map (${maps.nat.keySize}-byte keys) are of different families`);
  for (const e of maps.nat.entries()) {
    const k = natLayout.key(e.key);
    let id: string;
    if (k.dir === NAT_DIR_EGRESS) id = tupleId(k.saddr, k.daddr, k.sport, k.dport, k.proto);
    else if (k.dir === NAT_DIR_INGRESS) {
      const client = natLayout.nat(e.value);
      id = tupleId(client.toAddr, k.saddr, client.toPort, k.sport, k.proto);
    } else continue;
    if (!liveForward.has(id)) orphans.push(e.key);
  }
  for (const key of orphans) if (maps.nat.delete(key) === 0) result.orphanNat++;
  return result;
}

const tupleId = (saddr: string, daddr: string, sport: number, dport: number, proto: number) => `${saddr}:${sport}>${daddr}:${dport}/${proto}`;

export { encodeTupleKey };
