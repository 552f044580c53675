// Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable Software Network Load
// Balancer", NSDI 2016, section 3.4), computed exactly as Cilium's agent computes it for
// `--bpf-lb-algorithm=maglev` (pkg/maglev/maglev.go GetLookupTable / getPermutation /
// getOffsetAndSkip): every backend, by name, gets a permutation of the M table slots from
// offset = h1 % M and skip = h2 % (M - 1) + 1, where (h1, h2) is MurmurHash3_x64_128 of the name
// with the 32-bit seed taken from the first four bytes of the base64 hash seed
// (pkg/murmur3/murmur3.go Hash128, maglev.Init); the backends, sorted by name, then take turns
// claiming their next free slot until all M are filled (weights: Envoy's scheme, as Cilium).
// The datapath reads the table as the service's inner map (bpf/kpr/maglev.h) and picks
// table[hash(tuple) % M]. M must be prime (so every skip walks all slots).

/** Cilium's DefaultHashSeed (pkg/maglev/maglev.go): 12 bytes, base64. */
export const MAGLEV_DEFAULT_HASH_SEED = 'JLfvgnHc2kaSUFaI';
/** Cilium's default table size (pkg/maglev/maglev.go DefaultTableSize). */
export const MAGLEV_CILIUM_DEFAULT_TABLE_SIZE = 16381;
/**
 * This project's default M: small, so a table is cheap to write and read back. Must equal
 * LB_MAGLEV_LUT_SIZE in bpf/kpr/maglev.h (the inner map's value is M backend ids).
 */
export const MAGLEV_DEFAULT_TABLE_SIZE = 251;
/** The sizes Cilium accepts for --bpf-lb-maglev-table-size (all prime). */
export const MAGLEV_TABLE_SIZES: readonly number[] = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071];

export class MaglevError extends Error {
  override name = 'MaglevError';
}

const MASK64 = (1n << 64n) - 1n;
const C1 = 0x87c37b91114253d5n;
const C2 = 0x4cf5ad432745937fn;
const rotl64 = (x: bigint, r: bigint) => ((x << r) | (x >> (64n - r))) & MASK64;
const mul64 = (a: bigint, b: bigint) => (a * b) & MASK64;

function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = mul64(k, 0xff51afd7ed558ccdn);
  k ^= k >> 33n;
  k = mul64(k, 0xc4ceb9fe1a85ec53n);
  k ^= k >> 33n;
  return k;
}

function readU64LE(data: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(data[at + i]);
  return v;
}

/**
 * MurmurHash3_x64_128 (Austin Appleby's smhasher, MurmurHash3.cpp; Cilium's pkg/murmur3
 * Hash128 on a little-endian machine): the two 64-bit halves.
 */
export function murmur3Hash128(data: Uint8Array, seed: number): [bigint, bigint] {
  const nblocks = Math.floor(data.length / 16);
  let h1 = BigInt(seed >>> 0);
  let h2 = h1;
  for (let i = 0; i < nblocks; i++) {
    let k1 = readU64LE(data, i * 16);
    let k2 = readU64LE(data, i * 16 + 8);
    k1 = mul64(rotl64(mul64(k1, C1), 31n), C2);
    h1 = rotl64(h1 ^ k1, 27n);
    h1 = (mul64((h1 + h2) & MASK64, 5n) + 0x52dce729n) & MASK64;
    k2 = mul64(rotl64(mul64(k2, C2), 33n), C1);
    h2 = rotl64(h2 ^ k2, 31n);
    h2 = (mul64((h2 + h1) & MASK64, 5n) + 0x38495ab5n) & MASK64;
  }
  const tail = data.subarray(nblocks * 16);
  let k1 = 0n;
  let k2 = 0n;
  for (let i = tail.length - 1; i >= 8; i--) k2 ^= BigInt(tail[i]) << BigInt((i - 8) * 8);
  if (tail.length > 8) h2 ^= mul64(rotl64(mul64(k2, C2), 33n), C1);
  for (let i = Math.min(tail.length, 8) - 1; i >= 0; i--) k1 ^= BigInt(tail[i]) << BigInt(i * 8);
  if (tail.length > 0) h1 ^= mul64(rotl64(mul64(k1, C1), 31n), C2);
  const len = BigInt(data.length);
  h1 ^= len;
  h2 ^= len;
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  return [h1, h2];
}

