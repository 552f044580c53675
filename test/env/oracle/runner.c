// Oracle runner (root only, never used by bpfbed itself): loads a BPF object with libbpf and,
// for each stdin line "<map value hex> <packet hex>", writes the value into entry 0 of the named
// array map, runs the program once with BPF_PROG_TEST_RUN on the packet in the current network
// namespace, and prints "<retval> <map value hex> <packet out hex>".
// Build: gcc -O2 -o runner runner.c -lbpf
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int unhex(const char *s, unsigned char *out, size_t max)
{
	size_t n = strlen(s) / 2;
	if (n > max)
		return -1;
	for (size_t i = 0; i < n; i++)
		sscanf(s + 2 * i, "%2hhx", &out[i]);
	return (int)n;
}

static void hex(const unsigned char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		printf("%02x", b[i]);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: runner OBJ PROG MAP\n");
		return 2;
	}
	struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "runner: cannot load %s\n", argv[1]);
		return 1;
	}
	struct bpf_program *prog = bpf_object__find_program_by_name(obj, argv[2]);
	struct bpf_map *map = bpf_object__find_map_by_name(obj, argv[3]);
	if (!prog || !map) {
		fprintf(stderr, "runner: no program %s or map %s\n", argv[2], argv[3]);
		return 1;
	}
	size_t vsz = bpf_map__value_size(map);
	unsigned char *val = calloc(1, vsz);
	static char line[1 << 16], vhex[1 << 15], phex[1 << 15];
	static unsigned char pkt[8192], out[8192];
	while (fgets(line, sizeof(line), stdin)) {
		if (sscanf(line, "%32767s %32767s", vhex, phex) != 2)
			continue;
		memset(val, 0, vsz);
		unhex(vhex, val, vsz);
		int plen = unhex(phex, pkt, sizeof(pkt));
		__u32 key = 0;
		if (bpf_map_update_elem(bpf_map__fd(map), &key, val, BPF_ANY)) {
			perror("update");
			return 1;
		}
		LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt, .data_size_in = plen,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
		int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
		if (err) {
			printf("ERR %d\n", err);
			fflush(stdout);
			continue;
		}
		bpf_map_lookup_elem(bpf_map__fd(map), &key, val);
		printf("%u ", opts.retval);
		hex(val, vsz);
		printf(" ");
		hex(out, opts.data_size_out);
		printf("\n");
		fflush(stdout);
	}
	return 0;
}
