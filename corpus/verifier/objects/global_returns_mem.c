/* A global function declared to return long hands back its pointer argument: rejected at its exit. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; int b; };

__noinline long pair_addr(struct pair *p)
{
	long r;

	asm volatile("%[r] = %[p]" : [r] "=r"(r) : [p] "r"(p));
	return r;
}

SEC("xdp")
int global_returns_mem(struct xdp_md *ctx)
{
	struct pair p = { .a = 1, .b = 2 };

	return pair_addr(&p) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
