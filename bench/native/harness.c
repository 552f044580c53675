// Times a benchmark function compiled natively from the same C as its BPF program
// (bpf/bench/<name>.c, linked in as a separate translation unit so the compiler cannot hoist
// the work out of the timing loop). Prints one JSON line:
//   {"result":"0x...","runs":N,"ns_per_run":median,"batches":B}
//
//   harness MEMFILE MIN_SECONDS BATCHES
// Warms up, sizes a batch so that BATCHES batches take at least MIN_SECONDS, then reports the
// median over the batches of the time per run.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

uint64_t BENCH_ENTRY(uint8_t *mem, uint64_t len);

static volatile uint64_t sink;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s MEMFILE MIN_SECONDS BATCHES\n", argv[0]);
    return 2;
  }
  FILE *f = fopen(argv[1], "rb");
  if (!f) {
    perror(argv[1]);
    return 2;
  }
  fseek(f, 0, SEEK_END);
  long len = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *mem = malloc(len > 0 ? (size_t)len : 1);
  if (!mem || fread(mem, 1, (size_t)len, f) != (size_t)len) {
    fprintf(stderr, "cannot read %s\n", argv[1]);
    return 2;
  }
  fclose(f);
  double min_ns = atof(argv[2]) * 1e9;
  int batches = atoi(argv[3]);
  if (batches < 1) batches = 1;

  uint64_t result = BENCH_ENTRY(mem, (uint64_t)len);
  // Warm-up, and a batch size from the warm-up's speed.
  long per_batch = 1;
  for (;;) {
    double t0 = now_ns();
    for (long i = 0; i < per_batch; i++) sink = BENCH_ENTRY(mem, (uint64_t)len);
    double spent = now_ns() - t0;
    if (spent * batches >= min_ns / 4 || per_batch > (1L << 40)) {
      double per_run = spent / (double)per_batch;
      per_batch = (long)(min_ns / batches / per_run) + 1;
      break;
    }
    per_batch *= 2;
  }

  double *per_run = calloc((size_t)batches, sizeof *per_run);
  for (int b = 0; b < batches; b++) {
    double t0 = now_ns();
    for (long i = 0; i < per_batch; i++) sink = BENCH_ENTRY(mem, (uint64_t)len);
    per_run[b] = (now_ns() - t0) / (double)per_batch;
  }
  qsort(per_run, (size_t)batches, sizeof *per_run, by_value);
  double median = batches % 2 ? per_run[batches / 2] : (per_run[batches / 2 - 1] + per_run[batches / 2]) / 2;
  printf("{\"result\":\"0x%llx\",\"runs\":%ld,\"ns_per_run\":%.3f,\"batches\":%d}\n", (unsigned long long)result,
         per_batch * batches, median, batches);
  return 0;
}
