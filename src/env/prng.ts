// The seeded generator behind bpf_get_prandom_u32 (helper 7). The kernel uses get_random_u32()
// (ChaCha20, never reproducible); bpfbed needs runs reproducible byte for byte, so it uses
// xoshiro128** 1.1 (Blackman & Vigna, https://prng.di.unimi.it/xoshiro128starstar.c), its four
// state words filled from the seed by splitmix32 (the 32-bit SplitMix of Steele, Lea & Flood
// with the MurmurHash3 finaliser constants), as the xoshiro authors recommend seeding.
import type { PrngState } from './types.js';

function splitmix32(state: { x: number }): number {
  state.x = (state.x + 0x9e3779b9) >>> 0;
  let z = state.x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export function createPrng(seed: number): PrngState {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`prng: seed must be an unsigned 32-bit integer, got ${seed}`);
  const st = { x: seed >>> 0 };
  const s: [number, number, number, number] = [splitmix32(st), splitmix32(st), splitmix32(st), splitmix32(st)];
  return { seed, s };
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;

/** Next unsigned 32-bit value; advances the state in place. */
export function prandomU32(p: PrngState): number {
  const s = p.s;
  const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
  const t = (s[1] << 9) >>> 0;
  s[2] = (s[2] ^ s[0]) >>> 0;
  s[3] = (s[3] ^ s[1]) >>> 0;
  s[1] = (s[1] ^ s[2]) >>> 0;
  s[0] = (s[0] ^ s[3]) >>> 0;
  s[2] = (s[2] ^ t) >>> 0;
  s[3] = rotl(s[3], 11);
  return result;
}
