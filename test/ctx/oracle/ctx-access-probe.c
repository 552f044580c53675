// Asks the running kernel's verifier which context accesses it accepts: for a program type
// (and expected attach type), every offset of the context, every size (1, 2, 4, 8) and both
// directions, it loads `r0 = *(size *)(r1 + off)` or `*(size *)(r1 + off) = r2` and prints one
// line per accepted access: "r OFF SIZE" / "w OFF SIZE". Used by test/ctx/access-matrix.test.ts
// (root only); bpfbed never needs it.
//   cc -O2 -o ctx-access-probe ctx-access-probe.c -lbpf
//   ctx-access-probe PROG_TYPE EXPECTED_ATTACH_TYPE CTX_SIZE
#include <bpf/bpf.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int try_load(int type, int attach, struct bpf_insn *insns, int n)
{
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = attach);
	int fd = bpf_prog_load(type, NULL, "GPL", insns, n, &opts);
	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: %s PROG_TYPE EXPECTED_ATTACH_TYPE CTX_SIZE\n", argv[0]);
		return 2;
	}
	int type = atoi(argv[1]), attach = atoi(argv[2]), size = atoi(argv[3]);
	static const int sizes[4] = { BPF_B, BPF_H, BPF_W, BPF_DW };
	static const int bytes[4] = { 1, 2, 4, 8 };
	for (int off = 0; off < size; off++) {
		for (int s = 0; s < 4; s++) {
			struct bpf_insn rd[] = {
				{ .code = BPF_LDX | BPF_MEM | sizes[s], .dst_reg = 0, .src_reg = 1, .off = off },
				{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
				{ .code = BPF_JMP | BPF_EXIT },
			};
			struct bpf_insn wr[] = {
				{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 2, .imm = 0 },
				{ .code = BPF_STX | BPF_MEM | sizes[s], .dst_reg = 1, .src_reg = 2, .off = off },
				{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 1 },
				{ .code = BPF_JMP | BPF_EXIT },
			};
			if (try_load(type, attach, rd, 3))
				printf("r %d %d\n", off, bytes[s]);
			if (try_load(type, attach, wr, 4))
				printf("w %d %d\n", off, bytes[s]);
		}
	}
	return 0;
}
