// Kernel oracle for map behaviour (LRU eviction above all): reads the commands of
// test/maps/lru-script.ts from stdin, runs each map operation from a BPF program
// (BPF_PROG_TEST_RUN of a syscall program) on a pinned CPU, and prints results and survivors.
// Needs root: gcc -O1 -o /tmp/lru-oracle test/maps/oracle/lru-oracle.c -lbpf
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
static int map_fd = -1, prog_fd = -1, map_type;

static void load_prog(void) {
	struct bpf_insn p[] = {
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 6, 1, 0, 0),
		INSN(BPF_LDX | BPF_MEM | BPF_W, 7, 6, 0, 0),   // op
		INSN(BPF_LDX | BPF_MEM | BPF_W, 8, 6, 4, 0),   // key
		INSN(BPF_LDX | BPF_MEM | BPF_W, 9, 6, 8, 0),   // flags
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 8, -4, 0),
		INSN(BPF_ST | BPF_MEM | BPF_DW, 10, 0, -16, 0),
		INSN(BPF_STX | BPF_MEM | BPF_W, 10, 8, -16, 0),
		INSN(BPF_LD | BPF_DW | BPF_IMM, 1, BPF_PSEUDO_MAP_FD, 0, map_fd), INSN(0, 0, 0, 0, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 2, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 2, 0, 0, -4),
		INSN(BPF_JMP | BPF_JNE | BPF_K, 7, 0, 4, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_lookup_elem),
		INSN(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1, 0),
		INSN(BPF_ALU64 | BPF_MOV | BPF_K, 0, 0, 0, 1),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_JNE | BPF_K, 7, 0, 5, 1),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 3, 10, 0, 0),
		INSN(BPF_ALU64 | BPF_ADD | BPF_K, 3, 0, 0, -16),
		INSN(BPF_ALU64 | BPF_MOV | BPF_X, 4, 9, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_update_elem),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
		INSN(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_map_delete_elem),
		INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
	};
	char log[65536];
	LIBBPF_OPTS(bpf_prog_load_opts, o, .prog_flags = BPF_F_SLEEPABLE, .log_buf = log, .log_size = sizeof(log), .log_level = 1);
	if (prog_fd >= 0) close(prog_fd);
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "oracle", "GPL", p, sizeof(p) / sizeof(p[0]), &o);
	if (prog_fd < 0) { fprintf(stderr, "load: %s\n%s\n", strerror(errno), log); exit(1); }
}

static long run(unsigned op, unsigned key, unsigned flags) {
	unsigned ctx[3] = { op, key, flags };
	LIBBPF_OPTS(bpf_test_run_opts, t, .ctx_in = ctx, .ctx_size_in = sizeof(ctx));
	if (bpf_prog_test_run_opts(prog_fd, &t)) { perror("test_run"); exit(1); }
	return (int)t.retval;
}

static void pin(int cpu) {
	cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s);
	if (sched_setaffinity(0, sizeof(s), &s)) { perror("affinity"); exit(1); }
}

static int cmp(const void *a, const void *b) { return (int)(*(unsigned *)a - *(unsigned *)b); }

int main(void) {
	char cmd[32]; unsigned a, b, c;
	pin(0);
	while (scanf("%31s", cmd) == 1) {
		if (!strcmp(cmd, "create")) { // create type max flags
			scanf("%u %u %u", &a, &b, &c);
			if (map_fd >= 0) close(map_fd);
			LIBBPF_OPTS(bpf_map_create_opts, mo, .map_flags = c);
			map_type = a;
			map_fd = bpf_map_create(a, "lru", 4, 8, b, &mo);
			if (map_fd < 0) { perror("create"); return 1; }
			load_prog();
		} else if (!strcmp(cmd, "cpu")) { scanf("%u", &a); pin(a); }
		else if (!strcmp(cmd, "l")) { scanf("%u", &a); run(0, a, 0); }
		else if (!strcmp(cmd, "u")) { scanf("%u %u", &a, &b); printf("%ld ", run(1, a, b)); }
		else if (!strcmp(cmd, "d")) { scanf("%u", &a); printf("%ld ", run(2, a, 0)); }
		else if (!strcmp(cmd, "su")) { scanf("%u", &a); unsigned long long v[256] = { 0 }; for (int i = 0; i < 256; i++) v[i] = a; printf("%d ", bpf_map_update_elem(map_fd, &a, v, 0) ? -errno : 0); }
		else if (!strcmp(cmd, "pr")) { // print the value of a key: per CPU for per-CPU maps
			scanf("%u", &a); unsigned long long v[256] = { 0 }; int n = map_type == BPF_MAP_TYPE_PERCPU_HASH || map_type == BPF_MAP_TYPE_LRU_PERCPU_HASH ? libbpf_num_possible_cpus() : 1;
			if (bpf_map_lookup_elem(map_fd, &a, v)) { printf("\nvalue %u: none\n", a); continue; }
			printf("\nvalue %u:", a); for (int i = 0; i < n; i++) printf(" %llu", v[i]); printf("\n");
		}
		else if (!strcmp(cmd, "dump")) {
			unsigned keys[100000], n = 0, k, next; void *prev = NULL;
			while (!bpf_map_get_next_key(map_fd, prev, &next)) { keys[n++] = next; k = next; prev = &k; }
			qsort(keys, n, sizeof(unsigned), cmp);
			printf("\nkeys:");
			for (unsigned i = 0; i < n; i++) printf(" %u", keys[i]);
			printf("\n");
		}
	}
	return 0;
}