/** The seeds Cilium derives from the 12-byte base64 hash seed (maglev.Init): big-endian words. */
export interface MaglevSeeds {
  /** For the backend names' MurmurHash3 (bytes 0..3). */
  murmur: number;
  /** HASH_INIT4_SEED of the datapath's jhash (bytes 4..7). */
  jhash0: number;
  /** HASH_INIT6_SEED (bytes 8..11). */
  jhash1: number;
}

export function maglevSeeds(seedBase64: string = MAGLEV_DEFAULT_HASH_SEED): MaglevSeeds {
  const text = typeof atob === 'function' ? safeAtob(seedBase64) : undefined;
  if (text === undefined || text.length !== 12) {
    throw new MaglevError(`maglev hash seed ${JSON.stringify(seedBase64)}: must be 12 bytes in base64 (Cilium's --bpf-lb-maglev-hash-seed), got ${text === undefined ? 'invalid base64' : `${text.length} bytes`}`);
  }
  const word = (at: number) => ((text.charCodeAt(at) << 24) | (text.charCodeAt(at + 1) << 16) | (text.charCodeAt(at + 2) << 8) | text.charCodeAt(at + 3)) >>> 0;
  return { murmur: word(0), jhash0: word(4), jhash1: word(8) };
}

function safeAtob(s: string): string | undefined {
  try {
    return atob(s);
  } catch {
    return undefined;
  }
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

/** Checks M: a prime above 2 (the skip h2 % (M - 1) + 1 must be coprime with M). */
export function checkTableSize(m: number, where = 'maglev table size'): number {
  if (!Number.isInteger(m) || m < 3 || m > 131071 || !isPrime(m)) throw new MaglevError(`${where}: must be a prime in 3..131071 (Cilium: one of ${MAGLEV_TABLE_SIZES.join(', ')}), got ${JSON.stringify(m)}`);
  return m;
}

/** offset and skip of a backend's permutation (getOffsetAndSkip). */
export function offsetAndSkip(name: string, m: number, murmurSeed: number): { offset: number; skip: number } {
  const [h1, h2] = murmur3Hash128(new TextEncoder().encode(name), murmurSeed);
  return { offset: Number(h1 % BigInt(m)), skip: Number((h2 % BigInt(m - 1)) + 1n) };
}

export interface MaglevBackend {
  /** The name hashed: the same on every node (Cilium hashes names, not node-local ids). */
  name: string;
  /** What the table holds for it (a backend id). */
  id: number;
  /** Relative weight (Cilium: loadbalancer.Backend.Weight, default 100); equal weights by default. */
  weight?: number;
}

/**
 * The lookup table of size `m` for `backends`: m entries, each a backend's id (GetLookupTable).
 * Empty for no backends. Weight 0 backends are left out (Cilium gives them no slot).
 */
export function maglevTable(backendsIn: readonly MaglevBackend[], m: number = MAGLEV_DEFAULT_TABLE_SIZE, seeds: MaglevSeeds = maglevSeeds()): number[] {
  checkTableSize(m);
  const names = new Set<string>();
  for (const b of backendsIn) {
    if (names.has(b.name)) throw new MaglevError(`maglev: backend name ${JSON.stringify(b.name)} given twice`);
    names.add(b.name);
    if (b.weight !== undefined && (!Number.isInteger(b.weight) || b.weight < 0)) throw new MaglevError(`maglev: backend ${b.name}: weight must be a non-negative integer, got ${b.weight}`);
  }
  // Sorted by name (sort.Strings: byte order), so every node builds the same table.
  const backends = backendsIn.filter((b) => (b.weight ?? 100) > 0).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const l = backends.length;
  if (l === 0) return [];
  const perm = backends.map((b) => offsetAndSkip(b.name, m, seeds.murmur));
  const weights = backends.map((b) => b.weight ?? 100);
  const weightSum = weights.reduce((s, w) => s + w, 0);
  const weightCntr = weights.map((w) => w / l);
  // Weights change the turns only when they are used (Cilium: weightSum / l > 1, integer division).
  const weighted = Math.floor(weightSum / l) > 1;
  const next = new Array<number>(l).fill(0);
  const entry = new Array<number>(m).fill(-1);
  // The slot of a backend's j-th choice: (offset + j * skip) % m, as getPermutation's recurrence.
  const slotOf = (i: number, j: number) => (perm[i].offset + ((j * perm[i].skip) % m)) % m; // j * skip < 2^34: exact
  for (let n = 0; n < m; n++) {
    let i = n % l;
    for (;;) {
      if (weighted) {
        if ((n + 1) * weights[i] < Math.floor(weightCntr[i])) {
          i = (i + 1) % l;
          continue;
        }
        weightCntr[i] += weightSum;
      }
      let c = slotOf(i, next[i]);
      while (entry[c] >= 0) {
        next[i]++;
        c = slotOf(i, next[i]);
      }
      entry[c] = i;
      next[i]++;
      break;
    }
  }
  return entry.map((i) => backends[i].id);
}

// ---- the datapath's side: which slot a packet reads (bpf/kpr/maglev.h) ----

const rol32 = (w: number, s: number) => ((w << s) | (w >>> (32 - s))) >>> 0;

/** __jhash_mix (include/linux/jhash.h), on a [a, b, c] triple. */
function jhashMix(v: [number, number, number]): void {
  let [a, b, c] = v;
  a = (a - c) >>> 0; a = (a ^ rol32(c, 4)) >>> 0; c = (c + b) >>> 0;
  b = (b - a) >>> 0; b = (b ^ rol32(a, 6)) >>> 0; a = (a + c) >>> 0;
  c = (c - b) >>> 0; c = (c ^ rol32(b, 8)) >>> 0; b = (b + a) >>> 0;
  a = (a - c) >>> 0; a = (a ^ rol32(c, 16)) >>> 0; c = (c + b) >>> 0;
  b = (b - a) >>> 0; b = (b ^ rol32(a, 19)) >>> 0; a = (a + c) >>> 0;
  c = (c - b) >>> 0; c = (c ^ rol32(b, 4)) >>> 0; b = (b + a) >>> 0;
  v[0] = a; v[1] = b; v[2] = c;
}

/** __jhash_final (include/linux/jhash.h): returns c. */
function jhashFinal(a: number, b: number, c: number): number {
  c = (c ^ b) >>> 0; c = (c - rol32(b, 14)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 11)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 25)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 16)) >>> 0;
  a = (a ^ c) >>> 0; a = (a - rol32(c, 4)) >>> 0;
  b = (b ^ a) >>> 0; b = (b - rol32(a, 14)) >>> 0;
  c = (c ^ b) >>> 0; c = (c - rol32(b, 24)) >>> 0;
  return c;
}

