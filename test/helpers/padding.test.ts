import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Testbed } from '../../src/testbed/testbed.js';

const object = new Uint8Array(readFileSync(join(import.meta.dirname, '../../fixtures/obj/helpers/padding.o')));

describe('uninitialised stack', () => {
  it('a map key with unset padding misses the entry, as it may in the kernel; a zeroed key hits', async () => {
    const bed = await Testbed.fromObject(object, { name: 'padding.o' });
    expect(bed.typedMap('padded').set({ proto: 6, addr: 0x0a000001 }, 7)).toBe(0);
    expect(bed.runWithMemory('lookup_zeroed_key', new Uint8Array(8)).r0).toBe(7n);
    expect(bed.runWithMemory('lookup_unset_padding', new Uint8Array(8)).r0).toBe(0n);
  });
});
