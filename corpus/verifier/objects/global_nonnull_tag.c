/* A __arg_nonnull memory argument gets a map value that may be NULL: rejected at the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct pair { int a; int b; };

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pair);
} pairs SEC(".maps");

__noinline int pair_b(struct pair *p __attribute__((btf_decl_tag("arg:nonnull"))))
{
	return p->b;
}

SEC("xdp")
int global_nonnull_tag(struct xdp_md *ctx)
{
	__u32 key = 0;

	return pair_b(bpf_map_lookup_elem(&pairs, &key)) ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
