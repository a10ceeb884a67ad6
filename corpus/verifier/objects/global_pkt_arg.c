/* The caller passes an unchecked packet pointer where a sized struct is expected: rejected at the call. */
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
int global_pkt_arg(struct xdp_md *ctx)
{
	struct pair *p = (void *)(long)ctx->data;

	return pair_sum(p) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
