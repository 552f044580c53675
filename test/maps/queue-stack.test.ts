// Queue and stack maps; the overwrite and error cases were checked with bpftool on Linux 6.18.
import { describe, expect, it } from 'vitest';
import { MapDefinitionError } from '../../src/maps/base.js';
import { E2BIG, EINVAL, ENOENT } from '../../src/maps/errno.js';
import { QueueStackMap } from '../../src/maps/queue-stack.js';
import { BPF_EXIST, BPF_NOEXIST } from '../../src/maps/uapi.js';
import { def, env, readU32, u32 } from './setup.js';

const none = new Uint8Array(0);

async function qs(type: 'queue' | 'stack', maxEntries = 2) {
  const { make } = await env();
  return make(def(type, { keySize: 0, valueSize: 4, maxEntries })) as QueueStackMap;
}

describe('queue and stack maps', () => {
  it('a queue pops the oldest value first, a stack the newest', async () => {
    const q = await qs('queue', 3);
    const s = await qs('stack', 3);
    for (const v of [1, 2, 3]) {
      expect(q.update(none, u32(v))).toBe(0);
      expect(s.update(none, u32(v))).toBe(0);
    }
    expect([q.pop(), q.pop(), q.pop()].map((v) => readU32(v))).toEqual([1, 2, 3]);
    expect([s.pop(), s.pop(), s.pop()].map((v) => readU32(v))).toEqual([3, 2, 1]);
  });

  it('peek returns the next value without removing it; an empty map gives -ENOENT', async () => {
    const q = await qs('queue');
    const out = new Uint8Array(4);
    expect(q.get(out, 0, false)).toBe(-ENOENT);
    q.update(none, u32(5));
    expect(readU32(q.peek())).toBe(5);
    expect(readU32(q.read())).toBe(5);
    expect(readU32(q.pop())).toBe(5);
    expect(q.pop()).toBeUndefined();
  });

  it('a push into a full map gives -E2BIG; with BPF_EXIST it overwrites the oldest value', async () => {
    const q = await qs('queue');
    q.update(none, u32(1));
    q.update(none, u32(2));
    expect(q.update(none, u32(3))).toBe(-E2BIG);
    expect(q.update(none, u32(3), BPF_EXIST)).toBe(0);
    expect([q.pop(), q.pop(), q.pop()].map((v) => readU32(v))).toEqual([2, 3, undefined]);
    const s = await qs('stack');
    s.update(none, u32(1));
    s.update(none, u32(2));
    expect(s.update(none, u32(3), BPF_EXIST)).toBe(0);
    expect([s.pop(), s.pop(), s.pop()].map((v) => readU32(v))).toEqual([3, 2, undefined]);
  });

  it('a push with BPF_NOEXIST or unknown flags gives -EINVAL', async () => {
    const s = await qs('stack');
    expect(s.update(none, u32(3), BPF_NOEXIST)).toBe(-EINVAL);
    expect(s.update(none, u32(3), 4)).toBe(-EINVAL);
  });

  it('entries lists the values in pop order; delete and get_next_key do not apply', async () => {
    const q = await qs('queue', 4);
    [7, 8, 9].forEach((v) => q.update(none, u32(v)));
    expect(q.entries().map((e) => readU32(e.value))).toEqual([7, 8, 9]);
    expect(q.delete()).toBe(-EINVAL);
    expect(q.getNextKey()).toBeUndefined();
  });

  it('queue creation needs key_size 0', async () => {
    const { make } = await env();
    expect(() => make(def('queue', { keySize: 4 }))).toThrow(MapDefinitionError);
  });
});
