// A Testbed is an ObjectSpec made live: its maps created in VM memory, its programs linked to
// them and loaded into one Machine, and the emulated kernel's helpers registered. This is the
// step cilium/ebpf calls NewCollection; the spec stays plain data until here.
import { u32Key } from '../maps/bytes.js';
import { MapRegistry, createMap } from '../maps/registry.js';
import type { BpfMap } from '../maps/types.js';
import { loadObject } from '../loader/object.js';
import type { ObjectSpec, ProgramSpec } from '../loader/spec.js';
import { sourceLineLookup } from '../inspect.js';
import { Machine } from '../vm/machine.js';
import type { HostHelper, RunResult, SourceLine, TraceEntry } from '../vm/types.js';
import { linkProgram } from './link.js';
import { TypedMap } from '../typed/typed-map.js';
import { pack } from 'msgpackr/pack';
import { unpack } from 'msgpackr/unpack';
import type { Btf } from '../btf/btf.js';
import { PerfEventArrayMap } from '../maps/perf-event-array.js';
import { RingbufMap } from '../maps/ringbuf.js';
import type { MapState } from '../maps/state.js';
import type { EnvironmentState } from '../env/types.js';
import { Environment, type EnvironmentSpec } from '../env/environment.js';
import { envHelpers, fastEnvHelpers } from '../helpers/env-helpers.js';
import type { FibLookupContext } from '../env/fib.js';
import { socketHelpers } from '../helpers/socket-helpers.js';
import type { SkLookupCaller } from '../env/sockets.js';
import { HelperMemory } from '../helpers/memory.js';
import { coreHelpers, type CoreRunLog } from '../helpers/core-helpers.js';
import { installMapHelpers, MAP_HELPERS, type MapHelperEnv } from '../helpers/map-helpers.js';

export interface TestbedOptions {
  /** num_possible_cpus() of the emulated machine (per-CPU maps, LRU lists). Default 1. */
  nrCpus?: number;
  /** Instruction budget per run (default 1,000,000). */
  budget?: number;
  /**
   * The emulated kernel around the programs: devices, routes, neighbours, sockets, the virtual
   * clock and the seed of bpf_get_prandom_u32 (src/env/environment.ts). Or a live Environment.
   */
  environment?: EnvironmentSpec | Environment;
  /** The CPU programs run on (default 0). */
  cpu?: number;
  /**
   * The first `len` packet bytes of a running program's context, for bpf_perf_event_output's
   * BPF_F_CTXLEN_MASK (a negative errno when there are not that many). Set by CtxRunner.
   */
  ctxBytes?(ctx: bigint, len: number): Uint8Array | number;
  /**
   * For bpf_sk_lookup_*: the namespace and device of the running program's packet (default: the
   * init namespace, no device). Set by CtxRunner from the packet being processed.
   */
  socketCaller?(progId: number): SkLookupCaller;
  /** bpf_sk_assign: the socket (environment id) assigned to the current packet, or undefined. */
  onSocketAssign?(socketId: number | undefined): void;
  /** Extra host helpers by kernel number, added to (or replacing) the emulated kernel's. */
  helpers?: ReadonlyMap<number, HostHelper>;
}

export interface LoadedProgram {
  readonly name: string;
  /** The Machine's program number. */
  readonly progId: number;
  /** The program's id as the kernel would give it (from 1): what PROG_ARRAY slots hold. */
  readonly id: number;
  readonly spec: ProgramSpec;
}

export interface RunOutcome extends RunResult {
  /** The memory handed to the program, as it was when the program exited. */
  memory?: Uint8Array;
  /** Lines the program printed with bpf_trace_printk / bpf_trace_vprintk, in order. */
  printk: string[];
  /** Tail calls the run took. */
  tailCalls: CoreRunLog['tailCalls'];
  /** Records the run wrote with bpf_perf_event_output and bpf_ringbuf_output/submit, in order per map. */
  events: RunEvent[];
}

export interface RunEvent {
  map: string;
  kind: 'perf' | 'ringbuf';
  data: Uint8Array;
  /** perf: the CPU and map slot the sample went to. */
  cpu?: number;
  index?: number;
}

/**
 * The snapshot format `snapshot()` writes. Version 2: each map's state is sparse (live elements,
 * free and LRU list order, non-zero bytes: src/maps/state.ts); version 1 held every map's whole
 * memory and is no longer read.
 */
export const SNAPSHOT_VERSION = 2;

