/* A global function that calls bpf_xdp_adjust_head invalidates the caller's packet pointers: the read after the call is rejected. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int grow(struct xdp_md *ctx)
{
	return bpf_xdp_adjust_head(ctx, -4);
}

SEC("xdp")
int global_pkt_changes(struct xdp_md *ctx)
{
	unsigned char *data = (void *)(long)ctx->data;
	unsigned char *data_end = (void *)(long)ctx->data_end;

	if (data + 1 > data_end)
		return XDP_DROP;
	grow(ctx);
	return *(volatile unsigned char *)data ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
