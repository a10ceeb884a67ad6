/* The caller passes a stack pointer where the context is expected: rejected at the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int ifindex_of(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

SEC("xdp")
int global_ctx_mismatch(struct xdp_md *ctx)
{
	struct xdp_md fake = {};

	return ifindex_of(&fake) == 1 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