/** What `snapshot()` packs: every map's state and the environment, maps in the object's order. */
export interface SnapshotData {
  format: 'bpfbed-snapshot';
  version: typeof SNAPSHOT_VERSION;
  object: string;
  cpu: number;
  maps: SnapshotMap[];
  environment: EnvironmentState;
}

/** One map of a snapshot: what it must match to be restored, and its state (BpfMap#saveState). */
export interface SnapshotMap {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  state: MapState;
}

/** What of the environment `restoreState` takes from the snapshot. */
export interface RestoreOptions {
  /**
   * 'all' (default): the whole environment (devices, routes, neighbours, sockets, clock, random
   * generator); 'clock-and-random': only the virtual clock and bpf_get_prandom_u32's generator,
   * devices and routes stay this Testbed's; 'none': maps and CPU only.
   */
  environment?: 'all' | 'clock-and-random' | 'none';
}

/** What bpf_fib_lookup knows of its caller (FibLookupContext): one object per kind, shared. */
const XDP_FIB: FibLookupContext = Object.freeze({ kind: 'xdp' });
const SKB_FIB: FibLookupContext = Object.freeze({ kind: 'skb' });

export class Testbed {
  private readonly programsByName = new Map<string, LoadedProgram>();
  /** Loaded programs by Machine program number. */
  private readonly byProgId: LoadedProgram[] = [];
  /** Maps in the spec's order (index = the spec's map index). */
  private readonly liveMaps: BpfMap[] = [];
  readonly registry = new MapRegistry();
  readonly env: Environment;
  private readonly mapEnv: MapHelperEnv;
  /** What helpers record during a run; emptied at the start of each run. */
  private readonly log: CoreRunLog = { printk: [], tailCalls: [] };

  private constructor(
    readonly spec: ObjectSpec,
    readonly machine: Machine,
    private readonly opts: TestbedOptions,
  ) {
    this.env = opts.environment instanceof Environment ? opts.environment : Environment.fromSpec(opts.environment ?? {});
    this.mapEnv = { mem: machine, maps: this.registry, cpu: opts.cpu ?? 0, nrCpus: opts.nrCpus ?? 1 };
    if (opts.ctxBytes) this.mapEnv.ctxBytes = opts.ctxBytes;
  }

  /** The CPU programs run on (bpf_get_smp_processor_id, per-CPU map values). */
  get cpu(): number {
    return this.mapEnv.cpu;
  }

