// What the bench's kernel runners (maprun.c, packetrun.c) share: the JSON error line, hex input,
// libbpf's quiet logging, loading the object and writing one map entry from a fill line.
#ifndef BPFBED_BENCH_TOOL_H
#define BPFBED_BENCH_TOOL_H
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

/** Prints {"error":"what: strerror"} (the output the TypeScript side parses) and returns 2. */
static int fail(const char *what, int err)
{
	printf("{\"error\":\"%s: %s\"}\n", what, strerror(err < 0 ? -err : err));
	return 2;
}

static int unhex(const char *text, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(text);
	if (n % 2 || n / 2 > max) return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int b;
		if (sscanf(text + 2 * i, "%2x", &b) != 1) return -1;
		out[i] = (uint8_t)b;
	}
	*len = n / 2;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return level == LIBBPF_WARN ? vfprintf(stderr, fmt, args) : 0;
}

/** Opens and loads the object and finds the program; on failure returns fail()'s status, else 0. */
static int load_program(const char *path, const char *name, struct bpf_object **obj, struct bpf_program **prog)
{
	libbpf_set_print(quiet);
	*obj = bpf_object__open_file(path, NULL);
	if (!*obj) return fail("bpf_object__open_file", errno);
	int err = bpf_object__load(*obj);
	if (err) return fail("bpf_object__load", err);
	*prog = bpf_object__find_program_by_name(*obj, name);
	if (!*prog) return fail("no such program", ENOENT);
	return 0;
}

/** One fill line `MAP_NAME KEY_HEX VALUE_HEX`: BPF_MAP_UPDATE_ELEM with BPF_ANY. 0, or fail()'s status. */
static int fill_entry(struct bpf_object *obj, const char *name, const char *khex, const char *vhex)
{
	static uint8_t key[512], value[4096];
	size_t klen, vlen;
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	if (!map) return fail("fill names no map of the object", ENOENT);
	if (unhex(khex, key, sizeof key, &klen) || unhex(vhex, value, sizeof value, &vlen)) return fail("fill line is not hex", EINVAL);
	int err = bpf_map__update_elem(map, key, klen, value, vlen, BPF_ANY);
	if (err) return fail("fill: bpf_map_update_elem", err);
	return 0;
}

#endif
