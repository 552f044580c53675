// The kernel as the oracle for a packet scenario: load the same object with bpftool, write the
// map entries bpfbed derived from the scenario (as raw bytes, so both sides hold the same bytes),
// run every packet through BPF_PROG_TEST_RUN in order (maps persist between packets, as in
// bpfbed) and collect the verdict, the packet after the run and the maps afterwards.
//
// Scope for now: one tc or XDP program per scenario, packets arriving on one device; or, given
// the scenario's hooks (KernelHook), XDP then tc ingress per packet on the device it arrives on
// (the XDP run gets that device as ingress_ifindex through ctx_in). A test run
// does not follow a redirect; the verdict and bpf_redirect's target (recorded by bpfbed for the
// same packet) say where the packet would go. Needs root, bpftool and bpffs; everything it
// creates lives under one fresh bpffs folder that is removed at the end, also on errors.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CtxRunner } from '../ctx/runner.js';

const BPFFS = '/sys/fs/bpf';

/** One program's test run on a packet: its return value, data_out and ctx_out. */
export interface KernelHop {
  program: string;
  retval: number;
  dataOut: Uint8Array;
  /**
   * ctx_out: the struct __sk_buff (tc, socket filters) or struct xdp_md the kernel copied back
   * (net/bpf/test_run.c convert_skb_to___skb, xdp_convert_buff_to_md); the ctx_in it ran with is
   * KernelFrame.ctxIn (tc) or an xdp_md for the frame (XDP).
   */
  ctxOut: Uint8Array;
  /** The ctx_in the program ran with. */
  ctxIn: Uint8Array;
}

export interface KernelPacketResult {
  packet: number;
  /** The last program's return value and packet (with hooks: the last hop's). */
  retval: number;
  dataOut: Uint8Array;
  /** Every program that ran on the packet, in order (one without hooks). */
  hops: KernelHop[];
}

/**
 * A scenario's program and where it is attached, for scenarios with several (an XDP program
 * and a tc program on one device, programs on several devices). A packet goes through the XDP
 * program of its device, then, on XDP_PASS, through that device's tc ingress program, as the
 * kernel's receive path orders them (src/run/pipeline.ts); redirects are not followed.
 */
export interface KernelHook {
  program: string;
  attach: string;
  /** Absent: every device. */
  device?: string;
}

/**
 * A frame and the device it arrives on (which hooks run, with several) and that device's ifindex:
 * an XDP program is run with it as ingress_ifindex, as bpfbed's pipeline does (without it, the
 * kernel's test run uses the loopback device, and XDP_TX / bpf_redirect choices can differ).
 */
export interface KernelFrame {
  packet: number;
  data: Uint8Array;
  device?: string;
  ifindex?: number;
  /**
   * The struct __sk_buff ctx_in of the tc (or socket filter) runs: the scenario's packet metadata
   * (mark, priority, cb, the device's ifindex when it exists where the run happens). Default: all
   * zero (the kernel then uses the loopback device).
   */
  skbCtxIn?: Uint8Array;
}

export const XDP_PASS = 2; // enum xdp_action

/** sizeof(struct __sk_buff) (include/uapi/linux/bpf.h). */
export const SK_BUFF_CTX_SIZE = 192;

/**
 * struct xdp_md for BPF_PROG_TEST_RUN's ctx_in (net/bpf/test_run.c, xdp_convert_md_to_buff):
 * data 0 and data_end the frame's length (no metadata), the ingress device by ifindex (it must
 * exist in the namespace the run happens in; 0: none, the loopback's queue as without ctx_in),
 * queue 0, no egress device.
 */
export function xdpCtxIn(len: number, ifindex: number): Uint8Array {
  const ctx = new Uint8Array(24);
  const v = new DataView(ctx.buffer);
  v.setUint32(4, len, true);
  v.setUint32(12, ifindex, true);
  return ctx;
}

export interface KernelScenarioResult {
  packets: KernelPacketResult[];
  /** Every map's entries afterwards, as raw bytes, by map name. */
  maps: Record<string, { key: Uint8Array; value: Uint8Array }[]>;
}

