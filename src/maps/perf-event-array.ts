// PERF_EVENT_ARRAY (kernel/bpf/arraymap.c, perf_event_array_map_*; kernel/trace/bpf_trace.c
// __bpf_perf_event_output). Each slot holds a perf event, normally one per CPU opened by a
// reader (libbpf's perf_buffer__new opens slot i on CPU i). bpf_perf_event_output() writes a
// sample to the event in slot `flags & BPF_F_INDEX_MASK` (BPF_F_CURRENT_CPU: the current CPU's),
// which must be open on the current CPU. Samples are captured here, never printed.

import { MapBase, MapDefinitionError, type MapContext } from './base.js';
import { readU32, u32Key } from './bytes.js';
import { E2BIG, EINVAL, ENOENT, EOPNOTSUPP } from './errno.js';
import { copyOf, restoreInto, type MapState } from './state.js';
import type { MapDefinition } from './types.js';
import { BPF_F_CURRENT_CPU, BPF_F_INDEX_MASK } from './uapi.js';

export interface PerfRecord {
  /** Slot of the map the sample went to. */
  index: number;
  /** CPU the program ran on. */
  cpu: number;
  /** The sample: the program's data, then any context bytes (BPF_F_CTXLEN_MASK). */
  data: Uint8Array;
}

export class PerfEventArrayMap extends MapBase {
  /** CPU the event in each slot is bound to, -1 = no event. */
  private readonly eventCpu: Int32Array;
  records: PerfRecord[] = [];

  constructor(def: MapDefinition, ctx: MapContext) {
    // libbpf sets max_entries to the number of possible CPUs when the object leaves it 0.
    const maxEntries = def.maxEntries || ctx.nrCpus;
    super({ ...def, maxEntries, keySize: def.keySize || 4, valueSize: def.valueSize || 4 }, ctx);
    if (this.keySize !== 4 || this.valueSize !== 4) {
      throw new MapDefinitionError(def, `a perf event array needs key_size 4 and value_size 4 (got ${def.keySize}, ${def.valueSize})`);
    }
    this.eventCpu = new Int32Array(maxEntries).fill(-1);
    for (let i = 0; i < Math.min(maxEntries, this.nrCpus); i++) this.eventCpu[i] = i;
  }

  /** Opens (cpu >= 0) or closes (cpu < 0) the event in a slot, as a reader would. */
  setEvent(index: number, cpu: number): void {
    if (index >= this.maxEntries) throw new RangeError(`map ${this.name}: slot ${index} is past max_entries ${this.maxEntries}`);
    this.eventCpu[index] = cpu < 0 ? -1 : cpu;
  }

  /** __bpf_perf_event_output: 0 or -errno; the sample is recorded on success. */
  output(flags: bigint, cpu: number, data: Uint8Array): number {
    let index = flags & BPF_F_INDEX_MASK;
    if (index === BPF_F_CURRENT_CPU) index = BigInt(cpu);
    if (index >= BigInt(this.maxEntries)) return -E2BIG;
    const i = Number(index);
    if (this.eventCpu[i] < 0) return -ENOENT;
    if (this.eventCpu[i] !== cpu) return -EOPNOTSUPP;
    this.records.push({ index: i, cpu, data });
    return 0;
  }

  /** The samples so far, removing them (what a perf reader would have read). */
  takeRecords(): PerfRecord[] {
    const r = this.records;
    this.records = [];
    return r;
  }

  /** Which slots have an event, on which CPU; samples already written are outputs, not state. */
  protected saveBody(): MapState {
    return { eventCpu: copyOf(this.eventCpu) };
  }

  protected restoreBody(b: MapState): void {
    restoreInto('events', this.eventCpu, b.eventCpu);
    this.records = []; // records are the run's outputs, not the map's state
  }

  bpfLookup(): bigint {
    return 0n;
  }

  bpfUpdate(): number {
    return -EINVAL;
  }

  bpfDelete(): number {
    return -EINVAL;
  }

  forEach(): number {
    return -EINVAL;
  }

  lookup(): number | undefined {
    return undefined;
  }

  /** perf_event_fd_array has no syscall lookup (-EOPNOTSUPP); here: the bound CPU, if any. */
  read(key: Uint8Array): Uint8Array | undefined {
    this.checkKey(key);
    const i = readU32(key, 0);
    return i < this.maxEntries && this.eventCpu[i] >= 0 ? u32Key(this.eventCpu[i]) : undefined;
  }

  /** The value names the CPU the slot's event is opened on (the syscall would take a perf fd). */
  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    this.checkKey(key);
    this.checkValue(value);
    if (flags !== 0) return -EINVAL;
    const i = readU32(key, 0);
    if (i >= this.maxEntries) return -E2BIG;
    this.eventCpu[i] = readU32(value, 0);
    return 0;
  }

  delete(key: Uint8Array): number {
    this.checkKey(key);
    const i = readU32(key, 0);
    if (i >= this.maxEntries) return -E2BIG;
    if (this.eventCpu[i] < 0) return -ENOENT;
    this.eventCpu[i] = -1;
    return 0;
  }

  getNextKey(key?: Uint8Array): Uint8Array | undefined {
    const index = key === undefined ? this.maxEntries : readU32(key, 0);
    if (index >= this.maxEntries) return u32Key(0);
    if (index === this.maxEntries - 1) return undefined;
    return u32Key(index + 1);
  }
}
