/* A global function takes a pointer to a sized struct; the caller passes one on its stack: accepted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; int b; };

__noinline int pair_sum(struct pair *p)
{
	if (!p)
		return 0;
	return p->a + p->b;
}

SEC("xdp")
int global_stack_struct(struct xdp_md *ctx)
{
	struct pair p = { .a = ctx->ingress_ifindex, .b = 2 };

	return pair_sum(&p) > 3 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
