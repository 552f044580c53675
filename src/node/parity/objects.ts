// Objects under fixtures/obj that no scenario runs: what can be compared without a scenario.
//   - loading: whether the kernel's verifier accepts the object (bpftool prog loadall), reported
//     beside whether bpfbed's loader takes it (bpfbed has no verifier: not a comparison);
//   - maps: every map the kernel created against the object's spec as bpfbed reads it (type, key
//     and value size, max entries, the name as the kernel keeps it: BPF_OBJ_NAME_LEN 16);
//   - global data: .data/.rodata/.bss after load, byte for byte against the spec's initial value;
//   - packet programs (tc, XDP) of objects in the PACKET_FOLDERS: run on a small fixed packet set
//     (fixtures/pcap), as a one-program scenario (packet-scenario.ts). Socket filters are not run
//     here: bpfbed's scenario pipeline has no socket-filter hook.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadObject } from '../../loader/object.js';
import { runningKconfig } from './kconfig.js';
import type { ObjectSpec } from '../../loader/spec.js';
import { toEthernetFrame } from '../../pcap/ethernet.js';
import { readCapture } from '../../pcap/read.js';
import { PcapWriter } from '../../pcap/write.js';
import type { AttachPoint, Scenario } from '../../scenario/types.js';
import { comparePacketScenario } from './packet-scenario.js';
import { emptyCounts, type ParityItem } from './report.js';
import { run, type Workspace } from './workspace.js';

/** Folders (under fixtures/obj) whose packet programs run on the packet set. */
export const PACKET_FOLDERS = ['testdata', 'helpers', 'env', 'ctx', 'parity'];

/**
 * The packet set: small Ethernet captures of fixtures/pcap covering TCP, UDP, ICMP, DNS, ARP,
 * VLAN, IPv6 extension headers and IPv4 fragments (fixtures/pcap/README.md says how each was made).
 */
export const PACKET_SET = ['tcp-session.pcap', 'udp-exchange.pcap', 'icmp-echo.pcap', 'dns.pcap', 'arp.pcap', 'vlan.pcap', 'ipv6-ext.pcap', 'ipv4-fragments.pcap'];

/**
 * Programs whose results the real kernel's clock, randomness or its own identity decide, so that
 * a run on the packet set cannot agree by value, with why. The objects' own kernel tests
 * (test/env/*-kernel.test.ts, test/helpers/*-kernel.test.ts) compare them by rule.
 */
export const PROGRAMS_NOT_RUN: Record<string, string> = {
  'fixtures/obj/env/clock.o:clock_tc': 'it stores the clocks (bpf_ktime_get_ns, jiffies, boot, TAI): test/env/clock-kernel.test.ts compares them by rule',
  'fixtures/obj/env/cookie.o:netns_cookie_tc': "it stores the netns cookie, the kernel's global counter: test/env/cookie-kernel.test.ts compares it by rule",
};

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');

function attachOf(type: string, section: string): AttachPoint | undefined {
  if (type === 'xdp') return 'xdp';
  if (type === 'sched_cls' || type === 'sched_act') return /egress/.test(section) ? 'tc/egress' : 'tc/ingress';
  return undefined;
}

/** Every object under `objRoot`, as paths. */
export function listObjects(objRoot: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else if (e.name.endsWith('.o')) out.push(join(dir, e.name));
    }
  };
  walk(objRoot);
  return out;
}

/** The packet set as one Ethernet pcap in a temporary folder (the caller removes `dir`). */
export function writePacketSet(pcapRoot: string): { dir: string; path: string; packets: number } {
  const w = new PcapWriter();
  let ts = 1_000_000_000n;
  for (const name of PACKET_SET) {
    const cap = readCapture(new Uint8Array(readFileSync(join(pcapRoot, name))));
    for (const p of cap.packets) {
      let frame: Uint8Array;
      try {
        frame = toEthernetFrame(p);
      } catch {
        continue; // a link type that has no Ethernet form
      }
      w.add(frame, ts);
      ts += 1_000_000n; // 1 ms apart: the order of the set, not the captures' own times
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'bpfbed-parity-'));
  const path = join(dir, 'packet-set.pcap');
  writeFileSync(path, w.bytes());
  return { dir, path, packets: w.packetCount };
}

