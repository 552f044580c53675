// The kernel as the oracle for a packet scenario: load the same object with bpftool, write the
// map entries bpfbed derived from the scenario (as raw bytes, so both sides hold the same bytes),
// run every packet through BPF_PROG_TEST_RUN in order (maps persist between packets, as in
// bpfbed) and collect the verdict, the packet after the run and the maps afterwards.
//
// Scope for now: one tc or XDP program per scenario, packets arriving on one device. A test run
// does not follow a redirect; the verdict and bpf_redirect's target (recorded by bpfbed for the
// same packet) say where the packet would go. Needs root, bpftool and bpffs; everything it
// creates lives under one fresh bpffs folder that is removed at the end, also on errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CtxRunner } from '../ctx/runner.js';

const BPFFS = '/sys/fs/bpf';

export interface KernelPacketResult {
  packet: number;
  retval: number;
  dataOut: Uint8Array;
}

export interface KernelScenarioResult {
  packets: KernelPacketResult[];
  /** Every map's entries afterwards, as raw bytes, by map name. */
  maps: Record<string, { key: Uint8Array; value: Uint8Array }[]>;
}

function bpftool(args: string[], what: string): string {
  const res = spawnSync('bpftool', ['--json', ...args], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`bpftool ${what}: ${(res.stderr || res.stdout).trim().split('\n').slice(-3).join(' ')}`);
  return res.stdout;
}

const hexArgs = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0'));

/** bpftool's pin names for maps: the map name with dots replaced (libbpf pins `.bss` as `<obj>_bss`). */
function pinName(mapName: string): string {
  return mapName.replace(/\./g, '_');
}

/**
 * Runs `program` of `objectPath` in the kernel on `frames`, after writing the maps of `prepared`
 * (a CtxRunner set up from the same scenario, before any packet ran) into the kernel's maps.
 */
export function runScenarioInKernel(objectPath: string, program: string, prepared: CtxRunner, frames: { packet: number; data: Uint8Array }[]): KernelScenarioResult {
  if (!existsSync(BPFFS)) throw new Error(`${BPFFS} is not mounted`);
  const dir = mkdtempSync(join(BPFFS, 'bpfbed-'));
  const scratch = mkdtempSync(join(tmpdir(), 'bpfbed-kernel-'));
  try {
    const progs = join(dir, 'progs');
    const maps = join(dir, 'maps');
    bpftool(['prog', 'loadall', objectPath, progs, 'pinmaps', maps], `prog loadall ${objectPath}`);
    // The scenario's map entries, byte for byte as bpfbed holds them (global data keeps the
    // object's initial values in both).
    for (const map of prepared.bed.maps) {
      if (map.name.includes('.')) continue;
      for (const e of map.dump().entries) {
        bpftool(['map', 'update', 'pinned', join(maps, pinName(map.name)), 'key', 'hex', ...hexArgs(e.key), 'value', 'hex', ...hexArgs(e.value)], `map update ${map.name}`);
      }
    }
    const prog = join(progs, program);
    const packets: KernelPacketResult[] = [];
    for (const f of frames) {
      const dataIn = join(scratch, 'in');
      const dataOut = join(scratch, 'out');
      writeFileSync(dataIn, f.data);
      const out = JSON.parse(bpftool(['prog', 'run', 'pinned', prog, 'data_in', dataIn, 'data_out', dataOut], `prog run ${program} (packet ${f.packet})`));
      packets.push({ packet: f.packet, retval: out.retval, dataOut: new Uint8Array(readFileSync(dataOut)) });
    }
    const dumped: KernelScenarioResult['maps'] = {};
    for (const map of prepared.bed.maps) {
      const pin = join(maps, pinName(map.name));
      if (!existsSync(pin)) continue;
      const entries = JSON.parse(bpftool(['map', 'dump', 'pinned', pin], `map dump ${map.name}`)) as { key: string[]; value: string[] }[];
      dumped[map.name] = entries
        .filter((e) => Array.isArray(e.key) && Array.isArray(e.value))
        .map((e) => ({ key: Uint8Array.from(e.key, (h) => parseInt(h, 16)), value: Uint8Array.from(e.value, (h) => parseInt(h, 16)) }));
    }
    return { packets, maps: dumped };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}
