// Starting a world from a saved state: a Testbed#snapshot() (src/testbed/testbed.ts) put into a
// freshly prepared world, either as a loaded snapshot file's starting state (maps, clock and
// random generator; the scenario's devices stay) or as a replay checkpoint of the same run (the
// whole environment too).
import { unpack } from 'msgpackr/unpack';
import type { CtxRunner } from '../../ctx/runner.js';
import type { EnvironmentState } from '../../env/types.js';
import type { MapState } from '../../maps/state.js';

/** What Testbed#snapshot() packs (src/testbed/testbed.ts SnapshotData). */
interface TestbedSnapshot {
  format: 'bpfbed-snapshot';
  version: 1;
  object: string;
  cpu: number;
  maps: { name: string; state: MapState }[];
  environment: EnvironmentState;
}

/**
 * Puts a snapshot's maps (every map's whole state: entries, LRU lists, trie nodes) and its clock
 * and random generator into a freshly prepared world. Devices, routes and neighbours stay the
 * scenario's, so a user can load a snapshot and still edit the environment. (Testbed.fromSnapshot
 * would build a second Testbed without the packet helpers a CtxRunner adds, which cannot load
 * packet programs; so the snapshot is read here, checked as fromSnapshot checks it.)
 */
export function restoreState(runner: CtxRunner, bytes: Uint8Array, whole = false): void {
  let data: TestbedSnapshot;
  try {
    data = unpack(bytes) as TestbedSnapshot;
  } catch (err) {
    throw new Error(`state: not a bpfbed snapshot (${(err as Error).message})`);
  }
  if (data?.format !== 'bpfbed-snapshot') throw new Error('state: not a bpfbed snapshot');
  if (data.version !== 1) throw new Error(`state: snapshot version ${data.version} is newer than this bpfbed reads (1)`);
  const bed = runner.bed;
  if (data.object !== bed.spec.name) throw new Error(`state: taken from object ${data.object}, not ${bed.spec.name}`);
  for (const { name, state } of data.maps) {
    try {
      bed.map(name).restoreState(state);
    } catch (err) {
      throw new Error(`state: map ${name}: ${(err as Error).message}`);
    }
  }
  if (whole) {
    // A checkpoint of this same run: its environment is the one to continue in.
    bed.env.state = data.environment;
    bed.env.routesChanged();
  } else {
    bed.env.state.clock = data.environment.clock;
    bed.env.state.prng = data.environment.prng;
  }
  bed.cpu = data.cpu;
}

