// Trial-division primes: counts the primes below the 32-bit limit stored at the start of the
// buffer. Pure register arithmetic (a 64-bit modulo per trial) after one load.
#include "bench.h"

BENCH_PROGRAM(primes) {
  if (len < 4) return 0;
  __u32 limit = *(__u32 *)mem;
  __u64 count = 0;
  for (__u64 n = 2; n < limit; n++) {
    __u64 prime = 1;
    for (__u64 d = 2; d * d <= n; d++) {
      if (n % d == 0) {
        prime = 0;
        break;
      }
    }
    count += prime;
  }
  return count;
}
