/* A global function takes void * tagged __arg_ctx: it is the context, and the caller passes ctx: accepted. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int queue_of(void *ctx __attribute__((btf_decl_tag("arg:ctx"))))
{
	return ((struct xdp_md *)ctx)->rx_queue_index;
}

SEC("xdp")
int global_ctx_tag(struct xdp_md *ctx)
{
	return queue_of(ctx) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
