// Parity fixture: a __kconfig extern of a type libbpf cannot fill (an int array: only char arrays
// take a config string; tools/lib/bpf/libbpf.c find_kcfg_type). libbpf refuses to open it
// ("extern (kcfg) 'CONFIG_NR_CPUS': type is unsupported"), and so must bpfbed's loader.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int CONFIG_NR_CPUS[2] __kconfig __weak;

SEC("xdp")
int unsupported_kconfig(struct xdp_md *ctx)
{
	return CONFIG_NR_CPUS[0] ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
