// What every map shares: its definition, identity (id, handle), host-side argument checks, and
// the host API built from getNextKey + read (entries, dump).

import type { BpfMap, MapDefinition, MapDump, MapEntry, MapMemory } from './types.js';
import type { MapState } from './state.js';
import { BPF_F_RDONLY_PROG, mapTypeName, round8 } from './uapi.js';

/** Everything a map needs from the machine it lives in. */
export interface MapContext {
  mem: MapMemory;
  nrCpus: number;
}

/** A definition the kernel's map_create would refuse: names the map and the reason. */
export class MapDefinitionError extends Error {
  constructor(def: MapDefinition, reason: string) {
    super(`map ${def.name || '(unnamed)'} (${mapTypeName(def.type)}): ${reason}`);
    this.name = 'MapDefinitionError';
  }
}

export abstract class MapBase implements BpfMap {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  maxEntries: number;
  readonly flags: number;
  readonly nrCpus: number;
  readonly progReadOnly: boolean;
  id = 0;
  handle = 0n;
  /** BPF_MAP_FREEZE was called: the host may no longer write (kernel/bpf/syscall.c map_freeze). */
  frozen = false;
  protected readonly mem: MapMemory;
  /** Offset of the bpf_spin_lock in the value, -1 when none. */
  protected readonly lockOff: number;
  private memView: Uint8Array = new Uint8Array(0);

  constructor(
    readonly def: Readonly<MapDefinition>,
    ctx: MapContext,
  ) {
    this.name = def.name;
    this.type = def.type;
    this.keySize = def.keySize;
    this.valueSize = def.valueSize;
    this.maxEntries = def.maxEntries;
    this.flags = def.flags;
    this.nrCpus = ctx.nrCpus;
    this.mem = ctx.mem;
    this.lockOff = def.spinLockOffset ?? -1;
    this.progReadOnly = (def.flags & BPF_F_RDONLY_PROG) !== 0 || def.readonly === true;
    if (this.lockOff >= 0 && this.lockOff + 4 > def.valueSize) {
      throw new MapDefinitionError(def, `bpf_spin_lock at offset ${this.lockOff} is outside the ${def.valueSize}-byte value`);
    }
  }

  /**
   * The VM memory, without a new view per call: a view stays valid until the memory grows, which
   * detaches its buffer (its length then reads 0).
   */
  protected bytes(): Uint8Array {
    if (this.memView.length === 0) this.memView = this.mem.bytes();
    return this.memView;
  }

  /** Bytes of a value in the syscall layout (per-CPU maps: every CPU, rounded up to 8). */
  get syscallValueSize(): number {
    return this.valueSize;
  }

  protected get regionName(): string {
    return `map value of ${this.name}`;
  }

  abstract bpfLookup(keyBuf: Uint8Array, keyOff: number, cpu: number): bigint;
  abstract bpfUpdate(keyBuf: Uint8Array, keyOff: number, valBuf: Uint8Array, valOff: number, flags: number, cpu: number): number;
  abstract bpfDelete(keyBuf: Uint8Array, keyOff: number, cpu: number): number;
  abstract forEach(cpu: number, fn: (keyOff: number, valueOff: number) => boolean): number;
  abstract lookup(key: Uint8Array, cpu?: number): number | undefined;
  abstract read(key: Uint8Array): Uint8Array | undefined;
  abstract update(key: Uint8Array, value: Uint8Array, flags?: number, cpu?: number): number;
  abstract delete(key: Uint8Array): number;
  abstract getNextKey(key?: Uint8Array): Uint8Array | undefined;

  /** Throws (bad input from the host) when a key has the wrong size. */
  protected checkKey(key: Uint8Array, what = 'key'): void {
    if (!(key instanceof Uint8Array)) throw new TypeError(`map ${this.name}: ${what} must be a Uint8Array`);
    if (key.length !== this.keySize) {
      throw new RangeError(`map ${this.name}: ${what} has ${key.length} bytes, the map's key_size is ${this.keySize}`);
    }
  }

  protected checkValue(value: Uint8Array): void {
    if (!(value instanceof Uint8Array)) throw new TypeError(`map ${this.name}: value must be a Uint8Array`);
    if (value.length !== this.syscallValueSize) {
      const perCpu = this.syscallValueSize !== this.valueSize ? ` (${this.nrCpus} CPUs x ${round8(this.valueSize)} bytes)` : '';
      throw new RangeError(`map ${this.name}: value has ${value.length} bytes, expected ${this.syscallValueSize}${perCpu}`);
    }
  }

  /** The whole state of the map as plain data (see state.ts). */
  saveState(): MapState {
    return { ...this.identity(), frozen: this.frozen, body: this.saveBody() };
  }

  /** Restores a state saved from a map of the same definition and CPU count. */
  restoreState(state: MapState): void {
    const want = this.identity();
    for (const [k, v] of Object.entries(want)) {
      if (state[k] !== v) throw new Error(`map ${this.name}: cannot restore a state saved with ${k} ${String(state[k])} (this map has ${String(v)})`);
    }
    this.frozen = state.frozen === true;
    this.memView = new Uint8Array(0);
    this.restoreBody(state.body as MapState);
  }

  private identity(): MapState {
    return { type: this.type, keySize: this.keySize, valueSize: this.valueSize, maxEntries: this.maxEntries, flags: this.flags, nrCpus: this.nrCpus };
  }

  protected abstract saveBody(): MapState;
  protected abstract restoreBody(body: MapState): void;

  freeze(): void {
    this.frozen = true;
  }

  entries(): MapEntry[] {
    const out: MapEntry[] = [];
    // Bounded: a map never holds more than maxEntries keys, so a cycle would be a bug, not a hang.
    let key = this.getNextKey(undefined);
    for (let n = 0; key !== undefined && n <= this.maxEntries; n++) {
      const value = this.read(key);
      if (value !== undefined) out.push(this.entry(key, value));
      key = this.getNextKey(key);
    }
    return out;
  }

  protected entry(key: Uint8Array, value: Uint8Array): MapEntry {
    return { key, value };
  }

  dump(): MapDump {
    return {
      name: this.name,
      type: mapTypeName(this.type),
      keySize: this.keySize,
      valueSize: this.valueSize,
      maxEntries: this.maxEntries,
      entries: this.entries(),
    };
  }

  /** Frees the map's VM memory and regions. */
  destroy(): void {}
}

/** Splits a syscall-layout per-CPU value into one valueSize slice per CPU. */
export function splitPerCpu(value: Uint8Array, valueSize: number, nrCpus: number): Uint8Array[] {
  const stride = round8(valueSize);
  const out: Uint8Array[] = [];
  for (let c = 0; c < nrCpus; c++) out.push(value.slice(c * stride, c * stride + valueSize));
  return out;
}
