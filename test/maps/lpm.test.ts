// LPM tries. The orders and error codes marked "kernel" were checked with bpftool on Linux 6.18
// (and 30 random insert/delete/lookup runs compared with the kernel's dump order and matches).
import { describe, expect, it } from 'vitest';
import { MapDefinitionError } from '../../src/maps/base.js';
import { EEXIST, EINVAL, ENOENT, ENOSPC } from '../../src/maps/errno.js';
import { BPF_EXIST, BPF_F_NO_PREALLOC, BPF_NOEXIST } from '../../src/maps/uapi.js';
import { def, env, readU32, u32 } from './setup.js';

/** struct { __u32 prefixlen; __u8 addr[4]; } for "a.b.c.d/len". */
function v4(cidr: string): Uint8Array {
  const [addr, len] = cidr.split('/');
  const k = new Uint8Array(8);
  new DataView(k.buffer).setUint32(0, len === undefined ? 32 : Number(len), true);
  k.set(addr.split('.').map(Number), 4);
  return k;
}

function cidr(k: Uint8Array): string {
  return `${Array.from(k.subarray(4)).join('.')}/${readU32(k)}`;
}

async function trie(maxEntries = 64) {
  const { make, machine } = await env();
  return { machine, m: make(def('lpm_trie', { keySize: 8, valueSize: 4, maxEntries, flags: BPF_F_NO_PREALLOC })) };
}

