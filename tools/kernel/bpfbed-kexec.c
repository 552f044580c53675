// bpfbed-kexec: runs a raw BPF bytecode program in the real kernel (BPF_PROG_TEST_RUN) and
// prints one JSON object. It is bpfbed's oracle for instruction-set semantics; it needs root.
//
//   bpfbed-kexec [--mem FILE] [--repeat N] [--batches B] [--mode main|subprog] < program.bin
//
// stdin holds the program as raw 8-byte instruction slots (as `bpfbed exec --raw` reads them).
// Output, on stdout:
//   {"accepted":true,"r0":"0x...","retval":N,"duration_ns":N,"durations_ns":[...],"repeat":N,
//    "mode":"main","wrapper_slots":N[,"mem":"hex"]}
//   {"accepted":false,"errno":N,"mode":"main","wrapper_slots":N,"verifier_log":"..."}
//   {"error":"..."}                      (exit status 2: bad input or no BPF at all)
//
// The snippet's calling convention (uBPF / bpf_conformance, and bpfbed's execRaw) is r1 = memory,
// r2 = its length, and BPF_PROG_TEST_RUN reports only a 32-bit retval. So the program is
// rewritten around the snippet; the memory is an array map value (the verifier bounds-checks
// accesses to it at [0, LEN)) and the full 64-bit r0 is stored in a second array map. Both are
// read back after the run. Two layouts:
//
// --mode main (default): the snippet stays the main program, as in bpfbed.
//   r1 = map_value(mem_map, 0) ll ; r2 = LEN       prologue (r1 = 0, r2 = 0 without memory)
//   SNIPPET's main function, every `exit` replaced by `ja EPILOGUE` (same slot count, so its own
//                                                   jumps stay valid)
//   EPILOGUE: r1 = map_value(result_map, 0) ll ; *(u64 *)(r1 + 0) = r0 ; exit
//   SNIPPET's subprograms (after the first pseudo-call / function-address target; the verifier
//                          allows no jump between functions, so the epilogue must sit before them)
//   Pseudo calls and function addresses that cross the epilogue are shifted by its length.
//   A snippet using legacy packet loads (LD_ABS/LD_IND, RFC 9669 §5.5) keeps r1 = the context
//   (the kernel requires r6 = ctx for them) and its memory is the test-run packet instead.
//
// --mode subprog: the snippet, unchanged, is a BPF-to-BPF subprogram of a wrapper
//   r1 = map_value(mem_map, 0) ll ; r2 = LEN ; call SNIPPET ; EPILOGUE ; SNIPPET...
//   (kernel/bpf/verifier.c verifies static subprograms in the caller's context). No rewriting,
//   but one more call frame, and returning a stack pointer is refused.
//
// Anything the kernel refuses (a snippet dereferencing r1 without memory: r1 is a scalar, dead
// code, ...) is reported as not accepted with the verifier log, whose instruction indices count
// the prologue (`wrapper_slots` before the snippet's first slot).
//
// The program is a BPF_PROG_TYPE_SOCKET_FILTER (test-runnable through bpf_prog_test_run_skb,
// net/bpf/test_run.c). That function pulls the 14-byte Ethernet header off the test packet
// (eth_type_trans) for this type, so the packet handed in is 14 zero bytes, then the memory.
// `--repeat N` is passed to the kernel, which reports the mean time per run (attr.test.duration).
// `--batches B` repeats that test run B times on the one loaded program (verifying a long loop
// can take the verifier a while) and reports every batch's mean and their median as duration_ns.
// r0 and the memory are read after the first batch: memory is written once, before it, so with
// repeat > 1 a snippet that writes memory runs again on its own output (use repeat 1 to check it).
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "json.h"

#define MAX_INPUT_BYTES (64u << 20)
#define LOG_BUF_SIZE (4u << 20)
/* The tail of a long verifier log holds the reason for a rejection; keep the output readable. */
#define LOG_TAIL_BYTES (256u << 10)
#define PACKET_BYTES 64
#define ETH_HEADER_BYTES 14
/* Slots a layout adds around the snippet: prologue (at most 3) and epilogue / call (at most 5). */
#define WRAPPER_MAX_SLOTS 8
#define EPILOGUE_SLOTS 4