interface KernelMap {
  name: string;
  type: string;
  bytes_key: number;
  bytes_value: number;
  max_entries: number;
}

/** Loads the object in the kernel and compares its maps and global data with bpfbed's spec. */
function compareLoad(path: string, name: string, spec: ObjectSpec, ws: Workspace): ParityItem {
  const item: ParityItem = { kind: 'object', name, status: 'agree', compared: 'load', counts: emptyCounts(), mismatches: [] };
  const dir = ws.pinDir('object');
  const load = run('bpftool', ['prog', 'loadall', path, join(dir, 'progs'), 'pinmaps', join(dir, 'maps')]);
  if (load.status !== 0) {
    const why = load.stderr.split('\n').map((l) => l.trim()).filter((l) => l && !/^(Warning|If it used|libbpf: -- END|processed )/.test(l));
    item.compared = 'load: the kernel refuses it (bpfbed has no verifier; its loader takes it)';
    item.note = `kernel: ${why.slice(-2).join(' | ').slice(0, 300)}`;
    return item;
  }
  item.compared = `load (the kernel accepts it), maps, global data${spec.kconfig ? ', __kconfig values' : ''}`;
  const pins = existsSync(join(dir, 'maps')) ? readdirSync(join(dir, 'maps')) : [];
  const kernelMaps = pins.map((pin) => ({ pin, info: JSON.parse(run('bpftool', ['-j', 'map', 'show', 'pinned', join(dir, 'maps', pin)]).stdout) as KernelMap }));
  // bpftool pins a map under libbpf's full name with dots replaced; the kernel's own name is cut
  // to BPF_OBJ_NAME_LEN - 1 = 15 characters, so two long names can look alike there
  const pinOf = (mapName: string) => mapName.replace(/\./g, '_');
  for (const m of spec.maps) {
    const k = kernelMaps.find((x) => x.pin === pinOf(m.name));
    if (!k) {
      item.mismatches.push(`map ${m.name}: bpfbed has it, the kernel created none of that name`);
      continue;
    }
    item.counts.maps++;
    const pairs: [string, unknown, unknown][] = [
      ['type', m.typeName, k.info.type],
      ['key size', m.keySize, k.info.bytes_key],
      ['value size', m.valueSize, k.info.bytes_value],
      ['max entries', m.maxEntries, k.info.max_entries],
    ];
    for (const [what, mine, theirs] of pairs) if (mine !== theirs) item.mismatches.push(`map ${m.name}: ${what}: bpfbed ${String(mine)}, kernel ${String(theirs)}`);
    if (m.initialValue) {
      // global data after load: libbpf wrote the section's bytes (zeros for .bss), and the
      // __kconfig externs' values from the running kernel, which bpfbed's spec was given too
      const dump = JSON.parse(run('bpftool', ['-j', 'map', 'dump', 'pinned', join(dir, 'maps', k.pin)]).stdout) as { value?: string[] }[];
      const value = Uint8Array.from(dump[0]?.value ?? [], (x) => parseInt(x, 16));
      item.counts.globalBytes += value.length;
      if (hex(value) !== hex(m.initialValue)) item.mismatches.push(`global data ${m.name}: bpfbed ${hex(m.initialValue).slice(0, 64)}, kernel ${hex(value).slice(0, 64)}`);
    }
  }
  for (const k of kernelMaps) {
    if (!spec.maps.some((m) => pinOf(m.name) === k.pin)) item.mismatches.push(`map ${k.info.name}: the kernel created it, bpfbed's spec has none of that name`);
  }
  if (item.mismatches.length) item.status = 'mismatch';
  return item;
}

