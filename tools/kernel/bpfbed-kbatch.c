// bpfbed-kbatch: runs many raw BPF programs in the real kernel (BPF_PROG_TEST_RUN) in one
// process, one JSON line per program. It is the batch variant of bpfbed-kexec.c, for the
// differential tests of the instruction set (src/node/differential/), where starting a process
// per program (5-8 ms) would dominate. It needs root.
//
//   bpfbed-kbatch < records
//
// stdin is a stream of records, each: u32 code_len, u32 mem_len (little-endian), code_len bytes
// of raw 8-byte instruction slots, mem_len bytes of memory. Output on stdout, one line per record
// in order, flushed after each:
//   {"i":N,"accepted":true,"retval":N,"mem":"hex"}
//   {"i":N,"accepted":false,"errno":N,"verifier_log":"...last lines..."}
//   {"i":N,"error":"..."}                 (this record could not be run; the next ones still are)
// and a last line {"done":N} after the end of the input. Exit status 2 with {"error":"..."} when
// the tool itself cannot go on (no BPF, truncated input).
//
// The calling convention is bpfbed's execRaw (src/vm/exec.ts) and uBPF's: r1 = memory, r2 = its
// length. The memory is the value of an array map (one map per distinct length, reused), so the
// verifier bounds-checks accesses to it at [0, LEN), and it is read back after the run. The
// program gets a prologue and nothing else:
//   r1 = map_value(mem_map, 0) ll ; r2 = LEN       (r1 = 0 without memory)
//   PROGRAM, unchanged (its jumps and pseudo calls are relative, so they stay valid)
// Unlike bpfbed-kexec --mode main there is no epilogue: BPF_PROG_TEST_RUN reports r0's low 32
// bits as `retval`, and a program that wants more reports it through the memory (the
// differential generator stores every register there). Verifier log indices count the prologue
// (PROLOGUE_SLOTS with memory, 2 without).
//
// The program is a BPF_PROG_TYPE_SOCKET_FILTER, test-run as bpfbed-kexec does (net/bpf/test_run.c
// bpf_prog_test_run_skb: a 14-byte Ethernet header is pulled off the packet first), once.
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "json.h"

#define MAX_CODE_BYTES (1u << 20)
#define MAX_MEM_BYTES (64u << 10)
#define LOG_BUF_SIZE (1u << 20)
/* The reason for a rejection is at the end of the log; keep each output line short. */
#define LOG_TAIL_BYTES 1536
#define PACKET_BYTES (14 + 64)
#define PROLOGUE_SLOTS 3
#define MAX_MEM_MAPS 16

static int fatal(const char *what, int err) {
  char msg[512];
  if (err)
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  else
    snprintf(msg, sizeof msg, "%s", what);
  fputs("{\"error\":", stdout);
  json_string(stdout, msg, strlen(msg));
  fputs("}\n", stdout);
  fflush(stdout);
  return 2;
}

static void record_error(long index, const char *what, int err) {
  char msg[512];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  printf("{\"i\":%ld,\"error\":", index);
  json_string(stdout, msg, strlen(msg));
  fputs("}\n", stdout);
  fflush(stdout);
}

/* Reads exactly len bytes; 1 on success, 0 at a clean end of input before any byte, -1 if cut. */
static int read_exact(void *buf, size_t len) {
  size_t got = fread(buf, 1, len, stdin);
  if (got == len) return 1;
  return got == 0 ? 0 : -1;
}

static uint32_t le32(const uint8_t *b) { return b[0] | (b[1] << 8) | (b[2] << 16) | ((uint32_t)b[3] << 24); }

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  return i;
}

/* Array maps holding the memory, one per length (a map's value size is fixed at creation). */
static struct {
  uint32_t len;
  int fd;
} mem_maps[MAX_MEM_MAPS];
static int mem_map_count;

static int mem_map_for(uint32_t len) {
  for (int i = 0; i < mem_map_count; i++)
    if (mem_maps[i].len == len) return mem_maps[i].fd;
  if (mem_map_count == MAX_MEM_MAPS) {
    /* Rarely more lengths than slots: drop the oldest (a loaded program keeps its own reference). */
    close(mem_maps[0].fd);
    memmove(&mem_maps[0], &mem_maps[1], (MAX_MEM_MAPS - 1) * sizeof mem_maps[0]);
    mem_map_count--;
  }
  int fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bpfbed_kbatch", sizeof(uint32_t), len, 1, NULL);
  if (fd < 0) return fd;
  mem_maps[mem_map_count].len = len;
  mem_maps[mem_map_count].fd = fd;
  mem_map_count++;
  return fd;
}

