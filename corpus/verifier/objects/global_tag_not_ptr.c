/* An __arg_nonnull tag on an int argument: the prototype is refused at the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int twice(int v __attribute__((btf_decl_tag("arg:nonnull"))))
{
	return v * 2;
}

SEC("xdp")
int global_tag_not_ptr(struct xdp_md *ctx)
{
	return twice(ctx->rx_queue_index) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
