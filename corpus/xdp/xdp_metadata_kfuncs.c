// SPDX-License-Identifier: GPL-2.0
// Reads the receive metadata a NIC driver can provide, through the XDP metadata kfuncs:
// bpf_xdp_metadata_rx_timestamp, bpf_xdp_metadata_rx_hash and bpf_xdp_metadata_rx_vlan_tag. They are resolved
// against the driver of one device, so the program must be loaded bound to it (BPF_F_XDP_DEV_BOUND_ONLY with
// prog_ifindex); Linux refuses to load it unbound. The values are put in the metadata area in front of the frame
// (bpf_xdp_adjust_meta) for an AF_XDP or TC consumer, with a bit per kfunc that succeeded. On veth they return
// -ENODATA for frames that carry no such metadata (as a frame from BPF_PROG_TEST_RUN does). Every frame passes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

enum xdp_rss_hash_type { XDP_RSS_TYPE_NONE = 0 };      /* the kernel's enum; only its size matters here */

extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash, enum xdp_rss_hash_type *rss_type) __ksym;
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto, __u16 *vlan_tci) __ksym;

struct rx_meta {
    __u64 timestamp;
    __u32 hash;
    __u32 hash_type;
    __be16 vlan_proto;
    __u16 vlan_tci;
    __u32 valid;                        /* bit 0 timestamp, bit 1 hash, bit 2 VLAN tag */
};

SEC("xdp")
int xdp_metadata_kfuncs(struct xdp_md *ctx)
{
    struct rx_meta *m;
    enum xdp_rss_hash_type type = XDP_RSS_TYPE_NONE;
    void *data;

    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(*m)))
        return XDP_PASS;
    m = (void *)(long)ctx->data_meta;
    data = (void *)(long)ctx->data;
    if ((void *)(m + 1) > data)
        return XDP_PASS;
    __builtin_memset(m, 0, sizeof(*m));

    if (bpf_xdp_metadata_rx_timestamp(ctx, &m->timestamp) == 0)
        m->valid |= 1;
    if (bpf_xdp_metadata_rx_hash(ctx, &m->hash, &type) == 0) {
        m->hash_type = type;
        m->valid |= 2;
    }
    if (bpf_xdp_metadata_rx_vlan_tag(ctx, &m->vlan_proto, &m->vlan_tci) == 0)
        m->valid |= 4;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
