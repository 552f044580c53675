// Parity fixture: __kconfig externs of every type libbpf fills (tools/lib/bpf/libbpf.c
// find_kcfg_type: bool, char, 2/4/8-byte integers signed and unsigned, enum libbpf_tristate,
// char arrays), from config lines of each form (y, "string", decimal, hex) and one that no
// config has (a weak extern: 0). The program copies them into `seen`, so a packet run compares
// them by value as well as the .kconfig map's bytes after load.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern enum libbpf_tristate CONFIG_BPF_SYSCALL __kconfig __weak;
extern _Bool CONFIG_BPF_JIT __kconfig __weak;
extern char CONFIG_NET __kconfig __weak;
extern int CONFIG_HZ __kconfig __weak;
extern unsigned short CONFIG_NR_CPUS __kconfig __weak;
extern long long CONFIG_LOG_BUF_SHIFT __kconfig __weak;
extern unsigned long long CONFIG_ILLEGAL_POINTER_VALUE __kconfig __weak;
extern char CONFIG_DEFAULT_HOSTNAME[8] __kconfig __weak;
extern char CONFIG_LOCALVERSION[4] __kconfig __weak; // longer in most configs: cut to 3 and a NUL
extern int CONFIG_BPFBED_NOT_A_CONFIG __kconfig __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 12);
	__type(key, __u32);
	__type(value, __u64);
} seen SEC(".maps");

static __always_inline void store(__u32 slot, __u64 value)
{
	bpf_map_update_elem(&seen, &slot, &value, BPF_ANY);
}

SEC("xdp")
int kconfig_values(struct xdp_md *ctx)
{
	__u64 host = 0, local = 0;

	__builtin_memcpy(&host, CONFIG_DEFAULT_HOSTNAME, 8);
	__builtin_memcpy(&local, CONFIG_LOCALVERSION, 4);
	store(0, LINUX_KERNEL_VERSION);
	store(1, CONFIG_BPF_SYSCALL);
	store(2, CONFIG_BPF_JIT);
	store(3, CONFIG_NET);
	store(4, CONFIG_HZ);
	store(5, CONFIG_NR_CPUS);
	store(6, CONFIG_LOG_BUF_SHIFT);
	store(7, CONFIG_ILLEGAL_POINTER_VALUE);
	store(8, host);
	store(9, local);
	store(10, CONFIG_BPFBED_NOT_A_CONFIG);
	return CONFIG_BPF_SYSCALL == TRI_YES ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
