import { describe, expect, it } from 'vitest';
import { MapDefinitionError } from '../../src/maps/base.js';
import { E2BIG, ENOENT, EOPNOTSUPP } from '../../src/maps/errno.js';
import { PerfEventArrayMap } from '../../src/maps/perf-event-array.js';
import { RingbufMap } from '../../src/maps/ringbuf.js';
import { BPF_F_CURRENT_CPU, BPF_RB_AVAIL_DATA, BPF_RB_CONS_POS, BPF_RB_PROD_POS, BPF_RB_RING_SIZE } from '../../src/maps/uapi.js';
import { def, env } from './setup.js';

describe('perf event arrays', () => {
  it('max_entries 0 becomes the CPU count, with an event open on each CPU (a perf buffer reader)', async () => {
    const { make } = await env({ nrCpus: 4 });
    const m = make(def('perf_event_array', { keySize: 4, valueSize: 4, maxEntries: 0 })) as PerfEventArrayMap;
    expect(m.maxEntries).toBe(4);
    expect(m.output(BPF_F_CURRENT_CPU, 2, new Uint8Array([1, 2]))).toBe(0);
    expect(m.takeRecords()).toEqual([{ index: 2, cpu: 2, data: new Uint8Array([1, 2]) }]);
    expect(m.takeRecords()).toEqual([]);
  });

  it('output to another CPU\'s event is -EOPNOTSUPP, to an empty slot -ENOENT, past the end -E2BIG', async () => {
    const { make } = await env({ nrCpus: 2 });
    const m = make(def('perf_event_array', { keySize: 4, valueSize: 4, maxEntries: 4 })) as PerfEventArrayMap;
    expect(m.output(1n, 0, new Uint8Array(1))).toBe(-EOPNOTSUPP);
    expect(m.output(3n, 0, new Uint8Array(1))).toBe(-ENOENT);
    expect(m.output(4n, 0, new Uint8Array(1))).toBe(-E2BIG);
    m.setEvent(3, 0);
    expect(m.output(3n, 0, new Uint8Array(1))).toBe(0);
    expect(m.records).toHaveLength(1);
  });
});

describe('ring buffers', () => {
  async function ring(size = 4096) {
    const { make, machine } = await env();
    return { machine, rb: make(def('ringbuf', { keySize: 0, valueSize: 0, maxEntries: size })) as RingbufMap };
  }

  it('reserve gives writable memory in a ringbuf region; submit delivers the record', async () => {
    const { rb, machine } = await ring();
    const off = rb.reserve(5);
    expect(machine.regions().some((r) => r.kind === 'ringbuf' && off >= r.offset && off + 5 <= r.offset + r.length && r.write)).toBe(true);
    machine.bytes().set([1, 2, 3, 4, 5], off);
    expect(rb.records).toEqual([]);
    rb.commit(off, false);
    expect(rb.takeRecords()).toEqual([{ data: new Uint8Array([1, 2, 3, 4, 5]) }]);
  });

  it('a discarded record is never delivered, and records come out in reservation order', async () => {
    const { rb, machine } = await ring();
    const a = rb.reserve(1);
    const b = rb.reserve(1);
    const c = rb.reserve(1);
    machine.bytes()[a] = 0xa;
    machine.bytes()[c] = 0xc;
    rb.commit(c, false); // behind a busy record: not visible yet
    expect(rb.records).toEqual([]);
    rb.commit(b, true);
    rb.commit(a, false);
    expect(rb.takeRecords().map((r) => r.data[0])).toEqual([0xa, 0xc]);
  });

  it('reserve fails (NULL) when the records not yet consumed would fill the ring', async () => {
    const { rb } = await ring(4096);
    rb.manual = true;
    // Each record takes round_up(size + 8, 8) bytes; the ring holds at most size - 1 bytes.
    expect(rb.reserve(4096)).toBe(-1);
    const first = rb.reserve(2040); // 2048 bytes
    expect(first).toBeGreaterThan(0);
    expect(rb.reserve(2040)).toBe(-1); // would make 4096 > mask
    expect(rb.reserve(2032)).toBeGreaterThan(0); // 2040: total 4088
    expect(rb.query(BigInt(BPF_RB_AVAIL_DATA))).toBe(4088n);
  });

  it('records wrap around the end of the ring and stay contiguous', async () => {
    const { rb, machine } = await ring(4096);
    for (let i = 0; i < 5; i++) {
      const off = rb.reserve(1000);
      expect(off).toBeGreaterThan(0);
      machine.bytes().fill(i + 1, off, off + 1000);
      rb.commit(off, false);
    }
    const recs = rb.takeRecords();
    expect(recs.map((r) => [r.data.length, r.data[0], r.data[999]])).toEqual([1, 2, 3, 4, 5].map((i) => [1000, i, i]));
    expect(rb.query(BigInt(BPF_RB_PROD_POS))).toBe(5n * 1008n);
    expect(rb.query(BigInt(BPF_RB_CONS_POS))).toBe(5n * 1008n);
    expect(rb.query(BigInt(BPF_RB_RING_SIZE))).toBe(4096n);
  });

  it('ownsSample accepts only a reserved, unsubmitted record', async () => {
    const { rb } = await ring();
    const a = rb.reserve(8);
    expect(rb.ownsSample(a)).toBe(true);
    expect(rb.ownsSample(a + 8)).toBe(false);
    rb.commit(a, false);
    expect(rb.ownsSample(a)).toBe(false);
  });

  it('ring buffer size must be a power of two multiple of the page size', async () => {
    const { make } = await env();
    expect(() => make(def('ringbuf', { keySize: 0, valueSize: 0, maxEntries: 5000 }))).toThrow(MapDefinitionError);
  });
});
