/* A void global function: Linux 6.18 refuses its prototype (only scalar returns are supported). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; int b; };

__noinline void pair_reset(struct pair *p)
{
	if (p)
		p->a = 0;
}

SEC("xdp")
int global_void(struct xdp_md *ctx)
{
	struct pair p = { .a = 1, .b = 2 };

	pair_reset(&p);
	return p.a ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
