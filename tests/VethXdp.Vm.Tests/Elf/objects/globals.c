// Global data and .kconfig externs: .data, .rodata (with bpf_printk's format), .bss, .rodata.str1.1 (a literal),
// .data.custom, a static and a global variable in each, LINUX_KERNEL_VERSION, CONFIG_* of every kconfig
// kind (bool, tristate, int, char array) and a __weak unknown one. Built by the Makefile here; the tests
// never run clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern _Bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_BPF_JIT __kconfig;
extern int CONFIG_HZ __kconfig;
extern char CONFIG_DEFAULT_HOSTNAME[8] __kconfig;
extern int CONFIG_VETHXDP_NOT_A_CONFIG __kconfig __weak;

__u64 packets = 7;                       /* .data */
static __u32 hits = 0x11223344;          /* .data, static */
const volatile __u32 threshold = 1500;   /* .rodata */
const volatile __u8 mac[6] = { 2, 0, 0, 0, 0, 1 }; /* .rodata */
__u64 drops;                             /* .bss */
static __u32 scratch[4];                 /* .bss, static */
__u32 custom_counter SEC(".data.custom") = 42;

SEC("xdp")
int globals(struct xdp_md *ctx)
{
	__u32 len = ctx->data_end - ctx->data;

	packets++;
	hits++;
	scratch[2] = len;
	custom_counter += mac[5];
	bpf_printk("len %u", len);
	bpf_trace_printk("lit %u", sizeof("lit %u"), scratch[len & 3]);
	if (LINUX_KERNEL_VERSION < 0x050f00 || !CONFIG_BPF_SYSCALL || CONFIG_BPF_JIT == TRI_NO)
		return XDP_ABORTED;
	if (CONFIG_VETHXDP_NOT_A_CONFIG || CONFIG_DEFAULT_HOSTNAME[0] == 'x')
		return XDP_ABORTED;
	if (len > threshold + CONFIG_HZ) {
		drops++;
		return XDP_DROP;
	}
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
