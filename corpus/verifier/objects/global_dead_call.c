/* A global function that would fail is called only on a path the verifier proves dead: it is never validated, accepted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; int b; };

volatile const int enabled = 0;

__noinline int pair_first(struct pair *p)
{
	return p->a;
}

SEC("xdp")
int global_dead_call(struct xdp_md *ctx)
{
	struct pair p = { .a = 1, .b = 2 };

	if (enabled)
		return pair_first(&p) ? XDP_PASS : XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
