// A map key whose padding the program never sets: as root the kernel lets it read those stack
// bytes, which hold whatever was there, so the lookup misses an entry the host wrote with zero
// padding. bpfbed fills the stack with a poison byte so the same bug shows here
// (test/helpers/padding.test.ts; found for real in bpf/kpr/sock.c by the kernel parity test).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct padded_key {
	__u8 proto; /* 3 bytes of padding follow */
	__u32 addr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct padded_key);
	__type(value, __u32);
} padded SEC(".maps");

SEC("syscall")
int lookup_unset_padding(void *ctx)
{
	struct padded_key k;
	k.proto = 6;
	k.addr = 0x0a000001;
	__u32 *v = bpf_map_lookup_elem(&padded, &k);
	return v ? *v : 0;
}

SEC("syscall")
int lookup_zeroed_key(void *ctx)
{
	struct padded_key k;
	__builtin_memset(&k, 0, sizeof(k));
	k.proto = 6;
	k.addr = 0x0a000001;
	__u32 *v = bpf_map_lookup_elem(&padded, &k);
	return v ? *v : 0;
}

char LICENSE[] SEC("license") = "GPL";
