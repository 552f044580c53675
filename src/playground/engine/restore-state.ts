// Starting a world from a saved state: a Testbed#snapshot() (src/testbed/testbed.ts) put into a
// freshly prepared world, either as a loaded snapshot file's starting state (maps, clock and
// random generator; the scenario's devices stay) or as a replay checkpoint of the same run (the
// whole environment too).
import type { CtxRunner } from '../../ctx/runner.js';

/**
 * Puts a snapshot's maps, CPU, and its clock and random generator (`whole`: its whole
 * environment) into a prepared world, through Testbed#restoreState on the runner's own Testbed,
 * which keeps the packet helpers the runner added. Devices, routes and neighbours otherwise stay
 * the scenario's, so a user can load a snapshot and still edit the environment.
 */
export function restoreState(runner: CtxRunner, bytes: Uint8Array, whole = false): void {
  try {
    runner.bed.restoreState(bytes, { environment: whole ? 'all' : 'clock-and-random' });
  } catch (err) {
    // Testbed's messages start with "snapshot:"; here the file part is the world's state.
    throw new Error(`state: ${(err as Error).message.replace(/^snapshot: /, '')}`);
  }
}
