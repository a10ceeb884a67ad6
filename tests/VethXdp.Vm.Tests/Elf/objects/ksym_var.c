// A .ksyms variable (a typeless kernel symbol): the loader refuses the object naming it.
// Built by the Makefile here; the tests never run clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern const void bpf_prog_active __ksym;

SEC("xdp")
int ksym_var(struct xdp_md *ctx)
{
	return (long)&bpf_prog_active == ctx->data ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
