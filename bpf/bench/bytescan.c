// A byte scan: counts the lines in a text buffer (bytes equal to '\n'), a compare and a
// conditional add per byte.
#include "bench.h"

BENCH_PROGRAM(bytescan) {
  __u64 lines = 0;
  for (__u64 i = 0; i < len; i++) {
    if (mem[i] == '\n') lines++;
  }
  return lines;
}