/* r1 = map_value(mem_fd) ll (RFC 9669 §5.4, src = BPF_PSEUDO_MAP_VALUE) or r1 = 0 ; r2 = len */
static int emit_prologue(struct bpf_insn *at, int mem_fd, uint32_t mem_len) {
  int n = 0;
  if (mem_fd >= 0) {
    at[n++] = insn(BPF_LD | BPF_IMM | BPF_DW, BPF_REG_1, BPF_PSEUDO_MAP_VALUE, 0, mem_fd);
    at[n++] = insn(0, 0, 0, 0, 0);
  } else {
    at[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0);
  }
  at[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)mem_len);
  return n;
}

static char *log_buf;

static void report_rejection(long index, const struct bpf_insn *prog, size_t slots, int load_errno) {
  LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_buf = log_buf, .log_size = LOG_BUF_SIZE);
  log_buf[0] = 0;
  int again = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bpfbed_kbatch", "GPL", prog, slots, &opts);
  if (again >= 0) close(again); /* accepted on the second try: the first answer stands */
  size_t log_len = strnlen(log_buf, LOG_BUF_SIZE);
  const char *tail = log_buf;
  if (log_len > LOG_TAIL_BYTES) {
    tail = log_buf + log_len - LOG_TAIL_BYTES;
    log_len = LOG_TAIL_BYTES;
  }
  printf("{\"i\":%ld,\"accepted\":false,\"errno\":%d,\"verifier_log\":", index, load_errno);
  json_string(stdout, tail, log_len);
  fputs("}\n", stdout);
  fflush(stdout);
}

int main(int argc, char **argv) {
  (void)argv;
  if (argc != 1) return fatal("usage: bpfbed-kbatch < records (see tools/kernel/bpfbed-kbatch.c)", 0);
  uint8_t *code = malloc(MAX_CODE_BYTES);
  uint8_t *mem = malloc(MAX_MEM_BYTES);
  struct bpf_insn *prog = malloc(MAX_CODE_BYTES + PROLOGUE_SLOTS * sizeof(struct bpf_insn));
  log_buf = malloc(LOG_BUF_SIZE);
  static uint8_t packet[PACKET_BYTES];
  if (!code || !mem || !prog || !log_buf) return fatal("out of memory", ENOMEM);

  long index = 0;
  for (;; index++) {
    uint8_t header[8];
    int got = read_exact(header, sizeof header);
    if (got == 0) break;
    if (got < 0) return fatal("input ends inside a record header", 0);
    uint32_t code_len = le32(header), mem_len = le32(header + 4);
    if (code_len == 0 || code_len % sizeof(struct bpf_insn) || code_len > MAX_CODE_BYTES)
      return fatal("a record's code length is not a non-empty multiple of 8 of at most 1 MiB", 0);
    if (mem_len > MAX_MEM_BYTES) return fatal("a record's memory is larger than 64 KiB", 0);
    if (read_exact(code, code_len) != 1 || (mem_len && read_exact(mem, mem_len) != 1))
      return fatal("input ends inside a record", 0);

    int mem_fd = -1;
    if (mem_len) {
      mem_fd = mem_map_for(mem_len);
      if (mem_fd < 0) return fatal("cannot create the memory array map (need root and BPF)", -mem_fd);
      uint32_t key = 0;
      int err = bpf_map_update_elem(mem_fd, &key, mem, BPF_ANY);
      if (err) {
        record_error(index, "cannot write the memory array map", errno);
        continue;
      }
    }
    int pro = emit_prologue(prog, mem_fd, mem_len);
    memcpy(prog + pro, code, code_len);
    size_t slots = (size_t)pro + code_len / sizeof(struct bpf_insn);

    /* Load quietly; only a rejected program is loaded again for its verifier log. */
    int prog_fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bpfbed_kbatch", "GPL", prog, slots, NULL);
    if (prog_fd < 0) {
      int load_errno = errno;
      if (load_errno == EPERM && index == 0) return fatal("BPF_PROG_LOAD refused (need root)", load_errno);
      report_rejection(index, prog, slots, load_errno);
      continue;
    }
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = PACKET_BYTES, .repeat = 1);
    int err = bpf_prog_test_run_opts(prog_fd, &run);
    if (err) {
      record_error(index, "BPF_PROG_TEST_RUN failed", errno);
      close(prog_fd);
      continue;
    }
    if (mem_fd >= 0) {
      uint32_t key = 0;
      err = bpf_map_lookup_elem(mem_fd, &key, mem);
      if (err) {
        record_error(index, "cannot read back the memory array map", errno);
        close(prog_fd);
        continue;
      }
    }
    close(prog_fd);
    printf("{\"i\":%ld,\"accepted\":true,\"retval\":%u,\"mem\":", index, run.retval);
    json_hex(stdout, mem, mem_len);
    fputs("}\n", stdout);
    fflush(stdout);
  }
  printf("{\"done\":%ld}\n", index);
  for (int i = 0; i < mem_map_count; i++) close(mem_maps[i].fd);
  free(code);
  free(mem);
  free(prog);
  free(log_buf);
  return 0;
}
