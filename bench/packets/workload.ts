// The per-packet workload's program and its setup: bpf/bench/packet.c compiled to
// fixtures/obj/bench/packet.o, loaded into a CtxRunner with its maps filled for a world.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CtxRunner } from '../../src/ctx/runner.js';
import { fillPacketMaps } from './maps.js';
import type { PacketWorld } from './world.js';

export const PACKET_OBJECT = 'fixtures/obj/bench/packet.o';
export const PACKET_SOURCE = 'bpf/bench/packet.c';
export const PACKET_PROGRAM = 'packet_lb';

/** The repository root: the nearest ancestor of this module holding the object. */
export function packetRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, PACKET_OBJECT))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`packet bench: cannot find ${PACKET_OBJECT} above ${dirname(fileURLToPath(import.meta.url))}`);
    dir = parent;
  }
  return dir;
}

export function packetObjectPath(): string {
  return join(packetRepoRoot(), PACKET_OBJECT);
}

/** A runner of packet.o with the world's services and tracked connections in its maps. */
export async function preparePacketRunner(world: PacketWorld): Promise<CtxRunner> {
  const runner = await CtxRunner.fromObject(new Uint8Array(readFileSync(packetObjectPath())), { name: 'packet' });
  fillPacketMaps(runner, world);
  return runner;
}
