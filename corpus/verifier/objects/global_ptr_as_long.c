/* The caller passes a stack address where the prototype says long: rejected at the call (R1 is not a scalar). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int low_bits(long v)
{
	return v & 7;
}

SEC("xdp")
int global_ptr_as_long(struct xdp_md *ctx)
{
	int x = ctx->rx_queue_index;

	return low_bits((long)&x) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
