// SPDX-License-Identifier: GPL-2.0
// Hands a classification to the next stage through the metadata area in front of the frame:
// bpf_xdp_adjust_meta(ctx, -8) moves data_meta 8 bytes down, and the program writes a struct there (a mark,
// the L3 protocol and the offset of the L4 header) that a TC program or an AF_XDP reader finds at data_meta.
// The bounds check is against ctx->data, the end of the metadata. Frames it cannot classify (not IPv4/IPv6)
// give the area back with bpf_xdp_adjust_meta(ctx, +8), so they carry no metadata. Everything passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct meta {
    __u32 mark;
    __u16 l3_proto;                     /* host order EtherType */
    __u16 l4_offset;                    /* from the start of the frame */
};

SEC("xdp")
int xdp_meta_mark(struct xdp_md *ctx)
{
    void *data, *data_end, *data_meta;
    struct ethhdr *eth;
    struct meta *m;
    __u16 proto, l4_off = 0;
    __u32 mark = 0;

    if (bpf_xdp_adjust_meta(ctx, -(int)sizeof(struct meta)))
        return XDP_PASS;                /* no room: pass without metadata */

    data_meta = (void *)(long)ctx->data_meta;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    m = data_meta;
    if ((void *)(m + 1) > data)
        return XDP_ABORTED;

    eth = data;
    if ((void *)(eth + 1) > data_end)
        goto unclassified;
    proto = bpf_ntohs(eth->h_proto);
    if (proto == ETH_P_IP) {
        struct iphdr *ip = (void *)(eth + 1);

        if ((void *)(ip + 1) > data_end)
            goto unclassified;
        l4_off = sizeof(*eth) + ip->ihl * 4;
        mark = 0x100 | ip->protocol;
    } else if (proto == ETH_P_IPV6) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);

        if ((void *)(ip6 + 1) > data_end)
            goto unclassified;
        l4_off = sizeof(*eth) + sizeof(*ip6);
        mark = 0x200 | ip6->nexthdr;
    } else {
        goto unclassified;
    }
    m->mark = mark;
    m->l3_proto = proto;
    m->l4_offset = l4_off;
    return XDP_PASS;

unclassified:
    bpf_xdp_adjust_meta(ctx, (int)sizeof(struct meta));
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
