/* The caller passes NULL and a stack struct to a maybe-NULL argument; the callee checks for NULL: accepted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; int b; };

__noinline int pair_or_zero(struct pair *p)
{
	if (!p)
		return 0;
	return p->b;
}

SEC("xdp")
int global_null_arg(struct xdp_md *ctx)
{
	struct pair p = { .a = 1, .b = ctx->rx_queue_index };

	return pair_or_zero((struct pair *)0) + pair_or_zero(&p) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
