// SPDX-License-Identifier: GPL-2.0
// VLAN policy at a provider edge port: parses Ethernet with no tag, one 802.1Q tag (TPID 0x8100), or QinQ
// (an 802.1ad S-tag, TPID 0x88a8, around an 802.1Q C-tag).
//  - untagged and priority-tagged (VID 0) frames pass;
//  - a frame whose service VLAN (the only tag, or the outer S-tag) is not in the vlan_allowed ARRAY is dropped;
//  - an S-tag inside a C-tag, a third tag, VID 4095, or a tag cut short by the end of the frame is dropped.
// Frames that pass are counted per (service VLAN, customer VLAN) pair in a HASH.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define VLAN_VID_MASK 0x0fff

struct vlan_hdr {
    __be16 tci;
    __be16 encap_proto;
};

struct vlan_pair {
    __u16 s_vid;                        /* service VLAN (outer), 0 when untagged */
    __u16 c_vid;                        /* customer VLAN (inner), 0 when single-tagged */
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4096);
    __type(key, __u32);
    __type(value, __u32);               /* non-zero: the VLAN is allowed on this port */
} vlan_allowed SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 1024);
    __type(key, struct vlan_pair);
    __type(value, __u64);
} vlan_frames SEC(".maps");

static __always_inline int is_vlan(__be16 proto)
{
    return proto == bpf_htons(ETH_P_8021Q) || proto == bpf_htons(ETH_P_8021AD);
}

static __always_inline int vlan_ok(__u16 vid)
{
    __u32 key = vid;
    __u32 *allowed;

    if (vid == VLAN_VID_MASK)
        return 0;
    allowed = bpf_map_lookup_elem(&vlan_allowed, &key);
    return allowed && *allowed;
}

SEC("xdp")
int xdp_vlan_qinq(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct vlan_hdr *outer, *inner;
    struct vlan_pair pair = {};
    __u64 one = 1, *n;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (!is_vlan(eth->h_proto))
        goto count;

    outer = (void *)(eth + 1);
    if ((void *)(outer + 1) > data_end)
        return XDP_DROP;
    pair.s_vid = bpf_ntohs(outer->tci) & VLAN_VID_MASK;

    if (eth->h_proto == bpf_htons(ETH_P_8021AD)) {
        /* QinQ: the S-tag must carry a C-tag */
        if (outer->encap_proto != bpf_htons(ETH_P_8021Q))
            return XDP_DROP;
        inner = outer + 1;
        if ((void *)(inner + 1) > data_end)
            return XDP_DROP;
        if (is_vlan(inner->encap_proto))
            return XDP_DROP;            /* a third tag */
        pair.c_vid = bpf_ntohs(inner->tci) & VLAN_VID_MASK;
        if (pair.c_vid == VLAN_VID_MASK)
            return XDP_DROP;
    } else if (is_vlan(outer->encap_proto)) {
        return XDP_DROP;                /* 802.1Q outside another tag is not QinQ */
    }

    if (pair.s_vid != 0 && !vlan_ok(pair.s_vid))
        return XDP_DROP;

count:
    n = bpf_map_lookup_elem(&vlan_frames, &pair);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&vlan_frames, &pair, &one, BPF_ANY);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
