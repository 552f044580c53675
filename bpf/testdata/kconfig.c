// Loader fixture: __kconfig externs, which libbpf places in a `.kconfig` map.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig __weak;
extern unsigned long long CONFIG_HZ __kconfig __weak;

SEC("xdp")
int uses_kconfig(struct xdp_md *ctx)
{
	if (!CONFIG_BPF_SYSCALL)
		return XDP_ABORTED;
	return LINUX_KERNEL_VERSION > CONFIG_HZ ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