static int fail(const char *what, int err) {
  char msg[512];
  if (err)
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  else
    snprintf(msg, sizeof msg, "%s", what);
  fputs("{\"error\":", stdout);
  json_string(stdout, msg, strlen(msg));
  fputs("}\n", stdout);
  return 2;
}

static uint8_t *read_all(FILE *in, size_t *len_out, const char *what) {
  size_t cap = 4096, len = 0;
  uint8_t *buf = malloc(cap);
  if (!buf) return NULL;
  for (;;) {
    if (len == cap) {
      if (cap >= MAX_INPUT_BYTES) {
        fprintf(stderr, "bpfbed-kexec: %s is larger than %u bytes\n", what, MAX_INPUT_BYTES);
        free(buf);
        return NULL;
      }
      cap *= 2;
      uint8_t *grown = realloc(buf, cap);
      if (!grown) {
        free(buf);
        return NULL;
      }
      buf = grown;
    }
    size_t n = fread(buf + len, 1, cap - len, in);
    len += n;
    if (n == 0) break;
  }
  *len_out = len;
  return buf;
}

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm) {
  struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
  return i;
}

/* lddw dst, map_value(fd) + 0: two slots (RFC 9669 §5.4, src = BPF_PSEUDO_MAP_VALUE). */
static int emit_map_value(struct bpf_insn *at, uint8_t dst, int map_fd) {
  at[0] = insn(BPF_LD | BPF_IMM | BPF_DW, dst, BPF_PSEUDO_MAP_VALUE, 0, map_fd);
  at[1] = insn(0, 0, 0, 0, 0);
  return 2;
}

static int by_value(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/* Median of the batches' mean times (sorts a copy; the output keeps the batches in order). */
static uint32_t median(const uint32_t *values, size_t n) {
  uint32_t sorted[1000];
  memcpy(sorted, values, n * sizeof *values);
  qsort(sorted, n, sizeof *sorted, by_value);
  return n % 2 ? sorted[n / 2] : (uint32_t)(((uint64_t)sorted[n / 2 - 1] + sorted[n / 2]) / 2);
}

static int create_array(const char *name, uint32_t value_size) {
  return bpf_map_create(BPF_MAP_TYPE_ARRAY, name, sizeof(uint32_t), value_size, 1, NULL);
}

static int is_exit(const struct bpf_insn *in) { return in->code == (BPF_JMP | BPF_EXIT); }

/* Pseudo calls and function addresses (lddw src = BPF_PSEUDO_FUNC) hold a target relative to
 * the next slot (kernel/bpf/verifier.c: i + insn->imm + 1). */
static int has_relative_target(const struct bpf_insn *in) {
  return (in->code == (BPF_JMP | BPF_CALL) && in->src_reg == BPF_PSEUDO_CALL) ||
         (in->code == (BPF_LD | BPF_IMM | BPF_DW) && in->src_reg == BPF_PSEUDO_FUNC);
}

static int uses_packet_loads(const struct bpf_insn *code, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t mode = BPF_MODE(code[i].code);
    if (BPF_CLASS(code[i].code) == BPF_LD && (mode == BPF_ABS || mode == BPF_IND)) return 1;
  }
  return 0;
}

/* Where the main function ends: at the first subprogram, the lowest relative target > 0. */
static size_t main_length(const struct bpf_insn *code, size_t n) {
  size_t first = n;
  for (size_t i = 0; i < n; i++) {
    if (!has_relative_target(&code[i])) continue;
    long target = (long)i + 1 + code[i].imm;
    if (target > 0 && (size_t)target < first) first = (size_t)target;
  }
  return first;
}

/* Main mode puts the epilogue right after the main function, where the kernel would refuse a
 * fall-through (check_subprogs in kernel/bpf/verifier.c: every function ends in exit or an
 * unconditional jump) and a jump out of the function. A snippet that does either is run in
 * subprog mode instead, so that the verifier judges the snippet as written. */
