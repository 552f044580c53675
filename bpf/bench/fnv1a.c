// 64-bit FNV-1a over the whole buffer: per byte one load, an xor and a multiply. The loop
// the uBPF figure (about 290 M instructions/s) is quoted for.
#include "bench.h"

#define FNV_OFFSET_BASIS 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

BENCH_PROGRAM(fnv1a) {
  __u64 hash = FNV_OFFSET_BASIS;
  for (__u64 i = 0; i < len; i++) {
    hash ^= mem[i];
    hash *= FNV_PRIME;
  }
  return hash;
}