describe('LPM trie maps', () => {
  it('lpm trie returns the longest matching prefix', async () => {
    const { m } = await trie();
    m.update(v4('10.0.0.0/8'), u32(8));
    m.update(v4('10.1.0.0/16'), u32(16));
    m.update(v4('10.1.2.0/24'), u32(24));
    m.update(v4('0.0.0.0/0'), u32(0));
    expect(readU32(m.read(v4('10.1.2.3')))).toBe(24);
    expect(readU32(m.read(v4('10.1.3.3')))).toBe(16);
    expect(readU32(m.read(v4('10.200.3.3')))).toBe(8);
    expect(readU32(m.read(v4('192.168.1.1')))).toBe(0);
  });

  it('a lookup that no prefix covers returns NULL', async () => {
    const { m, machine } = await trie();
    m.update(v4('10.0.0.0/8'), u32(8));
    expect(m.read(v4('11.0.0.1'))).toBeUndefined();
    const key = machine.alloc(8);
    machine.bytes().set(v4('11.0.0.1'), key);
    expect(m.bpfLookup(machine.bytes(), key, 0)).toBe(0n);
    machine.bytes().set(v4('10.9.9.9'), key);
    const p = m.bpfLookup(machine.bytes(), key, 0);
    expect(new DataView(machine.bytes().buffer).getUint32(machine.toOffset(p)!, true)).toBe(8);
  });

  it('get_next_key walks in post-order: more specific prefixes before the prefixes containing them (kernel)', async () => {
    const { m } = await trie();
    for (const c of ['192.168.0.0/16', '192.168.0.0/24', '192.168.1.0/24', '192.168.128.0/24', '10.0.0.0/8', '10.1.2.3/32', '0.0.0.0/0']) {
      expect(m.update(v4(c), u32(1))).toBe(0);
    }
    expect(m.entries().map((e) => cidr(e.key))).toEqual([
      '10.1.2.3/32',
      '10.0.0.0/8',
      '192.168.0.0/24',
      '192.168.1.0/24',
      '192.168.128.0/24',
      '192.168.0.0/16',
      '0.0.0.0/0',
    ]);
    // An unknown key starts over at the leftmost entry.
    expect(cidr(m.getNextKey(v4('1.2.3.4/32'))!)).toBe('10.1.2.3/32');
  });

  it('update flags: BPF_NOEXIST on an existing prefix gives -EEXIST, BPF_EXIST on a missing one -ENOENT', async () => {
    const { m } = await trie();
    expect(m.update(v4('10.0.0.0/8'), u32(1), BPF_EXIST)).toBe(-ENOENT);
    expect(m.update(v4('10.0.0.0/8'), u32(1), BPF_NOEXIST)).toBe(0);
    expect(m.update(v4('10.0.0.0/8'), u32(2), BPF_NOEXIST)).toBe(-EEXIST);
    expect(m.update(v4('10.0.0.0/8'), u32(3), BPF_EXIST)).toBe(0);
    expect(readU32(m.read(v4('10.0.0.1')))).toBe(3);
    expect(m.update(v4('10.0.0.0/8'), u32(3), 4)).toBe(-EINVAL);
  });

  it('a replacing update stores the new key\'s bytes, including bits past the prefix (kernel)', async () => {
    const { m } = await trie();
    m.update(v4('10.1.2.3/8'), u32(1));
    m.update(v4('10.9.9.9/8'), u32(2), BPF_EXIST);
    expect(m.entries().map((e) => cidr(e.key))).toEqual(['10.9.9.9/8']);
  });

  it('a prefix length past the key\'s data is -EINVAL', async () => {
    const { m } = await trie();
    expect(m.update(v4('1.1.1.1/33'), u32(1))).toBe(-EINVAL);
    expect(m.delete(v4('1.1.1.1/33'))).toBe(-EINVAL);
  });

  it('a full trie refuses a new prefix with -ENOSPC (kernel), not -E2BIG', async () => {
    const { m } = await trie(2);
    expect(m.update(v4('10.0.0.0/8'), u32(1))).toBe(0);
    expect(m.update(v4('10.0.0.0/9'), u32(1))).toBe(0);
    expect(m.update(v4('10.0.0.0/10'), u32(1))).toBe(-ENOSPC);
    expect(m.update(v4('10.0.0.0/9'), u32(7))).toBe(0);
  });

  it('delete needs the exact prefix; a covering prefix is not enough (kernel: -ENOENT)', async () => {
    const { m } = await trie();
    m.update(v4('10.9.0.0/16'), u32(1));
    expect(m.delete(v4('10.9.9.0/24'))).toBe(-ENOENT);
    expect(m.delete(v4('10.9.0.0/16'))).toBe(0);
    expect(m.read(v4('10.9.9.9'))).toBeUndefined();
  });

  it('deleting an entry keeps every other entry reachable (intermediate nodes pruned)', async () => {
    const { m } = await trie();
    const all = ['10.0.0.0/8', '10.0.0.0/24', '10.0.1.0/24', '10.0.2.0/24', '10.128.0.0/9', '11.0.0.0/8'];
    all.forEach((c, i) => m.update(v4(c), u32(i)));
    expect(m.delete(v4('10.0.0.0/24'))).toBe(0);
    expect(m.delete(v4('10.0.0.0/8'))).toBe(0);
    expect(m.entries().map((e) => cidr(e.key)).sort()).toEqual(['10.0.1.0/24', '10.0.2.0/24', '10.128.0.0/9', '11.0.0.0/8']);
    expect(readU32(m.read(v4('10.0.2.7')))).toBe(3);
    expect(readU32(m.read(v4('10.200.0.1')))).toBe(4);
    expect(m.read(v4('10.0.0.1'))).toBeUndefined();
  });

  it('IPv6 keys: 16 data bytes, prefixes up to /128', async () => {
    const { make } = await env();
    const m = make(def('lpm_trie', { keySize: 20, valueSize: 4, flags: BPF_F_NO_PREALLOC }));
    const k = (plen: number, bytes: number[]) => {
      const b = new Uint8Array(20);
      new DataView(b.buffer).setUint32(0, plen, true);
      b.set(bytes, 4);
      return b;
    };
    m.update(k(32, [0x20, 0x01, 0x0d, 0xb8]), u32(32));
    m.update(k(128, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1]), u32(128));
    expect(readU32(m.read(k(128, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 1])))).toBe(128);
    expect(readU32(m.read(k(128, [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 2])))).toBe(32);
  });

  it('lpm trie creation requires BPF_F_NO_PREALLOC, as the kernel does', async () => {
    const { make } = await env();
    expect(() => make(def('lpm_trie', { keySize: 8, valueSize: 4 }))).toThrow(MapDefinitionError);
    expect(() => make(def('lpm_trie', { keySize: 8, valueSize: 4 }))).toThrow(/BPF_F_NO_PREALLOC/);
  });
});
