// Shared by the benchmark programs: the same C is compiled twice, to BPF (clang -target bpf,
// by scripts/build-bpf.sh) and natively (by bench/native.ts at bench time), so that bpfbed's
// time and the native time are for the same source.
//
// Every benchmark is one function f(mem, len) -> u64 with no maps and no helpers: in BPF it is
// a program in section "raw" run the way `bpfbed exec` and uBPF run a snippet (r1 = memory,
// r2 = its length), natively it is called by bench/native/harness.c.
#ifndef BPFBED_BENCH_H
#define BPFBED_BENCH_H

#ifdef __bpf__
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#define BENCH_PROGRAM(name) SEC("raw") __u64 name(__u8 *mem, __u64 len)
#else
#include <stdint.h>
typedef uint8_t __u8;
typedef uint32_t __u32;
typedef uint64_t __u64;
#define BENCH_PROGRAM(name) __u64 name(__u8 *mem, __u64 len)
#endif

#endif
