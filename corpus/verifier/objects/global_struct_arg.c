/* A global function taking a struct by value: its prototype is not supported. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; int b; };

__noinline int pair_sum(struct pair p)
{
	return p.a + p.b;
}

SEC("xdp")
int global_struct_arg(struct xdp_md *ctx)
{
	struct pair p = { .a = ctx->rx_queue_index, .b = 2 };

	return pair_sum(p) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
