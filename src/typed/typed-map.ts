// The host's view of a map with typed keys and values (BTF field names, addresses as text):
// what scenario files, tests and the playground read and write. Raw bytes stay available on the
// BpfMap itself.
import type { Btf } from '../btf/btf.js';
import type { MapSpec } from '../loader/spec.js';
import type { BpfMap } from '../maps/types.js';
import { decodeTyped, diffTyped, encodeTyped, TypedValueError, type TypedValue } from './typed-value.js';

export interface TypedEntry {
  key: TypedValue;
  value: TypedValue;
  /** Per-CPU maps: every CPU's value. */
  perCpu?: TypedValue[];
}

/** Without BTF a key or value is its bytes in hex, or an unsigned integer of its size. */
function rawEncode(size: number, value: TypedValue, what: string): Uint8Array {
  const out = new Uint8Array(size);
  if (typeof value === 'number' || typeof value === 'bigint') {
    let v = BigInt.asUintN(size * 8, BigInt(value));
    for (let i = 0; i < size; i++, v >>= 8n) out[i] = Number(v & 0xffn);
    return out;
  }
  if (typeof value === 'string') {
    const digits = value.replace(/0x/gi, '').replace(/[\s,:]/g, '');
    if (/^[0-9a-f]*$/i.test(digits) && digits.length === size * 2) {
      for (let i = 0; i < size; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
      return out;
    }
  }
  throw new TypedValueError(`${what}: this map has no BTF type, so give ${size} bytes as hex or an integer`);
}

const rawDecode = (bytes: Uint8Array): TypedValue => [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ');

export class TypedMap {
  constructor(
    readonly map: BpfMap,
    private readonly spec: Pick<MapSpec, 'keyTypeId' | 'valueTypeId'>,
    private readonly btf: Btf | undefined,
  ) {}

  get name(): string {
    return this.map.name;
  }

  encodeKey(key: TypedValue): Uint8Array {
    return this.btf && this.spec.keyTypeId ? encodeTyped(this.btf, this.spec.keyTypeId, key, `${this.name} key`) : rawEncode(this.map.keySize, key, `${this.name} key`);
  }

  encodeValue(value: TypedValue): Uint8Array {
    return this.btf && this.spec.valueTypeId
      ? encodeTyped(this.btf, this.spec.valueTypeId, value, `${this.name} value`)
      : rawEncode(this.map.valueSize, value, `${this.name} value`);
  }

  decodeKey(bytes: Uint8Array): TypedValue {
    if (this.btf && this.spec.keyTypeId) return decodeTyped(this.btf, this.spec.keyTypeId, bytes);
    // An array's key is its u32 index, even where BTF does not say so (global data sections).
    if (isArray(this.map.type) && bytes.length === 4) return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
    return rawDecode(bytes);
  }

  decodeValue(bytes: Uint8Array): TypedValue {
    return this.btf && this.spec.valueTypeId ? decodeTyped(this.btf, this.spec.valueTypeId, bytes) : rawDecode(bytes);
  }

  /** BPF_MAP_LOOKUP_ELEM; per-CPU maps give the first CPU's value (see entries() for all). */
  get(key: TypedValue): TypedValue | undefined {
    const bytes = this.map.read(this.encodeKey(key));
    return bytes && this.decodeValue(bytes.subarray(0, this.map.valueSize));
  }

  /** BPF_MAP_UPDATE_ELEM with flags BPF_ANY (0), BPF_NOEXIST (1), BPF_EXIST (2); 0 or -errno. */
  set(key: TypedValue, value: TypedValue, flags = 0): number {
    let bytes = this.encodeValue(value);
    if (isPerCpu(this.map.type)) {
      // the syscall layout: every CPU's value, each rounded up to 8 bytes
      const stride = Math.ceil(this.map.valueSize / 8) * 8;
      const all = new Uint8Array(stride * this.map.nrCpus);
      for (let cpu = 0; cpu < this.map.nrCpus; cpu++) all.set(bytes, cpu * stride);
      bytes = all;
    }
    return this.map.update(this.encodeKey(key), bytes, flags);
  }

  delete(key: TypedValue): number {
    return this.map.delete(this.encodeKey(key));
  }

  entries(): TypedEntry[] {
    return this.map.dump().entries.map((e) => ({
      key: this.decodeKey(e.key),
      value: this.decodeValue(e.value),
      ...(e.perCpu ? { perCpu: e.perCpu.map((v) => this.decodeValue(v)) } : {}),
    }));
  }

  /** Differences between an expected (partial) value and the value stored under `key`. */
  diff(key: TypedValue, expected: TypedValue): string[] {
    const bytes = this.map.read(this.encodeKey(key));
    if (!bytes) return [`${this.name}: no entry for key ${JSON.stringify(key)}`];
    const value = bytes.subarray(0, this.map.valueSize);
    if (this.btf && this.spec.valueTypeId) return diffTyped(this.btf, this.spec.valueTypeId, expected, value, `${this.name}[${JSON.stringify(key)}]`);
    const want = rawEncode(this.map.valueSize, expected, `${this.name} value`);
    return want.every((b, i) => b === value[i]) ? [] : [`${this.name}[${JSON.stringify(key)}]: ${rawDecode(want)} expected, ${rawDecode(value)} found`];
  }
}

// BPF_MAP_TYPE_ARRAY 2, PROG_ARRAY 3, PERF_EVENT_ARRAY 4, PERCPU_ARRAY 6, CGROUP_ARRAY 8,
// ARRAY_OF_MAPS 12, DEVMAP 14, CPUMAP 16 (include/uapi/linux/bpf.h)
const isArray = (type: number) => [2, 3, 4, 6, 8, 12, 14, 16].includes(type);
// BPF_MAP_TYPE_PERCPU_HASH 5, PERCPU_ARRAY 6, LRU_PERCPU_HASH 10 (include/uapi/linux/bpf.h)
const isPerCpu = (type: number) => type === 5 || type === 6 || type === 10;