export interface KernelScenarioOptions {
  /**
   * The bpffs folder to pin programs and maps in (it must exist and be empty; the caller removes
   * it). Default: a fresh folder under /sys/fs/bpf, removed at the end.
   */
  pinDir?: string;
  /**
   * A network namespace (its name under /run/netns) to run the programs in: BPF_PROG_TEST_RUN
   * runs in the caller's namespace (net/bpf/test_run.c), so helpers such as bpf_fib_lookup see
   * that namespace's routes. bpftool runs there through nsenter, which keeps our /sys (and pins).
   */
  netns?: string;
}

function bpftool(args: string[], what: string, netns?: string): string {
  const argv = ['--json', ...args];
  const res = netns ? spawnSync('nsenter', [`--net=/run/netns/${netns}`, 'bpftool', ...argv], { encoding: 'utf8' }) : spawnSync('bpftool', argv, { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`bpftool ${what}: ${(res.stderr || res.stdout).trim().split('\n').slice(-3).join(' ')}`);
  return res.stdout;
}

const hexArgs = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0'));

/**
 * Program arrays and maps of maps (include/uapi/linux/bpf.h BPF_MAP_TYPE_PROG_ARRAY 3,
 * ARRAY_OF_MAPS 12, HASH_OF_MAPS 13) hold file descriptors when written and ids when read: libbpf
 * fills them as the object declares at load, and neither writing bpfbed's bytes nor comparing
 * them means anything.
 */
export function holdsFds(mapType: number): boolean {
  return mapType === 3 || mapType === 12 || mapType === 13;
}

/**
 * Maps of maps whose inner maps bpfbed's control plane created at run time (src/k8s/maglev-maps.ts:
 * lb4_maglev / lb6_maglev, one inner array per service), recreated in the kernel: for each
 * entry of an ARRAY_OF_MAPS / HASH_OF_MAPS (types 12, 13) naming a map that is not one of the
 * object's own (those libbpf links at load from `.values`), `bpftool map create` an inner map of
 * the same shape, pinned beside the others, with the same entries, then point the outer entry at
 * it (`value pinned`). Added for the Maglev scenarios (issue 5).
 */
function fillInnerMaps(prepared: CtxRunner, mapsDir: string, dir: string, tool: (args: string[], what: string) => string): void {
  const own = new Set(prepared.bed.maps.map((m) => m.id));
  let n = 0;
  for (const outer of prepared.bed.maps) {
    if (outer.type !== 12 && outer.type !== 13) continue;
    for (const e of outer.dump().entries) {
      const id = new DataView(e.value.buffer, e.value.byteOffset).getUint32(0, true);
      if (own.has(id)) continue;
      const inner = prepared.bed.registry.byId(id);
      if (!inner) throw new Error(`${outer.name}: an entry names map id ${id}, which bpfbed does not have`);
      const pin = join(dir, `inner${n++}`);
      tool(['map', 'create', pin, 'type', inner.type === 2 ? 'array' : 'hash', 'key', `${inner.keySize}`, 'value', `${inner.valueSize}`, 'entries', `${inner.maxEntries}`, 'name', 'bpfbed_inner', 'flags', `${inner.flags}`], `map create (inner map of ${outer.name})`);
      for (const ie of inner.dump().entries) {
        tool(['map', 'update', 'pinned', pin, 'key', 'hex', ...hexArgs(ie.key), 'value', 'hex', ...hexArgs(ie.value)], `map update (inner map of ${outer.name})`);
      }
      tool(['map', 'update', 'pinned', join(mapsDir, pinName(outer.name)), 'key', 'hex', ...hexArgs(e.key), 'value', 'pinned', pin], `map update ${outer.name}`);
    }
  }
}

/** bpftool's pin names for maps: the map name with dots replaced (libbpf pins `.bss` as `<obj>_bss`). */
function pinName(mapName: string): string {
  return mapName.replace(/\./g, '_');
}

/**
 * Runs `program` of `objectPath` in the kernel on `frames`, after writing the maps of `prepared`
 * (a CtxRunner set up from the same scenario, before any packet ran) into the kernel's maps.
 */
export function runScenarioInKernel(
  objectPath: string,
  program: string | readonly KernelHook[],
  prepared: CtxRunner,
  frames: KernelFrame[],
  opts: KernelScenarioOptions = {},
): KernelScenarioResult {
  if (!existsSync(BPFFS)) throw new Error(`${BPFFS} is not mounted`);
  const dir = opts.pinDir ?? mkdtempSync(join(BPFFS, 'bpfbed-'));
  const scratch = mkdtempSync(join(tmpdir(), 'bpfbed-kernel-'));
  const tool = (args: string[], what: string) => bpftool(args, what, opts.netns);
  try {
    const progs = join(dir, 'progs');
    const maps = join(dir, 'maps');
    tool(['prog', 'loadall', objectPath, progs, 'pinmaps', maps], `prog loadall ${objectPath}`);
    // The scenario's map entries, byte for byte as bpfbed holds them (global data keeps the
    // object's initial values in both).
    for (const map of prepared.bed.maps) {
      if (map.name.includes('.') || holdsFds(map.type)) continue;
      for (const e of map.dump().entries) {
        tool(['map', 'update', 'pinned', join(maps, pinName(map.name)), 'key', 'hex', ...hexArgs(e.key), 'value', 'hex', ...hexArgs(e.value)], `map update ${map.name}`);
      }
    }
    fillInnerMaps(prepared, maps, dir, tool);
    const packets: KernelPacketResult[] = [];
    // Every run takes a ctx_in and returns its ctx_out: the context fields the program wrote.
    const runOne = (name: string, f: KernelFrame, data: Uint8Array): KernelHop => {
      const dataIn = join(scratch, 'in');
      const dataOut = join(scratch, 'out');
      const ctxInPath = join(scratch, 'ctx-in');
      const ctxOutPath = join(scratch, 'ctx-out');
      const ctxIn = prepared.bed.program(name).spec.type === 'xdp' ? xdpCtxIn(data.length, f.ifindex ?? 0) : (f.skbCtxIn ?? new Uint8Array(SK_BUFF_CTX_SIZE));
      writeFileSync(dataIn, data);
      writeFileSync(ctxInPath, ctxIn);
      const args = ['prog', 'run', 'pinned', join(progs, name), 'data_in', dataIn, 'data_out', dataOut, 'ctx_in', ctxInPath, 'ctx_out', ctxOutPath];
      const out = JSON.parse(tool(args, `prog run ${name} (packet ${f.packet})`));
      return { program: name, retval: out.retval as number, dataOut: new Uint8Array(readFileSync(dataOut)), ctxIn, ctxOut: new Uint8Array(readFileSync(ctxOutPath)) };
    };
    for (const f of frames) {
      if (typeof program === 'string') {
        const hop = runOne(program, f, f.data);
        packets.push({ packet: f.packet, retval: hop.retval, dataOut: hop.dataOut, hops: [hop] });
        continue;
      }
      const at = (attach: string) => program.find((h) => h.attach === attach && (h.device === undefined || h.device === f.device));
      const hops: KernelHop[] = [];
      const xdp = at('xdp');
      if (xdp) hops.push(runOne(xdp.program, f, f.data));
      const tc = at('tc/ingress');
      if (tc && (!xdp || hops[0].retval === XDP_PASS)) hops.push(runOne(tc.program, f, hops[0]?.dataOut ?? f.data));
      if (hops.length === 0) throw new Error(`packet ${f.packet}: no XDP or tc ingress program on device ${f.device ?? '(none given)'}`);
      const last = hops[hops.length - 1];
      packets.push({ packet: f.packet, retval: last.retval, dataOut: last.dataOut, hops });
    }
    const dumped: KernelScenarioResult['maps'] = {};
    for (const map of prepared.bed.maps) {
      const pin = join(maps, pinName(map.name));
      if (!existsSync(pin) || holdsFds(map.type)) continue;
      const entries = JSON.parse(tool(['map', 'dump', 'pinned', pin], `map dump ${map.name}`)) as { key: string[]; value: string[] }[];
      dumped[map.name] = entries
        .filter((e) => Array.isArray(e.key) && Array.isArray(e.value))
        .map((e) => ({ key: Uint8Array.from(e.key, (h) => parseInt(h, 16)), value: Uint8Array.from(e.value, (h) => parseInt(h, 16)) }));
    }
    return { packets, maps: dumped };
  } finally {
    if (!opts.pinDir) rmSync(dir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  }
}
