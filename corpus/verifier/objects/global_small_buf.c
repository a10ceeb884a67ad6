/* The caller passes a 4-byte stack buffer where an 8-byte struct is expected: rejected at the call. */
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
int global_small_buf(struct xdp_md *ctx)
{
	int v = ctx->ingress_ifindex;

	return pair_sum((struct pair *)&v) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
