/* The caller passes the context plus 4 where the context is expected: rejected at the call (modified ctx). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int first_word(struct xdp_md *ctx)
{
	return ctx->data;
}

SEC("xdp")
int global_ctx_offset(struct xdp_md *ctx)
{
	return first_word((struct xdp_md *)((char *)ctx + 4)) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
