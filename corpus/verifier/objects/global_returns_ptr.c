/* A global function that returns a pointer: its prototype is refused at the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int *pick(int *a, int *b)
{
	return *a > *b ? a : b;
}

SEC("xdp")
int global_returns_ptr(struct xdp_md *ctx)
{
	int a = ctx->ingress_ifindex, b = 4;

	return *pick(&a, &b) > 4 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
