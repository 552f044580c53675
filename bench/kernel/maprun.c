// maprun: the kernel column of the map workloads of `npm run bench`. Loads a BPF object with
// libbpf, fills its maps from stdin, runs one tc program with BPF_PROG_TEST_RUN and prints one
// JSON object. Needs root; built by bench/kernel-maps.ts (cc -O2 ... -lbpf).
//
//   maprun OBJECT PROGRAM REPEAT BATCHES < fill
//
// stdin: one map entry per line, `MAP_NAME KEY_HEX VALUE_HEX` (BPF_MAP_UPDATE_ELEM, BPF_ANY),
// the same entries bpfbed's host API writes (bench/map-workloads.ts).
// Output: {"retval":N,"duration_ns":N,"durations_ns":[...],"repeat":N}, or {"error":"..."} with
// exit status 2. The kernel reports the mean time per run of each test run (attr.test.duration,
// net/bpf/test_run.c bpf_test_timer_leave); duration_ns is the median over the batches. retval is
// the first batch's: the program's 32-bit return value, all a tc test run reports.
#include "tool.h"

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: maprun OBJECT PROGRAM REPEAT BATCHES < fill\n");
		return 2;
	}
	long repeat = strtol(argv[3], NULL, 10), batches = strtol(argv[4], NULL, 10);
	if (repeat < 1 || repeat > 0x7fffffff || batches < 1 || batches > 1000) return fail("bad REPEAT or BATCHES", EINVAL);
	struct bpf_object *obj;
	struct bpf_program *prog;
	int err = load_program(argv[1], argv[2], &obj, &prog);
	if (err) return err;

	char name[256], khex[1024], vhex[8192];
	while (scanf("%255s %1023s %8191s", name, khex, vhex) == 3) {
		err = fill_entry(obj, name, khex, vhex);
		if (err) return err;
	}

	// A minimal Ethernet frame: bpf_prog_test_run_skb needs at least ETH_HLEN bytes.
	uint8_t packet[64] = { 0 };
	uint32_t *durations = calloc((size_t)batches, sizeof *durations);
	if (!durations) return fail("out of memory", ENOMEM);
	uint32_t retval = 0;
	for (long b = 0; b < batches; b++) {
		LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = packet, .data_size_in = sizeof packet, .repeat = (int)repeat);
		err = bpf_prog_test_run_opts(bpf_program__fd(prog), &run);
		if (err) return fail("BPF_PROG_TEST_RUN", err);
		if (b == 0) retval = run.retval;
		durations[b] = run.duration;
	}
	printf("{\"retval\":%u,\"repeat\":%ld,\"durations_ns\":[", retval, repeat);
	for (long b = 0; b < batches; b++) printf("%s%u", b ? "," : "", durations[b]);
	qsort(durations, (size_t)batches, sizeof *durations, cmp_u32);
	double median = batches % 2 ? durations[batches / 2] : (durations[batches / 2 - 1] + durations[batches / 2]) / 2.0;
	printf("],\"duration_ns\":%.1f}\n", median);
	bpf_object__close(obj);
	return 0;
}
