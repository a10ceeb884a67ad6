/* A global function taking void *: the size of the pointed-to type cannot be determined. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

__noinline int peek(void *p)
{
	return p ? *(char *)p : 0;
}

SEC("xdp")
int global_void_ptr(struct xdp_md *ctx)
{
	char c = 1;

	return peek(&c) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