static int main_mode_hides_an_error(const struct bpf_insn *code, size_t n) {
  size_t main_len = main_length(code, n);
  uint8_t last = code[main_len - 1].code;
  if (last != (BPF_JMP | BPF_EXIT) && last != (BPF_JMP | BPF_JA) && last != (BPF_JMP32 | BPF_JA)) return 1;
  for (size_t i = 0; i < main_len; i++) {
    uint8_t cls = BPF_CLASS(code[i].code), op = BPF_OP(code[i].code);
    if ((cls != BPF_JMP && cls != BPF_JMP32) || op == BPF_CALL || op == BPF_EXIT) continue;
    /* gotol (JMP32 | JA) jumps by imm, every other jump by off (RFC 9669 §4.3) */
    long off = (cls == BPF_JMP32 && op == BPF_JA) ? code[i].imm : code[i].off;
    long target = (long)i + 1 + off;
    if (target >= (long)main_len) return 1;
  }
  return 0;
}

/* r1 = memory (or 0, or left as the context) ; r2 = its length. Returns the slots written. */
static int emit_prologue(struct bpf_insn *at, int mem_fd, size_t mem_len, int keep_ctx) {
  int n = 0;
  if (keep_ctx) {
    /* r1 stays the context: LD_ABS/LD_IND read the packet through r6 = ctx. */
  } else if (mem_fd >= 0) {
    n += emit_map_value(&at[n], BPF_REG_1, mem_fd);
  } else {
    at[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_1, 0, 0, 0);
  }
  at[n++] = insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_2, 0, 0, (int32_t)mem_len);
  return n;
}

/* *(u64 *)map_value(result_map) = r0 ; exit */
static int emit_epilogue(struct bpf_insn *at, int result_fd) {
  int n = emit_map_value(at, BPF_REG_1, result_fd);
  at[n++] = insn(BPF_STX | BPF_MEM | BPF_DW, BPF_REG_1, BPF_REG_0, 0, 0);
  at[n++] = insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0);
  return n;
}

/* --mode main (see the header). Returns the prologue's slot count, or -1 with *problem set. */
static int build_main(struct bpf_insn *out, const struct bpf_insn *code, size_t n, int mem_fd, size_t mem_len,
                      int keep_ctx, int result_fd, size_t *total, const char **problem) {
  size_t main_len = main_length(code, n);
  int pro = emit_prologue(out, mem_fd, mem_len, keep_ctx);
  const long shift = EPILOGUE_SLOTS; /* targets on the other side of the epilogue move by this */
  for (size_t i = 0; i < n; i++) {
    size_t at = (size_t)pro + i + (i >= main_len ? EPILOGUE_SLOTS : 0);
    struct bpf_insn in = code[i];
    if (i < main_len && is_exit(&in)) {
      long off = (long)(main_len - i - 1); /* to the epilogue, right after the main function */
      if (off > INT16_MAX) {
        *problem = "main function too long to reach the epilogue with a 16-bit jump";
        return -1;
      }
      in = insn(BPF_JMP | BPF_JA, 0, 0, (int16_t)off, 0);
    } else if (has_relative_target(&in)) {
      long target = (long)i + 1 + in.imm;
      int from_main = i < main_len, to_main = target < (long)main_len;
      if (from_main && !to_main) in.imm += shift;
      if (!from_main && to_main) in.imm -= shift;
    }
    out[at] = in;
  }
  if (emit_epilogue(&out[(size_t)pro + main_len], result_fd) != EPILOGUE_SLOTS) {
    *problem = "internal: epilogue size";
    return -1;
  }
  *total = (size_t)pro + n + EPILOGUE_SLOTS;
  return pro;
}

