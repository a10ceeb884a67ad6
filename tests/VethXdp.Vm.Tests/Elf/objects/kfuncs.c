// The XDP kfuncs (.ksyms externs called with src=2): bpf_dynptr_from_xdp, bpf_dynptr_slice and a metadata
// kfunc. Built by the Makefile here; the tests never run clang.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

extern int bpf_dynptr_from_xdp(struct xdp_md *x, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *p, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash, __u32 *rss_type) __ksym;

SEC("xdp")
int dynptr(struct xdp_md *ctx)
{
	struct bpf_dynptr ptr;
	__u8 buf[14];
	__u8 *eth;

	if (bpf_dynptr_from_xdp(ctx, 0, &ptr))
		return XDP_ABORTED;
	eth = bpf_dynptr_slice(&ptr, 0, buf, sizeof(buf));
	if (!eth)
		return XDP_DROP;
	return eth[12] == 0x08 ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int rx_hash(struct xdp_md *ctx)
{
	__u32 hash = 0, type = 0;

	if (bpf_xdp_metadata_rx_hash(ctx, &hash, &type))
		return XDP_PASS;
	return hash & 1 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
