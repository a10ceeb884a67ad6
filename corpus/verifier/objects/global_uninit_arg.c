/* The caller never sets R2 before calling a global function with two int arguments: rejected at the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int add2(int a, int b)
{
	return a + b;
}

SEC("xdp")
int global_uninit_arg(struct xdp_md *ctx)
{
	int r;

	asm volatile("r1 = 1; call add2; %[r] = r0" : [r] "=r"(r) : : "r0", "r1", "r2", "r3", "r4", "r5");
	return r ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
