// The map helpers, called by real BPF programs running in the VM.
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/assembler.js';
import { installMapHelpers, MAP_HELPERS, type MapHelperEnv } from '../../src/helpers/map-helpers.js';
import { EEXIST, ENOENT, errnoToU64 } from '../../src/maps/errno.js';
import type { PerfEventArrayMap } from '../../src/maps/perf-event-array.js';
import type { RingbufMap } from '../../src/maps/ringbuf.js';
import { BPF_F_CURRENT_CPU, BPF_F_NO_PREALLOC } from '../../src/maps/uapi.js';
import { def, env, keysOf, readU32, readU64, u32, u64 } from './setup.js';

async function bed(nrCpus = 1) {
  const e = await env({ nrCpus });
  const helperEnv: MapHelperEnv = { mem: e.machine, maps: e.registry, cpu: 0, nrCpus };
  installMapHelpers(e.machine, helperEnv);
  const load = (text: string): number => e.machine.loadProgram(assemble(text), { name: 'test', helpers: new Set(MAP_HELPERS.keys()) });
  const run = (prog: number, ...args: bigint[]) => {
    const r = e.machine.run(prog, args);
    if (r.fault) throw new Error(r.fault.message);
    return r.r0;
  };
  return { ...e, helperEnv, load, run };
}

const h = (v: bigint): string => `0x${v.toString(16)}`;

/** r2 = &key on the stack, holding the u32 `key`. */
const keyOnStack = (key: number): string => `stw [%r10-4], ${key}\nmov %r2, %r10\nadd %r2, -4`;

