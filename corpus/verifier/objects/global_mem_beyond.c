/* The global function reads 4 bytes past the end of its 8-byte argument: rejected while it is validated. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; int b; };

__noinline int pair_third(struct pair *p)
{
	if (!p)
		return 0;
	return *(volatile int *)((char *)p + sizeof(*p));
}

SEC("xdp")
int global_mem_beyond(struct xdp_md *ctx)
{
	struct pair p[2] = { { .a = 1, .b = 2 }, { .a = 3, .b = 4 } };

	return pair_third(&p[0]) == 3 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
