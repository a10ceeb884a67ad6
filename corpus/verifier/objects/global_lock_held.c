/* A global function called while a bpf_spin_lock is held: rejected at the call. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val { struct bpf_spin_lock lock; int n; };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct val);
} vals SEC(".maps");

__noinline int bump(int n)
{
	return n + 1;
}

SEC("xdp")
int global_lock_held(struct xdp_md *ctx)
{
	__u32 key = 0;
	struct val *v = bpf_map_lookup_elem(&vals, &key);

	if (!v)
		return XDP_PASS;
	bpf_spin_lock(&v->lock);
	v->n = bump(v->n);
	bpf_spin_unlock(&v->lock);
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
