/* A global function takes the XDP context and reads data/data_end itself: accepted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int first_byte(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	unsigned char *p = data;

	if (p + 1 > (unsigned char *)data_end)
		return -1;
	return p[0];
}

SEC("xdp")
int global_ctx_parse(struct xdp_md *ctx)
{
	return first_byte(ctx) == 0xff ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