export interface ObjectsOptions {
  root: string;
  /** Objects scenarios already run (absolute paths): left out. */
  covered: ReadonlySet<string>;
  ws: Workspace;
  onItem?: (item: ParityItem) => void;
}

/** Compares every object under fixtures/obj that no scenario runs, and its packet programs. */
export async function compareObjects(opts: ObjectsOptions): Promise<ParityItem[]> {
  const objRoot = join(opts.root, 'fixtures/obj');
  const items: ParityItem[] = [];
  const push = (i: ParityItem) => {
    items.push(i);
    opts.onItem?.(i);
  };
  const set = writePacketSet(join(opts.root, 'fixtures/pcap'));
  try {
    for (const path of listObjects(objRoot)) {
      if (opts.covered.has(path)) continue;
      const name = relative(opts.root, path);
      let spec: ObjectSpec;
      try {
        // the running kernel's __kconfig values, as libbpf fills them in the kernel's copy
        spec = loadObject(new Uint8Array(readFileSync(path)), { name: path.split('/').pop(), kconfig: runningKconfig().values, kconfigDefaults: false });
      } catch (err) {
        // an object bpfbed refuses: the kernel must refuse it too
        const load = run('bpftool', ['prog', 'loadall', path, join(opts.ws.pinDir('object'), 'progs')]);
        const item: ParityItem = { kind: 'object', name, status: 'agree', compared: 'load: both refuse it', counts: emptyCounts(), mismatches: [], note: `bpfbed: ${(err as Error).message.slice(0, 200)}` };
        if (load.status === 0) {
          item.status = 'mismatch';
          item.mismatches.push(`bpfbed refuses it (${(err as Error).message.slice(0, 120)}), the kernel loads it`);
        }
        push(item);
        continue;
      }
      let loaded: ParityItem;
      try {
        loaded = compareLoad(path, name, spec, opts.ws);
      } catch (err) {
        loaded = { kind: 'object', name, status: 'error', compared: 'load', counts: emptyCounts(), mismatches: [], note: (err as Error).message.slice(0, 300) };
      }
      push(loaded);
      if (loaded.status === 'error') continue;
      const folder = relative(objRoot, path).split('/')[0];
      if (!PACKET_FOLDERS.includes(folder) || loaded.compared.startsWith('load: the kernel refuses')) continue;
      for (const prog of spec.programs) {
        const attach = attachOf(prog.type, prog.section);
        if (!attach) continue;
        const progName = `${name}:${prog.name}`;
        if (PROGRAMS_NOT_RUN[progName]) {
          push({ kind: 'program', name: progName, status: 'not-compared', compared: '-', counts: emptyCounts(), mismatches: [], note: PROGRAMS_NOT_RUN[progName] });
          continue;
        }
        const scenario: Scenario = {
          object: path,
          programs: [{ program: prog.name, attach }],
          // the CLI's default world: one Ethernet device, as a test run in a namespace with a veth has
          environment: { devices: [{ name: 'eth0', ifindex: 2, mac: '02:00:00:00:00:01', addrs: ['10.0.0.2/24'] }] },
          input: { pcap: set.path, device: 'eth0' },
        };
        let item: ParityItem;
        try {
          item = await comparePacketScenario(scenario, join(set.dir, 'scenario.yaml'), progName, opts.ws);
        } catch (err) {
          // a map type or helper bpfbed does not emulate is a stated limit, not a failure to run
          const message = (err as Error).message.slice(0, 300);
          const status = /is not emulated/.test(message) ? 'not-compared' : 'error';
          item = { kind: 'program', name: progName, status, compared: 'packet set', counts: emptyCounts(), mismatches: [], note: message };
        }
        push({ ...item, kind: 'program', compared: `packet set (${set.packets} packets): ${item.compared}` });
      }
    }
  } finally {
    rmSync(set.dir, { recursive: true, force: true });
  }
  return items;
}
