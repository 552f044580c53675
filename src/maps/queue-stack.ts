// QUEUE and STACK (kernel/bpf/queue_stack_maps.c): a ring of max_entries + 1 values with no
// keys. Programs use bpf_map_push_elem / pop / peek; the host's BPF_MAP_UPDATE_ELEM pushes,
// BPF_MAP_LOOKUP_ELEM peeks and BPF_MAP_LOOKUP_AND_DELETE_ELEM pops. Values are copied in and
// out, never pointed at, so they live on the host side.

import { MapBase, MapDefinitionError, type MapContext } from './base.js';
import { E2BIG, EINVAL, ENOENT, EPERM } from './errno.js';
import { restoreNonZero, saveNonZero, type MapState } from './state.js';
import type { MapDefinition, MapEntry } from './types.js';
import { BPF_EXIST, BPF_F_RDONLY, BPF_MAP_TYPE, BPF_NOEXIST } from './uapi.js';

export class QueueStackMap extends MapBase {
  readonly isStack: boolean;
  private readonly size: number;
  private readonly elements: Uint8Array;
  private head = 0;
  private tail = 0;

  constructor(def: MapDefinition, ctx: MapContext) {
    super(def, ctx);
    // queue_stack_map_alloc_check
    if (def.maxEntries === 0 || def.keySize !== 0 || def.valueSize === 0) {
      throw new MapDefinitionError(def, `needs key_size 0, value_size > 0 and max_entries > 0 (got ${def.keySize}, ${def.valueSize}, ${def.maxEntries})`);
    }
    this.isStack = def.type === BPF_MAP_TYPE.BPF_MAP_TYPE_STACK;
    this.size = def.maxEntries + 1;
    this.elements = new Uint8Array(this.size * def.valueSize);
  }

  get length(): number {
    return (this.head - this.tail + this.size) % this.size;
  }

  private isFull(): boolean {
    let head = this.head + 1;
    if (head >= this.size) head = 0;
    return head === this.tail;
  }

  /** queue_stack_map_push_elem: BPF_EXIST overwrites the oldest value when full. */
  push(vb: Uint8Array, vo: number, flags: number): number {
    if (flags & BPF_NOEXIST || flags > BPF_EXIST) return -EINVAL;
    if (this.isFull()) {
      if (!(flags & BPF_EXIST)) return -E2BIG;
      if (++this.tail >= this.size) this.tail = 0;
    }
    this.elements.set(vb.subarray(vo, vo + this.valueSize), this.head * this.valueSize);
    if (++this.head >= this.size) this.head = 0;
    return 0;
  }

  /**
   * __queue_map_get / __stack_map_get: copies the next value to out[oo]; pop removes it.
   * -ENOENT when empty. A queue gives the oldest value, a stack the newest.
   */
  get(out: Uint8Array, oo: number, pop: boolean): number {
    if (this.head === this.tail) return -ENOENT;
    let index: number;
    if (this.isStack) {
      index = this.head - 1;
      if (index < 0) index = this.size - 1;
      if (pop) this.head = index;
    } else {
      index = this.tail;
      if (pop && ++this.tail >= this.size) this.tail = 0;
    }
    out.set(this.elements.subarray(index * this.valueSize, (index + 1) * this.valueSize), oo);
    return 0;
  }

  /** Host: BPF_MAP_LOOKUP_AND_DELETE_ELEM. */
  pop(): Uint8Array | undefined {
    const out = new Uint8Array(this.valueSize);
    return this.get(out, 0, true) === 0 ? out : undefined;
  }

  /** Host: BPF_MAP_LOOKUP_ELEM on a queue or stack peeks. */
  peek(): Uint8Array | undefined {
    const out = new Uint8Array(this.valueSize);
    return this.get(out, 0, false) === 0 ? out : undefined;
  }

  /** queue_stack_map_lookup_elem: programs use peek, a lookup gives NULL. */
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

  read(): Uint8Array | undefined {
    return this.peek();
  }

  /** map_update_elem on a queue/stack is a push (bpf_map_update_value); the key must be empty. */
  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    this.checkKey(key);
    this.checkValue(value);
    if (this.frozen || this.flags & BPF_F_RDONLY) return -EPERM;
    return this.push(value, 0, flags);
  }

  delete(): number {
    return -EINVAL;
  }

  getNextKey(): Uint8Array | undefined {
    return undefined;
  }

  protected saveBody(): MapState {
    return { elements: saveNonZero(this.elements), head: this.head, tail: this.tail };
  }

  protected restoreBody(b: MapState): void {
    const head = b.head as number;
    const tail = b.tail as number;
    if (!(head >= 0 && head < this.size && tail >= 0 && tail < this.size)) throw new Error(`map state: queue positions ${String(head)}, ${String(tail)} outside ${this.size} places`);
    restoreNonZero('elements', this.elements, b.elements);
    this.head = head;
    this.tail = tail;
  }

  /** The values in the order pops would return them (without popping). */
  override entries(): MapEntry[] {
    const out: MapEntry[] = [];
    const n = this.length;
    for (let i = 0; i < n; i++) {
      const index = this.isStack ? (this.head - 1 - i + 2 * this.size) % this.size : (this.tail + i) % this.size;
      out.push({ key: new Uint8Array(0), value: this.elements.slice(index * this.valueSize, (index + 1) * this.valueSize) });
    }
    return out;
  }
}
