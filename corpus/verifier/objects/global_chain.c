/* A global function calls another global and a static function; each global is validated once: accepted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline int twice(int v)
{
	return v * 2;
}

__noinline int inner(int v)
{
	return twice(v) + 1;
}

__noinline int outer(struct xdp_md *ctx, int v)
{
	return inner(v + ctx->rx_queue_index);
}

SEC("xdp")
int global_chain(struct xdp_md *ctx)
{
	return outer(ctx, 3) > 7 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