  set cpu(cpu: number) {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.mapEnv.nrCpus) throw new RangeError(`cpu must be in 0..${this.mapEnv.nrCpus - 1}, got ${cpu}`);
    this.mapEnv.cpu = cpu;
  }

  /** Parses an object file and instantiates it. */
  static async fromObject(bytes: Uint8Array, opts: TestbedOptions & { name?: string } = {}): Promise<Testbed> {
    return Testbed.create(loadObject(bytes, { name: opts.name }), opts);
  }

  static async create(spec: ObjectSpec, opts: TestbedOptions = {}): Promise<Testbed> {
    const bed = new Testbed(spec, await Machine.create(), opts);
    bed.createMaps();
    bed.registerHelpers();
    bed.loadPrograms();
    bed.fillStaticSlots();
    return bed;
  }

  get programs(): LoadedProgram[] {
    return [...this.programsByName.values()];
  }

  program(name: string): LoadedProgram {
    const prog = this.programsByName.get(name);
    if (!prog) {
      const names = [...this.programsByName.keys()].join(', ') || '(none)';
      throw new Error(`${this.spec.name}: no program named '${name}' (programs: ${names})`);
    }
    return prog;
  }

  map(name: string): BpfMap {
    const map = this.liveMaps.find((m) => m.name === name);
    if (!map) throw new Error(`${this.spec.name}: no map named '${name}' (maps: ${this.liveMaps.map((m) => m.name).join(', ') || '(none)'})`);
    return map;
  }

  /** A map with keys and values in typed form (BTF field names, addresses as text). */
  typedMap(name: string): TypedMap {
    const map = this.map(name);
    return new TypedMap(map, this.spec.maps[this.liveMaps.indexOf(map)], this.spec.btf);
  }

  get maps(): readonly BpfMap[] {
    return this.liveMaps;
  }

  /**
   * Runs a program with r1 pointing at a copy of `memory` (read/write) and r2 = its length: the
   * calling convention of BPF_PROG_TYPE_SYSCALL programs (r1 = the context buffer user space
   * passed, kernel/bpf/syscall.c bpf_prog_test_run_syscall) and of uBPF's ubpf_test.
   */
  runWithMemory(name: string, memory: Uint8Array, opts: { budget?: number; traceLimit?: number } = {}): RunOutcome {
    const prog = this.program(name);
    const off = this.machine.alloc(Math.max(memory.length, 1), 8);
    this.machine.bytes().set(memory, off);
    const region = this.machine.addRegion(off, memory.length, { kind: 'mem', name: 'context buffer', read: true, write: true });
    try {
      const result = this.run(prog, [this.machine.toVirtual(off), BigInt(memory.length)], opts);
      return { ...result, memory: this.machine.bytes().slice(off, off + memory.length) };
    } finally {
      this.machine.removeRegion(region);
      this.machine.free(off);
    }
  }

  /** Runs a loaded program with r1..r5 = args and collects what it did. */
  run(prog: LoadedProgram, args: readonly bigint[], opts: { budget?: number; traceLimit?: number; ldAbsRegion?: number } = {}): RunOutcome {
    this.log.printk.length = 0;
    this.log.tailCalls.length = 0;
    const result = this.machine.run(prog.progId, args, {
      budget: opts.budget ?? this.opts.budget,
      traceLimit: opts.traceLimit,
      ldAbsRegion: opts.ldAbsRegion,
    });
    // Extend the result in place rather than spread it: this runs for every packet.
    const outcome = result as RunOutcome;
    outcome.printk = this.log.printk.length > 0 ? [...this.log.printk] : [];
    outcome.tailCalls = this.log.tailCalls.length > 0 ? [...this.log.tailCalls] : [];
    outcome.events = this.takeEvents();
    return outcome;
  }

  /** The maps runs can write events to (the map list never changes after create). */
  private eventMaps: BpfMap[] | undefined;

  private takeEvents(): RunEvent[] {
    const events: RunEvent[] = [];
    this.eventMaps ??= this.liveMaps.filter((m) => m instanceof PerfEventArrayMap || m instanceof RingbufMap);
    for (const map of this.eventMaps) {
      if (map instanceof PerfEventArrayMap) {
        for (const r of map.takeRecords()) events.push({ map: map.name, kind: 'perf', data: r.data, cpu: r.cpu, index: r.index });
      } else if (map instanceof RingbufMap) {
        for (const r of map.takeRecords()) events.push({ map: map.name, kind: 'ringbuf', data: r.data });
      }
    }
    return events;
  }

  /**
   * The whole state — every map (values and the kernel structures around them: LRU lists, trie
   * nodes, ring positions) and the environment (devices, routes, sockets, clock, random
   * generator) — packed with msgpackr, so that a later Testbed of the same object continues
   * exactly where this one stopped (fromSnapshot, restoreState). Maps save only what decides
   * their future (live elements, list orders, non-zero bytes: src/maps/state.ts), so a snapshot's
   * size follows what the maps hold, not their max_entries.
   */
  snapshot(): Uint8Array {
    const data: SnapshotData = {
      format: 'bpfbed-snapshot',
      version: SNAPSHOT_VERSION,
      object: this.spec.name,
      cpu: this.cpu,
      maps: this.liveMaps.map((m) => ({ name: m.name, type: m.type, keySize: m.keySize, valueSize: m.valueSize, maxEntries: m.maxEntries, state: m.saveState() })),
      environment: this.env.snapshot(),
    };
    return pack(data);
  }

  /** A Testbed of `spec` in the state a snapshot of a Testbed of the same object recorded. */
  static async fromSnapshot(spec: ObjectSpec, snapshot: Uint8Array, opts: Omit<TestbedOptions, 'environment'> = {}): Promise<Testbed> {
    const data = readSnapshot(snapshot);
    if (data.object !== spec.name) throw new Error(`snapshot: taken from object ${data.object}, not ${spec.name}`);
    const bed = await Testbed.create(spec, { ...opts, environment: Environment.restore(data.environment) });
    bed.restoreData(data, 'none');
    return bed;
  }

  /**
   * Puts this Testbed back in the state a snapshot of a Testbed of the same object recorded:
   * every map, the CPU, and the environment as `opts.environment` says. Works on any Testbed of
   * that object, a CtxRunner's included, however far it has run since. Throws, changing nothing,
   * when the snapshot is of another object (name, maps' names, types and sizes); a snapshot
   * whose map states are damaged throws naming the map, and may leave earlier maps restored.
   */
  restoreState(snapshot: Uint8Array, opts: RestoreOptions = {}): void {
    this.restoreData(readSnapshot(snapshot), opts.environment ?? 'all');
  }

  private restoreData(data: SnapshotData, environment: NonNullable<RestoreOptions['environment']>): void {
    this.checkSnapshotMatches(data);
    this.liveMaps.forEach((map, i) => {
      try {
        map.restoreState(data.maps[i].state);
      } catch (err) {
        throw new Error(`snapshot: map ${map.name}: ${(err as Error).message}`);
      }
    });
    if (environment === 'all') {
      this.env.state = data.environment;
      this.env.routesChanged(); // route lookups keep an index per route list (src/env/fib.ts)
    } else if (environment === 'clock-and-random') {
      this.env.state.clock = data.environment.clock;
      this.env.state.prng = data.environment.prng;
    }
    this.cpu = data.cpu;
  }

  /** Whether a snapshot is of this object: its name, and every map's name, type and sizes in order. */
  private checkSnapshotMatches(data: SnapshotData): void {
    if (data.object !== this.spec.name) throw new Error(`snapshot: taken from object ${data.object}, not ${this.spec.name}`);
    const maps = Array.isArray(data.maps) ? data.maps : [];
    const names = (l: readonly { name: string }[]) => l.map((m) => m.name).join(', ') || '(none)';
    if (maps.length !== this.liveMaps.length || maps.some((m, i) => m?.name !== this.liveMaps[i].name)) {
      throw new Error(`snapshot: its maps (${names(maps)}) are not this object's (${names(this.liveMaps)})`);
    }
    this.liveMaps.forEach((map, i) => {
      const saved = maps[i];
      for (const field of ['type', 'keySize', 'valueSize', 'maxEntries'] as const) {
        if (saved[field] !== map[field]) {
          throw new Error(`snapshot: map ${map.name}: saved with ${field} ${String(saved[field])}, this object's map has ${map[field]}`);
        }
      }
    });
    if (!Number.isInteger(data.cpu) || data.cpu < 0 || data.cpu >= this.mapEnv.nrCpus) {
      throw new Error(`snapshot: taken on CPU ${String(data.cpu)}, this Testbed has ${this.mapEnv.nrCpus} CPUs`);
    }
  }

  /** The C source line of an instruction of a program, where BTF line info has one. */
  sourceLine(name: string, insnIndex: number): SourceLine | undefined {
    const li = sourceLineLookup(this.program(name).spec)(insnIndex);
    return li && { file: li.file, line: li.line, column: li.column, text: li.text };
  }

  /** Trace entries with the C line of each instruction, for people. */
  annotateTrace(trace: readonly TraceEntry[]): (TraceEntry & { source?: SourceLine })[] {
    const byId = new Map(this.programs.map((p) => [p.progId, p]));
    return trace.map((t) => {
      const prog = byId.get(t.progId);
      const source = prog && this.sourceLine(prog.name, t.insnIndex);
      return source ? { ...t, source } : t;
    });
  }

  private createMaps(): void {
    const nrCpus = this.opts.nrCpus ?? 1;
    for (const def of this.spec.maps) {
      // Global data gets its initial bytes from def.initialValue (ArrayMap copies them).
      const spinLockOffset = this.spec.btf && def.valueTypeId ? spinLockOffsetOf(this.spec.btf, def.valueTypeId) : undefined;
      const map = createMap(this.machine, { ...def, spinLockOffset }, {
        nrCpus,
        registry: this.registry,
        progExists: (id) => id >= 1 && id <= this.programsByName.size,
        // A DEVMAP entry must name a device of the map's network namespace (kernel/bpf/devmap.c
        // __dev_map_alloc_node: dev_get_by_index, else -EINVAL); bpfbed's maps live in netns 0.
        deviceExists: (ifindex) => this.env.deviceByIndex(0, ifindex) !== undefined,
      });
      this.liveMaps.push(map);
    }
  }

  /** Helper numbers this Testbed emulates (what programs may call). */
  private readonly helperIds = new Set<number>();

  private registerHelpers(): void {
    installMapHelpers(this.machine, this.mapEnv);
    for (const id of MAP_HELPERS.keys()) this.helperIds.add(id);
    const core = coreHelpers({
      machine: this.machine,
      maps: this.registry,
      progIdOf: (id) => (id >= 1 && id <= this.programsByName.size ? id - 1 : undefined),
      env: this.env,
      cpu: () => this.cpu,
      log: this.log,
    });
    const envDeps = {
      env: this.env,
      mem: new HelperMemory(this.machine),
      fibContext: (progId: number) => (this.programById(progId)?.spec.type === 'xdp' ? XDP_FIB : SKB_FIB),
      netnsOf: () => 0,
    };
    const envTable = envHelpers(envDeps);
    const fastEnv = fastEnvHelpers({ ...envDeps, bytes: () => this.machine.bytes(), progId: () => this.machine.currentProgId });
    const sockets = socketHelpers({
      machine: this.machine,
      env: this.env,
      caller: (progId) => this.opts.socketCaller?.(progId) ?? { netns: 0, ifindex: 0 },
      onAssign: (id) => this.opts.onSocketAssign?.(id),
    });
    for (const table of [core, envTable, sockets, this.opts.helpers ?? new Map()]) {
      for (const [id, fn] of table) {
        this.machine.setHelper(id, fn);
        this.helperIds.add(id);
      }
    }
    // bpf_ktime_get_ns (core's helper 5), which most packet programs call once per packet,
    // without a HelperCall and its BigInt arguments.
    fastEnv.set(5, (a) => a.setR0Big(this.env.ktimeGetNs()));
    // The same helpers on the Machine's fast path, unless the caller replaced them.
    for (const [id, fn] of fastEnv) if (!this.opts.helpers?.has(id)) this.machine.setFastHelper(id, fn);
  }

  private loadPrograms(): void {
    const helpers = this.helperIds;
    for (const spec of this.spec.programs) {
      const insns = linkProgram(spec, {
        mapHandle: (i) => this.liveMaps[i]?.handle,
        mapValueAddress: (i) => {
          const map = this.liveMaps[i];
          const off = map && map.maxEntries === 1 && map.keySize === 4 ? map.lookup(u32Key(0)) : undefined;
          return off === undefined ? undefined : this.machine.toVirtual(off);
        },
        mapName: (i) => this.spec.maps[i]?.name ?? `#${i}`,
      });
      const lookup = sourceLineLookup(spec);
      const progId = this.machine.loadProgram(insns, {
        name: spec.name,
        helpers,
        sourceLine: (i) => {
          const li = lookup(i);
          return li && { file: li.file, line: li.line, column: li.column, text: li.text };
        },
      });
      const loaded = { name: spec.name, progId, id: progId + 1, spec };
      this.programsByName.set(spec.name, loaded);
      this.byProgId[progId] = loaded; // indexed: bpf_fib_lookup asks for its caller on every call
    }
  }

  private programById(progId: number): LoadedProgram | undefined {
    return this.byProgId[progId];
  }

  /** Static `.values` of PROG_ARRAY and map-in-map definitions, as libbpf fills them at load. */
  private fillStaticSlots(): void {
    this.spec.maps.forEach((def, i) => {
      for (const slot of def.contents ?? []) {
        const id = slot.kind === 'program' ? this.program(slot.target).id : this.map(slot.target).id;
        const rc = this.liveMaps[i].update(u32Key(slot.index), u32Key(id), 0);
        if (rc !== 0) throw new Error(`${this.spec.name}: map ${def.name}: slot ${slot.index} = ${slot.target} rejected (${rc})`);
      }
    });
  }
}

