// CPUMAP (kernel/bpf/cpumap.c): the CPUs bpf_redirect_map() hands XDP frames to. The key is a
// CPU number; a value is struct bpf_cpumap_val (include/uapi/linux/bpf.h): the size of the
// queue to that CPU's kthread, which builds an skb and passes it up the stack there, and with an
// 8-byte value a program (`bpf_prog.fd` written, `bpf_prog.id` read; BPF_XDP_CPUMAP) run on the
// frame on that CPU first. bpfbed takes a program id where the kernel takes an fd.
//
// Kernel semantics kept (checked against the running kernel, test/maps/devmap.test.ts):
// cpu_map_alloc: key 4, value 4 or 8, max_entries in 1..NR_CPUS, flags BPF_F_NUMA_NODE only;
// cpu_map_update_elem in this order: flags > BPF_EXIST -EINVAL, key past max_entries -E2BIG,
// BPF_NOEXIST -EEXIST, qsize > 16384 -EOVERFLOW, a CPU that is not possible -ENODEV, qsize 0
// empties the slot, a program that cannot be used -ENOMEM (__cpu_map_entry_alloc returns NULL
// for every failure); cpu_map_delete_elem -EINVAL past max_entries, else 0. Programs cannot look
// entries up (the verifier allows only bpf_redirect_map on a CPUMAP), so values need no VM memory.

import { MapDefinitionError, type MapContext } from './base.js';
import { IndexedMap } from './array.js';
import { readU32 } from './bytes.js';
import { E2BIG, EEXIST, EINVAL, ENOMEM } from './errno.js';
import { copyOf, restoreInto, type MapState } from './state.js';
import type { MapDefinition } from './types.js';
import { BPF_EXIST, BPF_NOEXIST } from './uapi.js';
import { BPF_F_NUMA_NODE } from './devmap.js';

/** NR_CPUS of Debian's x86-64 kernel config (CONFIG_NR_CPUS=8192): cpu_map_alloc's -E2BIG bound. */
export const NR_CPUS = 8192;
/** cpu_map_update_elem's "sanity limit on qsize". */
export const CPUMAP_MAX_QSIZE = 16384;
const ENODEV = 19;
const EOVERFLOW = 75;

/** Where an entry of a CPU map sends a frame: up the stack on `cpu`. */
export interface CpumapTarget {
  kind: 'cpu';
  cpu: number;
  qsize: number;
  /** The BPF_XDP_CPUMAP program run on that CPU first, 0 for none. */
  progId: number;
}

export class CpuMap extends IndexedMap {
  /** qsize and program id per CPU; qsize 0 = no entry. */
  private readonly qsize: Uint32Array;
  private readonly progIds: Uint32Array;

  constructor(
    def: MapDefinition,
    ctx: MapContext,
    private readonly progExists?: (id: number) => boolean,
  ) {
    if (def.maxEntries === 0 || def.keySize !== 4 || (def.valueSize !== 4 && def.valueSize !== 8) || def.flags & ~BPF_F_NUMA_NODE) {
      throw new MapDefinitionError(def, `a CPU map needs key_size 4, value_size 4 or 8, max_entries > 0 and no flags but BPF_F_NUMA_NODE (got ${def.keySize}, ${def.valueSize}, ${def.maxEntries}, 0x${def.flags.toString(16)})`);
    }
    if (def.maxEntries > NR_CPUS) throw new MapDefinitionError(def, `max_entries ${def.maxEntries} is more than NR_CPUS (${NR_CPUS}): -E2BIG`);
    super(def, ctx);
    this.qsize = new Uint32Array(def.maxEntries);
    this.progIds = new Uint32Array(def.maxEntries);
  }

  /** __cpu_map_lookup_elem: where `key` sends a frame, if anywhere. */
  target(key: number): CpumapTarget | undefined {
    const k = key >>> 0;
    if (k >= this.maxEntries || this.qsize[k] === 0) return undefined;
    return { kind: 'cpu', cpu: k, qsize: this.qsize[k], progId: this.progIds[k] };
  }

  private refused(helper: string): never {
    throw new Error(`bpf_${helper}: map ${this.name} is a CPUMAP; the verifier allows only bpf_redirect_map on it`);
  }
  bpfLookup(): bigint {
    this.refused('map_lookup_elem');
  }
  bpfUpdate(): number {
    this.refused('map_update_elem');
  }
  bpfDelete(): number {
    this.refused('map_delete_elem');
  }
  forEach(): number {
    return -EINVAL;
  }

  lookup(): number | undefined {
    return undefined;
  }

  /** cpu_map_lookup_elem through the syscall: struct bpf_cpumap_val with the program's id. */
  read(key: Uint8Array): Uint8Array | undefined {
    const t = this.target(this.keyIndex(key));
    if (!t) return undefined;
    const out = new Uint8Array(this.valueSize);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, t.qsize, true);
    if (this.valueSize === 8) dv.setUint32(4, t.progId, true);
    return out;
  }

  update(key: Uint8Array, value: Uint8Array, flags = 0): number {
    const cpu = this.keyIndex(key);
    this.checkValue(value);
    const refused = this.writeRefused();
    if (refused) return refused;
    const qsize = readU32(value, 0);
    const progFd = this.valueSize === 8 ? readU32(value, 4) | 0 : 0;
    if (flags > BPF_EXIST) return -EINVAL;
    if (cpu >= this.maxEntries) return -E2BIG;
    if (flags === BPF_NOEXIST) return -EEXIST;
    if (qsize > CPUMAP_MAX_QSIZE) return -EOVERFLOW;
    if (cpu >= this.nrCpus) return -ENODEV; // !cpu_possible(key_cpu)
    if (qsize !== 0 && progFd > 0 && !(this.progExists?.(progFd) ?? false)) return -ENOMEM;
    this.qsize[cpu] = qsize;
    this.progIds[cpu] = qsize !== 0 && progFd > 0 ? progFd : 0;
    return 0;
  }

  delete(key: Uint8Array): number {
    return this.clearSlot(key, (cpu) => {
      this.qsize[cpu] = 0;
      this.progIds[cpu] = 0;
    });
  }

  protected saveBody(): MapState {
    return { qsize: copyOf(this.qsize), progIds: copyOf(this.progIds) };
  }

  protected restoreBody(body: MapState): void {
    restoreInto('queue sizes', this.qsize, body.qsize);
    restoreInto('program ids', this.progIds, body.progIds);
  }
}
