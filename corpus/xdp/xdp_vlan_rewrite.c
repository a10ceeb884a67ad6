// SPDX-License-Identifier: GPL-2.0
// Pops and pushes 802.1Q tags with bpf_xdp_adjust_head, as a trunk port facing a switch does.
//  - A frame tagged with the native VLAN (native_vid, in .rodata) loses its tag: the MAC addresses move 4 bytes
//    up and the head shrinks by 4 (adjust_head +4); the stack gets it untagged (XDP_PASS).
//  - An untagged IPv4/IPv6 frame gets the access VLAN's tag (access_vid): the head grows by 4 (adjust_head -4), the
//    addresses move down, TPID and TCI are written, and the frame goes back out tagged (XDP_TX).
//  - Anything else passes unchanged. Every packet pointer is re-derived and re-checked after adjust_head.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct vlan_hdr {
    __be16 tci;
    __be16 encap_proto;
};

const volatile __u16 native_vid = 10;
const volatile __u16 access_vid = 20;
const volatile __u8 access_pcp = 5;

static __always_inline int pop_tag(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    __u8 macs[2 * ETH_ALEN];

    if (data + 2 * ETH_ALEN > data_end)
        return -1;
    __builtin_memcpy(macs, data, sizeof(macs));
    if (bpf_xdp_adjust_head(ctx, (int)sizeof(struct vlan_hdr)))
        return -1;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    if (data + sizeof(struct ethhdr) > data_end)
        return -1;
    __builtin_memcpy(data, macs, sizeof(macs));
    return 0;
}

static __always_inline int push_tag(struct xdp_md *ctx, __u16 vid, __u8 pcp)
{
    void *data, *data_end;
    struct ethhdr *eth;
    struct vlan_hdr *vh;
    __be16 proto;
    __u8 macs[2 * ETH_ALEN];

    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    if ((void *)(eth + 1) > data_end)
        return -1;
    proto = eth->h_proto;
    __builtin_memcpy(macs, eth, sizeof(macs));

    if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct vlan_hdr)))
        return -1;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    vh = (void *)(eth + 1);
    if ((void *)(vh + 1) > data_end)
        return -1;
    __builtin_memcpy(eth, macs, sizeof(macs));
    eth->h_proto = bpf_htons(ETH_P_8021Q);
    vh->tci = bpf_htons(((__u16)pcp << 13) | (vid & 0x0fff));
    vh->encap_proto = proto;
    return 0;
}

SEC("xdp")
int xdp_vlan_rewrite(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct vlan_hdr *vh;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;

    switch (bpf_ntohs(eth->h_proto)) {
    case ETH_P_8021Q:
        vh = (void *)(eth + 1);
        if ((void *)(vh + 1) > data_end)
            return XDP_DROP;
        if ((bpf_ntohs(vh->tci) & 0x0fff) != native_vid)
            return XDP_PASS;
        return pop_tag(ctx) ? XDP_ABORTED : XDP_PASS;
    case ETH_P_IP:
    case ETH_P_IPV6:
        return push_tag(ctx, access_vid, access_pcp) ? XDP_ABORTED : XDP_TX;
    default:
        return XDP_PASS;
    }
}

char _license[] SEC("license") = "GPL";
