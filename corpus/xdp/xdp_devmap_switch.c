// SPDX-License-Identifier: GPL-2.0
// A small learning switch between veth ports, the "XDP-based virtual switch" the paper asks for (3.4).
// The source MAC of every frame is learnt into a HASH (MAC -> ingress ifindex). Unicast to a known MAC is
// redirected through a DEVMAP_HASH of ports; broadcast, multicast and unknown unicast are flooded to every
// port except the ingress one with BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS. Frames whose destination sits
// behind the ingress port itself are dropped (no hairpin). A second program, SEC("xdp/devmap"), is attached
// to the devmap entries and runs on each frame as it leaves a port: it counts frames per egress_ifindex.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct mac_key {
    __u8 addr[ETH_ALEN];
    __u16 pad;                          /* keep the key 8 bytes, with no uninitialised hole */
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 256);
    __type(key, struct mac_key);
    __type(value, __u32);               /* ifindex the MAC was last seen on */
} fdb SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);                 /* ifindex */
    __type(value, struct bpf_devmap_val);
} ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u32);
    __type(value, __u64);
} egress_frames SEC(".maps");

static __always_inline void learn(const __u8 *src, __u32 ifindex)
{
    struct mac_key key = {};
    __u32 *known;

    if (src[0] & 1)                     /* a group address is never a source */
        return;
    __builtin_memcpy(key.addr, src, ETH_ALEN);
    known = bpf_map_lookup_elem(&fdb, &key);
    if (!known || *known != ifindex)
        bpf_map_update_elem(&fdb, &key, &ifindex, BPF_ANY);
}

SEC("xdp")
int xdp_switch(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct mac_key dst = {};
    __u32 in = ctx->ingress_ifindex;
    __u32 *out;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;

    learn(eth->h_source, in);

    if (eth->h_dest[0] & 1)
        return bpf_redirect_map(&ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);

    __builtin_memcpy(dst.addr, eth->h_dest, ETH_ALEN);
    out = bpf_map_lookup_elem(&fdb, &dst);
    if (!out)
        return bpf_redirect_map(&ports, 0, BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS);
    if (*out == in)
        return XDP_DROP;
    return bpf_redirect_map(&ports, *out, XDP_DROP);
}

SEC("xdp/devmap")
int xdp_switch_egress(struct xdp_md *ctx)
{
    __u32 port = ctx->egress_ifindex;
    __u64 one = 1, *n;

    n = bpf_map_lookup_elem(&egress_frames, &port);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&egress_frames, &port, &one, BPF_NOEXIST);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