/** jhash_3words (include/linux/jhash.h). */
export function jhash3words(a: number, b: number, c: number, initval: number): number {
  const iv = (initval + 0xdeadbeef + (3 << 2)) >>> 0;
  return jhashFinal((a + iv) >>> 0, (b + iv) >>> 0, (c + iv) >>> 0);
}

/** A network-order field as a little-endian machine loads it (HASH_WORD*_LE is then the identity). */
const le32 = (bytes: ArrayLike<number>, at = 0) => (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0;
const be16AsLoaded = (port: number) => ((port & 0xff) << 8) | ((port >> 8) & 0xff);

/**
 * The hash bpf/kpr/maglev.h maglev_hash4 computes for a client's packet (Cilium's
 * __hash_from_tuple_v4): `client` the source address as 4 bytes, ports as numbers. The
 * destination address is not part of it.
 */
export function maglevHash4(client: ArrayLike<number>, clientPort: number, servicePort: number, proto: number, seed = maglevSeeds().jhash0): number {
  return jhash3words(le32(client), ((be16AsLoaded(servicePort) << 16) | be16AsLoaded(clientPort)) >>> 0, proto, seed);
}

/** maglev_hash6 (Cilium's __hash_from_tuple_v6): `client` the 16-byte source address. */
export function maglevHash6(client: ArrayLike<number>, clientPort: number, servicePort: number, proto: number, seed = maglevSeeds().jhash1): number {
  const v: [number, number, number] = [le32(client, 0), le32(client, 4), le32(client, 8)];
  jhashMix(v);
  v[0] = (v[0] + le32(client, 12)) >>> 0;
  v[1] = (v[1] + (((be16AsLoaded(servicePort) << 16) | be16AsLoaded(clientPort)) >>> 0)) >>> 0;
  v[2] = (v[2] + proto) >>> 0;
  jhashMix(v);
  v[0] = (v[0] + seed) >>> 0;
  return jhashFinal(v[0], v[1], v[2]);
}
