/* The global function dereferences its maybe-NULL pointer argument without a check: rejected. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; int b; };

__noinline int pair_first(struct pair *p)
{
	return p->a;
}

SEC("xdp")
int global_maybe_null_deref(struct xdp_md *ctx)
{
	struct pair p = { .a = 1, .b = 2 };

	return pair_first(&p) == 1 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
