// The scenario the page writes when the user drops only an object (and maybe a capture): the
// object's first XDP or tc program on device eth0 of a minimal world, fed the capture. The world
// is `bpfbed run`'s default one (src/cli/commands/run.ts buildScenario: one Ethernet device,
// ifindex 2, as a test run in a namespace with a veth would have). The page then lets the user
// pick the program per direction and edit the world.
//
// Paths in the scenario are relative to the scenario file's folder (as for the CLI); the
// scenario is meant to be saved beside the object (the page names it <object>.yaml), so the
// object is named by its file name and the capture relative to the object's folder.
import { stringify } from 'yaml';
import type { ObjectDescription } from '../protocol.js';
import { folderOf, resolveWorkspacePath } from './workspace.js';

/** The MAC of the default device: locally administered (02:...), as the CLI's default world. */
export const DEFAULT_DEVICE_MAC = '02:00:00:00:00:01';

/** `to` (a workspace path) relative to folder `from`. */
export function relativeTo(from: string, to: string): string {
  const a = from ? resolveWorkspacePath('', from).split('/') : [];
  const b = resolveWorkspacePath('', to).split('/');
  let common = 0;
  while (common < a.length && common < b.length - 1 && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => '..'), ...b.slice(common)].join('/');
}

export function defaultScenario(description: ObjectDescription, objectPath: string, pcapPath?: string): string {
  const program = description.programs.find((p) => p.attach === 'xdp' || p.attach === 'tc/ingress' || p.attach === 'tc/egress');
  if (!program) {
    const listed = description.programs.map((p) => `${p.name} (${p.section})`).join(', ') || 'none';
    throw new Error(`${objectPath}: no XDP or tc program to attach (programs: ${listed})`);
  }
  const base = folderOf(resolveWorkspacePath('', objectPath));
  const scenario: Record<string, unknown> = {
    description: `${program.name} of ${objectPath.split('/').pop()} on eth0`,
    object: relativeTo(base, objectPath),
    programs: [{ program: program.name, attach: program.attach, device: 'eth0' }],
    environment: { devices: [{ name: 'eth0', ifindex: 2, mac: DEFAULT_DEVICE_MAC }] },
  };
  if (pcapPath) scenario.input = { pcap: relativeTo(base, pcapPath), device: 'eth0' };
  return stringify(scenario);
}
