// A kfunc the VM does not provide (bpf_xdp_get_xfrm_state): the loader refuses the object naming it.
// Built by the Makefile here; the tests never run clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct bpf_xfrm_state_opts;
extern void *bpf_xdp_get_xfrm_state(struct xdp_md *ctx, struct bpf_xfrm_state_opts *opts, __u32 opts__sz) __ksym;

SEC("xdp")
int xfrm(struct xdp_md *ctx)
{
	return bpf_xdp_get_xfrm_state(ctx, 0, 0) ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
