// Linking: a static and a global subprogram in .text called from programs in two sections, a bpf_loop
// callback (a function address: lddw src=4), two programs in one section, '?xdp', xdp.frags, xdp/devmap,
// xdp.frags/cpumap, tc and a tracepoint. Built by the Makefile here; the tests never run clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

static __noinline int add_static(int a)
{
	return a + 3;
}

__noinline int glob_sub(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex > 1 ? XDP_PASS : XDP_DROP;
}

static long loop_cb(__u32 index, void *data)
{
	*(int *)data += index;
	return 0;
}

SEC("xdp")
int prog_a(struct xdp_md *ctx)
{
	int sum = 0;

	bpf_loop(4, loop_cb, &sum, 0);
	return add_static(sum) + glob_sub(ctx);
}

SEC("xdp")
int prog_b(struct xdp_md *ctx)
{
	return glob_sub(ctx);
}

SEC("tc")
int tc_prog(struct __sk_buff *skb)
{
	return add_static(skb->len);
}

SEC("?xdp")
int optional_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp.frags")
int frags_prog(struct xdp_md *ctx)
{
	return add_static(1) + glob_sub(ctx);
}

SEC("xdp/devmap")
int devmap_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("xdp.frags/cpumap")
int cpumap_prog(struct xdp_md *ctx)
{
	return XDP_PASS;
}

SEC("tracepoint/syscalls/sys_enter_write")
int tp_prog(void *ctx)
{
	return 0;
}

char _license[] SEC("license") = "GPL";