/* --mode subprog (see the header). Returns the slots before the snippet. */
static int build_subprog(struct bpf_insn *out, const struct bpf_insn *code, size_t n, int mem_fd, size_t mem_len,
                         int result_fd, size_t *total) {
  int w = emit_prologue(out, mem_fd, mem_len, 0);
  int call_at = w++;
  w += emit_epilogue(&out[w], result_fd);
  /* The snippet starts right after the wrapper: imm is relative to the next slot. */
  out[call_at] = insn(BPF_JMP | BPF_CALL, 0, BPF_PSEUDO_CALL, 0, w - (call_at + 1));
  memcpy(out + w, code, n * sizeof *code);
  *total = (size_t)w + n;
  return w;
}

int main(int argc, char **argv) {
  const char *mem_path = NULL;
  long repeat = 1;
  long batches = 1;
  int mode_subprog = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--mem") == 0 && i + 1 < argc) {
      mem_path = argv[++i];
    } else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      char *end;
      repeat = strtol(argv[++i], &end, 10);
      if (*end || repeat < 1 || repeat > INT32_MAX) return fail("--repeat wants a positive integer", 0);
    } else if (strcmp(argv[i], "--batches") == 0 && i + 1 < argc) {
      char *end;
      batches = strtol(argv[++i], &end, 10);
      if (*end || batches < 1 || batches > 1000) return fail("--batches wants an integer in 1..1000", 0);
    } else if (strcmp(argv[i], "--mode") == 0 && i + 1 < argc) {
      const char *mode = argv[++i];
      if (strcmp(mode, "main") && strcmp(mode, "subprog")) return fail("--mode is main or subprog", 0);
      mode_subprog = strcmp(mode, "subprog") == 0;
    } else {
      fprintf(stderr, "usage: bpfbed-kexec [--mem FILE] [--repeat N] [--batches B] [--mode main|subprog] < program.bin\n");
      return fail("bad arguments (usage: bpfbed-kexec [--mem FILE] [--repeat N] [--batches B] [--mode main|subprog] < program.bin)", 0);
    }
  }

  const char *mode_name = mode_subprog ? "subprog" : "main";
  size_t code_len;
  uint8_t *code = read_all(stdin, &code_len, "program");
  if (!code) return fail("cannot read the program from stdin", errno);
  if (code_len == 0 || code_len % sizeof(struct bpf_insn))
    return fail("program on stdin must be a non-empty multiple of 8 bytes", 0);

  uint8_t *mem = NULL;
  size_t mem_len = 0;
  if (mem_path) {
    FILE *f = fopen(mem_path, "rb");
    if (!f) return fail("cannot open --mem file", errno);
    mem = read_all(f, &mem_len, "memory");
    fclose(f);
    if (!mem) return fail("cannot read --mem file", errno);
  }

  int result_fd = create_array("bpfbed_r0", sizeof(uint64_t));
  if (result_fd < 0) return fail("cannot create the result array map (need root and BPF)", -result_fd);
  int mem_fd = -1;
  if (mem_len > 0) {
    mem_fd = create_array("bpfbed_mem", (uint32_t)mem_len);
    if (mem_fd < 0) return fail("cannot create the memory array map", -mem_fd);
    uint32_t key = 0;
    int err = bpf_map_update_elem(mem_fd, &key, mem, BPF_ANY);
    if (err) return fail("cannot write the memory array map", -err);
  }

  const struct bpf_insn *snippet = (const struct bpf_insn *)code;
  size_t snippet_slots = code_len / sizeof(struct bpf_insn);
  int packet_loads = uses_packet_loads(snippet, snippet_slots);
  if (packet_loads && mode_subprog) return fail("LD_ABS/LD_IND need --mode main (the kernel refuses them in subprograms)", 0);
  size_t total = snippet_slots + WRAPPER_MAX_SLOTS;
  struct bpf_insn *prog = calloc(total, sizeof *prog);
  if (!prog) return fail("out of memory", ENOMEM);
  if (!mode_subprog && main_mode_hides_an_error(snippet, snippet_slots)) {
    if (packet_loads) {
      /* LD_ABS cannot run in a subprogram: answer as the verifier would, saying who answers. */
      printf("{\"accepted\":false,\"errno\":%d,\"mode\":\"main\",\"wrapper_slots\":0,\"verifier_log\":"
             "\"bpfbed-kexec: the main function falls off its end or jumps out of it (the kernel's "
             "check_subprogs rules)\\n\"}\n",
             EINVAL);
      return 0;
    }
    mode_subprog = 1;
    mode_name = "subprog";
  }
  const char *problem = NULL;
  int n = mode_subprog ? build_subprog(prog, snippet, snippet_slots, mem_fd, mem_len, result_fd, &total)
                       : build_main(prog, snippet, snippet_slots, mem_fd, mem_len, packet_loads, result_fd, &total, &problem);
  if (n < 0) return fail(problem, 0);

  /* Load quietly first; only a rejected program is loaded again for its verifier log. */
  int prog_fd = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bpfbed_snippet", "GPL", prog, total, NULL);
  if (prog_fd < 0) {
    int load_errno = errno;
    char *log = calloc(1, LOG_BUF_SIZE);
    if (!log) return fail("out of memory", ENOMEM);
    LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_level = 1, .log_buf = log, .log_size = LOG_BUF_SIZE);
    int again = bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "bpfbed_snippet", "GPL", prog, total, &opts);
    if (again >= 0) close(again); /* accepted only on the second try: report the first answer */
    size_t log_len = strnlen(log, LOG_BUF_SIZE);
    const char *tail = log;
    if (log_len > LOG_TAIL_BYTES) {
      tail = log + log_len - LOG_TAIL_BYTES;
      log_len = LOG_TAIL_BYTES;
    }
    printf("{\"accepted\":false,\"errno\":%d,\"mode\":\"%s\",\"wrapper_slots\":%d,\"verifier_log\":", load_errno,
           mode_name, n);
    json_string(stdout, tail, log_len);
    fputs("}\n", stdout);
    return 0;
  }

  /* bpf_prog_test_run_skb pulls a 14-byte Ethernet header first (eth_type_trans). */
  size_t packet_len = ETH_HEADER_BYTES + (packet_loads ? mem_len : PACKET_BYTES);
  uint8_t *packet = calloc(1, packet_len);
  if (!packet) return fail("out of memory", ENOMEM);
  if (packet_loads && mem_len) memcpy(packet + ETH_HEADER_BYTES, mem, mem_len);
  uint32_t *durations = calloc((size_t)batches, sizeof *durations);
  if (!durations) return fail("out of memory", ENOMEM);
  uint32_t key = 0;
  uint64_t r0 = 0;
  uint32_t retval = 0;
  for (long b = 0; b < batches; b++) {
    LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = (uint32_t)packet_len,
                .repeat = (int)repeat);
    int err = bpf_prog_test_run_opts(prog_fd, &run);
    if (err) return fail("BPF_PROG_TEST_RUN failed", errno);
    durations[b] = run.duration;
    if (b == 0) {
      retval = run.retval;
      err = bpf_map_lookup_elem(result_fd, &key, &r0);
      if (err) return fail("cannot read the result array map", errno);
      if (mem_fd >= 0) {
        err = bpf_map_lookup_elem(mem_fd, &key, mem);
        if (err) return fail("cannot read back the memory array map", errno);
      }
    }
  }

  printf("{\"accepted\":true,\"r0\":\"0x%llx\",\"retval\":%u,\"duration_ns\":%u,\"durations_ns\":[",
         (unsigned long long)r0, retval, median(durations, (size_t)batches));
  for (long b = 0; b < batches; b++) printf("%s%u", b ? "," : "", durations[b]);
  printf("],\"repeat\":%ld,\"mode\":\"%s\",\"wrapper_slots\":%d", repeat, mode_name, n);
  if (mem_fd >= 0) {
    fputs(",\"mem\":", stdout);
    json_hex(stdout, mem, mem_len);
  }
  fputs("}\n", stdout);
  /* Maps and the program are freed by the kernel when this process exits and its fds close. */
  close(prog_fd);
  if (mem_fd >= 0) close(mem_fd);
  close(result_fd);
  free(prog);
  free(code);
  free(mem);
  free(durations);
  free(packet);
  return 0;
}