/** Offset of a top-level `struct bpf_spin_lock` in a map value, as btf_find_spin_lock() finds it. */
function spinLockOffsetOf(btf: Btf, valueTypeId: number): number | undefined {
  const t = btf.resolve(valueTypeId);
  if (t.kind !== 'struct') return undefined;
  for (const m of t.members) {
    const r = btf.resolve(m.type);
    if (r.kind === 'struct' && r.name === 'bpf_spin_lock') return m.bitOffset / 8;
  }
  return undefined;
}

function readSnapshot(bytes: Uint8Array): SnapshotData {
  let data: SnapshotData;
  try {
    data = unpack(bytes) as SnapshotData;
  } catch (err) {
    throw new Error(`snapshot: not a bpfbed snapshot (${(err as Error).message})`);
  }
  if (data?.format !== 'bpfbed-snapshot') throw new Error('snapshot: not a bpfbed snapshot');
  if ((data.version as number) === 1) {
    throw new Error('snapshot: version 1 (whole map memories, from an older bpfbed) is no longer read; take the snapshot again with this bpfbed');
  }
  if (data.version !== SNAPSHOT_VERSION) throw new Error(`snapshot: version ${String(data.version)} is not one this bpfbed reads (${SNAPSHOT_VERSION})`);
  if (!data.environment || typeof data.environment !== 'object') throw new Error('snapshot: no environment');
  return data;
}
