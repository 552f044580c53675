// packetrun: the kernel column of the NodePort rows of the per-packet bench
// (bench/packets/nodeport-kernel.ts). Loads a BPF object with libbpf, fills its maps from stdin,
// then runs one tc program with BPF_PROG_TEST_RUN on a list of packets, in order, each test run
// with repeat 1, back to back (every packet read before the first run, every result printed
// after the last, so no I/O sits between runs). Needs root; built by nodeport-kernel.ts
// (cc -O2 ... -lbpf), run inside the bench's network namespace (bpf_fib_lookup reads the routes of
// the caller's namespace: net/bpf/test_run.c bpf_prog_test_run_skb uses its loopback device).
//
//   packetrun OBJECT PROGRAM < input
//
// input: map entries, one per line `MAP_NAME KEY_HEX VALUE_HEX` (BPF_MAP_UPDATE_ELEM, BPF_ANY),
// then a line `packets`, then one line per packet `RUNS FRAME_HEX`: that frame test-run RUNS
// times, each run on a fresh copy (a repeat count would rerun the packet the first run rewrote).
// Output: one line per packet, {"retval":N,"out":"HEX","min":N,"median":N,"mean":N} (the runs'
// attr.test.duration in ns: net/bpf/test_run.c bpf_test_timer_continue, time_spent / repeat,
// which for repeat 1 is one run plus one ktime_get_ns(); retval and out from the first run), or
// {"error":"..."} with exit status 2.
#include "tool.h"

#define MAX_FRAME 9216
#define MAX_PACKETS 200000
#define MAX_RUNS 1000000

struct packet {
	uint8_t *data;
	size_t len;
	long runs;
	uint32_t retval;
	uint8_t *out;
	uint32_t out_len;
	uint32_t *durations;
};

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: packetrun OBJECT PROGRAM < input\n");
		return 2;
	}
	struct bpf_object *obj;
	struct bpf_program *prog;
	int err = load_program(argv[1], argv[2], &obj, &prog);
	if (err) return err;

	static char name[256], khex[1024], vhex[8192], fhex[2 * MAX_FRAME + 1];
	for (;;) {
		if (scanf("%255s", name) != 1) return fail("input ends before the line 'packets'", EINVAL);
		if (strcmp(name, "packets") == 0) break;
		if (scanf("%1023s %8191s", khex, vhex) != 2) return fail("fill line without key and value", EINVAL);
		err = fill_entry(obj, name, khex, vhex);
		if (err) return err;
	}

	struct packet *packets = calloc(MAX_PACKETS, sizeof *packets);
	if (!packets) return fail("out of memory", ENOMEM);
	long n = 0;
	long runs;
	while (scanf("%ld %18432s", &runs, fhex) == 2) {
		if (n == MAX_PACKETS) return fail("too many packets", E2BIG);
		if (runs < 1 || runs > MAX_RUNS) return fail("RUNS out of range", EINVAL);
		struct packet *p = &packets[n++];
		p->data = malloc(MAX_FRAME);
		p->out = malloc(MAX_FRAME + 256);
		p->durations = calloc((size_t)runs, sizeof *p->durations);
		if (!p->data || !p->out || !p->durations) return fail("out of memory", ENOMEM);
		if (unhex(fhex, p->data, MAX_FRAME, &p->len)) return fail("packet line is not hex", EINVAL);
		p->runs = runs;
	}

	static uint8_t scratch[MAX_FRAME + 256];
	for (long i = 0; i < n; i++) {
		struct packet *p = &packets[i];
		for (long r = 0; r < p->runs; r++) {
			LIBBPF_OPTS(bpf_test_run_opts, run, .data_in = p->data, .data_size_in = (uint32_t)p->len,
				    .data_out = r ? scratch : p->out, .data_size_out = MAX_FRAME + 256, .repeat = 1);
			err = bpf_prog_test_run_opts(bpf_program__fd(prog), &run);
			if (err) return fail("BPF_PROG_TEST_RUN", err);
			if (r == 0) {
				p->retval = run.retval;
				p->out_len = run.data_size_out;
			}
			p->durations[r] = run.duration;
		}
	}

	for (long i = 0; i < n; i++) {
		struct packet *p = &packets[i];
		double sum = 0;
		for (long r = 0; r < p->runs; r++) sum += p->durations[r];
		qsort(p->durations, (size_t)p->runs, sizeof *p->durations, cmp_u32);
		printf("{\"retval\":%u,\"out\":\"", p->retval);
		for (uint32_t b = 0; b < p->out_len; b++) printf("%02x", p->out[b]);
		printf("\",\"min\":%u,\"median\":%u,\"mean\":%.1f}\n", p->durations[0], p->durations[p->runs / 2], sum / (double)p->runs);
	}
	bpf_object__close(obj);
	return 0;
}