describe('map helpers from BPF programs', () => {
  it('bpf_map_lookup_elem returns a pointer whose writes later lookups and the host see', async () => {
    const { make, load, run } = await bed();
    const m = make(def('array', { maxEntries: 2 }));
    const prog = load(`
      lddw %r1, ${h(m.handle)}
      ${keyOnStack(1)}
      call 1
      jeq %r0, 0, null
      mov %r1, 1
      lock add [%r0], %r1
      ldxdw %r0, [%r0]
      exit
    null:
      mov %r0, -1
      exit`);
    expect([run(prog), run(prog), run(prog)]).toEqual([1n, 2n, 3n]);
    expect(readU64(m.read(u32(1)))).toBe(3n);
  });

  it('bpf_map_lookup_elem of a missing key returns NULL', async () => {
    const { make, load, run } = await bed();
    const m = make(def('hash'));
    const prog = load(`lddw %r1, ${h(m.handle)}\n${keyOnStack(9)}\ncall 1\nexit`);
    expect(run(prog)).toBe(0n);
  });

  it('bpf_map_update_elem returns the kernel\'s errors as negative u64s', async () => {
    const { make, load, run } = await bed();
    const m = make(def('hash'));
    const prog = load(`
      stdw [%r10-16], 42
      lddw %r1, ${h(m.handle)}
      ${keyOnStack(5)}
      mov %r3, %r10
      add %r3, -16
      mov %r4, 1
      call 2
      exit`);
    expect(run(prog)).toBe(0n);
    expect(run(prog)).toBe(errnoToU64(-EEXIST));
    expect(readU64(m.read(u32(5)))).toBe(42n);
  });

  it('bpf_map_delete_elem deletes once, then returns -ENOENT', async () => {
    const { make, load, run } = await bed();
    const m = make(def('hash'));
    m.update(u32(3), u64(1));
    const prog = load(`lddw %r1, ${h(m.handle)}\n${keyOnStack(3)}\ncall 3\nexit`);
    expect(run(prog)).toBe(0n);
    expect(run(prog)).toBe(errnoToU64(-ENOENT));
    expect(keysOf(m)).toEqual([]);
  });

  it('a program on another CPU sees another per-CPU value; map_lookup_percpu_elem reaches any CPU', async () => {
    const { make, load, run, helperEnv } = await bed(2);
    const m = make(def('percpu_array', { maxEntries: 1 }));
    m.update(u32(0), new Uint8Array([...u64(10), ...u64(20)]));
    const own = load(`lddw %r1, ${h(m.handle)}\n${keyOnStack(0)}\ncall 1\nldxdw %r0, [%r0]\nexit`);
    expect(run(own)).toBe(10n);
    helperEnv.cpu = 1;
    expect(run(own)).toBe(20n);
    const other = (cpu: number) => load(`lddw %r1, ${h(m.handle)}\n${keyOnStack(0)}\nmov %r3, ${cpu}\ncall 195\nexit`);
    expect(run(other(2))).toBe(0n);
    helperEnv.cpu = 0;
    const p = run(other(1));
    expect(p).not.toBe(0n);
  });

  it('bpf_map_push_elem / pop / peek move values between a queue and the stack', async () => {
    const { make, load, run } = await bed();
    const q = make(def('queue', { keySize: 0, valueSize: 8, maxEntries: 4 }));
    const push = load(`stdw [%r10-8], 77\nlddw %r1, ${h(q.handle)}\nmov %r2, %r10\nadd %r2, -8\nmov %r3, 0\ncall 87\nexit`);
    const pop = load(`lddw %r1, ${h(q.handle)}\nmov %r2, %r10\nadd %r2, -8\ncall 88\njne %r0, 0, out\nldxdw %r0, [%r10-8]\nout:\nexit`);
    expect(run(push)).toBe(0n);
    expect(run(pop)).toBe(77n);
    expect(run(pop)).toBe(errnoToU64(-ENOENT));
  });

  it('bpf_for_each_map_elem calls back per element until the callback returns 1, and counts', async () => {
    const { make, machine, load, run, helperEnv } = await bed();
    const m = make(def('array', { maxEntries: 5 }));
    for (let i = 0; i < 5; i++) m.update(u32(i), u64(i + 1));
    // The callback adds *value to *ctx, and stops after the key `stop`.
    const text = (stop: number) => `
      stdw [%r10-8], 0
      lddw %r1, ${h(m.handle)}
      lddw %r2, CALLBACK
      mov %r3, %r10
      add %r3, -8
      mov %r4, 0
      call 164
      ldxdw %r1, [%r10-8]
      lsh %r0, 32
      or %r0, %r1
      exit
    cb:
      ldxdw %r5, [%r3]
      ldxdw %r6, [%r4]
      add %r6, %r5
      stxdw [%r4], %r6
      ldxw %r2, [%r2]
      mov %r0, 0
      jne %r2, ${stop}, +1
      mov %r0, 1
      exit`;
    const probe = assemble(text(99).replace('CALLBACK', '0'));
    const cbIndex = probe.findIndex((insn, i) => i > 0 && probe[i - 1].opcode === 0x95);
    helperEnv.callback = (fn, args) => machine.callSubprogram(progOf.id, Number(fn), args);
    const progOf = { id: -1 };
    for (const [stop, count, sum] of [[99, 5n, 15n], [1, 2n, 3n]] as const) {
      progOf.id = load(text(stop).replace('CALLBACK', String(cbIndex)));
      machine.codeAddress(progOf.id, cbIndex);
      expect(run(progOf.id)).toBe((count << 32n) | sum);
    }
  });

  it('bpf_ringbuf_reserve / submit and bpf_ringbuf_output deliver records; query reports positions', async () => {
    const { make, load, run } = await bed();
    const rb = make(def('ringbuf', { keySize: 0, valueSize: 0, maxEntries: 4096 })) as RingbufMap;
    const prog = load(`
      lddw %r1, ${h(rb.handle)}
      mov %r2, 4
      mov %r3, 0
      call 131
      jeq %r0, 0, fail
      stw [%r0], 0x11223344
      mov %r1, %r0
      mov %r2, 0
      call 132
      stdw [%r10-8], 0x55
      lddw %r1, ${h(rb.handle)}
      mov %r2, %r10
      add %r2, -8
      mov %r3, 1
      mov %r4, 0
      call 130
      lddw %r1, ${h(rb.handle)}
      mov %r2, 3
      call 134
      exit
    fail:
      mov %r0, -1
      exit`);
    // Producer position: each record is round_up(8-byte header + size, 8) = 16 bytes.
    expect(run(prog)).toBe(32n);
    const recs = rb.takeRecords();
    expect(recs.map((r) => Array.from(r.data))).toEqual([[0x44, 0x33, 0x22, 0x11], [0x55]]);
  });

  it('bpf_ringbuf_submit of a pointer that is not a reserved record faults, naming the helper', async () => {
    const { make, machine, load } = await bed();
    make(def('ringbuf', { keySize: 0, valueSize: 0, maxEntries: 4096 }));
    const prog = load(`mov %r1, %r10\nadd %r1, -8\nmov %r2, 0\ncall 132\nexit`);
    const r = machine.run(prog);
    expect(r.fault?.message).toMatch(/bpf_ringbuf_submit: r1 = 0x[0-9a-f]+ is not a record reserved with bpf_ringbuf_reserve/);
  });

  it('bpf_perf_event_output records the sample for the current CPU\'s event', async () => {
    const { make, load, run } = await bed(2);
    const pe = make(def('perf_event_array', { keySize: 4, valueSize: 4, maxEntries: 0 })) as PerfEventArrayMap;
    const prog = load(`
      lddw %r1, 0x0807060504030201
      stxdw [%r10-8], %r1
      lddw %r2, ${h(pe.handle)}
      lddw %r3, ${h(BPF_F_CURRENT_CPU)}
      mov %r4, %r10
      add %r4, -8
      mov %r5, 8
      call 25
      exit`);
    expect(run(prog)).toBe(0n);
    expect(pe.takeRecords()).toEqual([{ index: 0, cpu: 0, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) }]);
  });

  it('a lookup in a map of maps returns the inner map, usable as a map in the next helper call', async () => {
    const { make, load, run } = await bed();
    const innerDef = def('hash', { maxEntries: 4 });
    const outer = make(def('hash_of_maps', { valueSize: 4, innerMap: innerDef }));
    const inner = make(innerDef);
    inner.update(u32(0), u64(1234));
    outer.update(u32(7), u32(inner.id));
    const prog = load(`
      lddw %r1, ${h(outer.handle)}
      ${keyOnStack(7)}
      call 1
      jeq %r0, 0, out
      mov %r1, %r0
      ${keyOnStack(0)}
      call 1
      jeq %r0, 0, out
      ldxdw %r0, [%r0]
    out:
      exit`);
    expect(run(prog)).toBe(1234n);
  });

  it('a helper given something that is not a map faults with a message naming the helper', async () => {
    const { load, machine } = await bed();
    const prog = load(`mov %r1, 12345\n${keyOnStack(0)}\ncall 1\nexit`);
    expect(machine.run(prog).fault?.message).toMatch(/bpf_map_lookup_elem: r1 = 0x3039 is not a map/);
  });

  it('hash map updates from programs into a growing NO_PREALLOC map read keys and values correctly', async () => {
    const { make, load, run } = await bed();
    const m = make(def('hash', { maxEntries: 5000, flags: BPF_F_NO_PREALLOC }));
    const prog = load(`
      mov %r6, 0
    loop:
      stxw [%r10-4], %r6
      stxdw [%r10-16], %r6
      lddw %r1, ${h(m.handle)}
      mov %r2, %r10
      add %r2, -4
      mov %r3, %r10
      add %r3, -16
      mov %r4, 0
      call 2
      jne %r0, 0, out
      add %r6, 1
      jlt %r6, 3000, loop
    out:
      exit`);
    expect(run(prog)).toBe(0n);
    expect(keysOf(m).length).toBe(3000);
    expect(readU64(m.read(u32(2999)))).toBe(2999n);
    expect(readU32(m.read(u32(1234)))).toBe(1234);
  });

});

describe('read-only maps', () => {
  it('a program may read a read-only global data section but not update it through a helper', async () => {
    const { make, load, run, machine } = await bed();
    const rodata = make({ ...def('array', { name: '.rodata', maxEntries: 1 }), readonly: true, initialValue: u64(5) });
    const read = load(`lddw %r1, ${h(rodata.handle)}\n${keyOnStack(0)}\ncall 1\nldxdw %r0, [%r0]\nexit`);
    expect(run(read)).toBe(5n);
    const write = load(`lddw %r1, ${h(rodata.handle)}\n${keyOnStack(0)}\nmov %r3, %r2\nmov %r4, 0\ncall 2\nexit`);
    expect(machine.run(write).fault?.message).toMatch(/bpf_map_update_elem: map \.rodata is read-only for programs/);
    const store = load(`lddw %r1, ${h(rodata.handle)}\n${keyOnStack(0)}\ncall 1\nstdw [%r0], 1\nexit`);
    expect(machine.run(store).fault).toBeDefined();
    expect(readU64(rodata.read(u32(0)))).toBe(5n);
  });
});
