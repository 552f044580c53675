// Runs an LRU scenario script against the emulated maps, in the command language of
// oracle/lru-oracle.c (which runs the same script against the kernel), and prints the same output:
//   create TYPE MAX FLAGS   a map with u32 keys and u64 values
//   cpu N                   later operations run on CPU N
//   u KEY FLAGS             bpf_map_update_elem from a program (prints its result)
//   l KEY                   bpf_map_lookup_elem from a program (sets the reference bit)
//   d KEY                   bpf_map_delete_elem from a program (prints its result)
//   su KEY                  BPF_MAP_UPDATE_ELEM from the host (prints its result)
//   pr KEY                  BPF_MAP_LOOKUP_ELEM from the host: the value (each CPU's for per-CPU maps)
//   dump                    the keys present, sorted
import { createMap } from '../../src/maps/registry.js';
import type { MapBase } from '../../src/maps/base.js';
import { Machine } from '../../src/vm/machine.js';

export async function runLruScript(script: string, nrCpus: number): Promise<string> {
  const machine = await Machine.create();
  const words = script.split(/\s+/).filter(Boolean);
  let map: MapBase | undefined;
  let cpu = 0;
  let out = '';
  const scratch = machine.alloc(16);
  const put = (key: number): void => {
    const dv = new DataView(machine.bytes().buffer);
    dv.setUint32(scratch, key, true);
    dv.setBigUint64(scratch + 8, BigInt(key), true);
  };
  for (let i = 0; i < words.length; ) {
    const cmd = words[i++];
    const arg = (): number => Number(words[i++]);
    switch (cmd) {
      case 'create': {
        const type = arg();
        const maxEntries = arg();
        const flags = arg();
        map = createMap(machine, { name: 'lru', type, keySize: 4, valueSize: 8, maxEntries, flags }, { nrCpus });
        break;
      }
      case 'cpu':
        cpu = arg();
        break;
      case 'l':
        put(arg());
        map!.bpfLookup(machine.bytes(), scratch, cpu);
        break;
      case 'u': {
        put(arg());
        const flags = arg();
        out += `${map!.bpfUpdate(machine.bytes(), scratch, machine.bytes(), scratch + 8, flags, cpu)} `;
        break;
      }
      case 'd':
        put(arg());
        out += `${map!.bpfDelete(machine.bytes(), scratch, cpu)} `;
        break;
      case 'su': {
        const key = arg();
        const cpus = map!.syscallValueSize / 8;
        const value = new Uint8Array(8 * cpus);
        for (let c = 0; c < cpus; c++) new DataView(value.buffer).setUint32(8 * c, key, true);
        const k = new Uint8Array(4);
        new DataView(k.buffer).setUint32(0, key, true);
        out += `${map!.update(k, value, 0, cpu)} `;
        break;
      }
      case 'pr': {
        const key = arg();
        const v = map!.read(new Uint8Array(new Uint32Array([key]).buffer));
        const vals = v ? Array.from({ length: v.length / 8 }, (_, c) => new DataView(v.buffer, v.byteOffset).getBigUint64(8 * c, true)) : undefined;
        out += `\nvalue ${key}:${vals ? vals.map((x) => ` ${x}`).join('') : ' none'}\n`;
        break;
      }
      case 'dump': {
        const keys = map!.entries().map((e) => new DataView(e.key.buffer, e.key.byteOffset).getUint32(0, true));
        keys.sort((a, b) => a - b);
        out += `\nkeys:${keys.map((k) => ` ${k}`).join('')}\n`;
        break;
      }
      default:
        throw new Error(`lru script: unknown command ${cmd}`);
    }
  }
  return out;
}
