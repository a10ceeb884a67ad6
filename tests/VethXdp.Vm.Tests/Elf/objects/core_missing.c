// A CO-RE access to a type the object's BTF cannot resolve (only the flavour task_struct___x is defined,
// not task_struct): the loader refuses the object naming the relocation. Built by the Makefile here.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct task_struct___x {
	int pad;
	int pid;
} __attribute__((preserve_access_index));

SEC("xdp")
int core_missing(struct xdp_md *ctx)
{
	struct task_struct___x *t = (void *)(long)ctx->data;

	if ((void *)(t + 1) > (void *)(long)ctx->data_end)
		return XDP_DROP;
	return t->pid;
}

char _license[] SEC("license") = "GPL";
