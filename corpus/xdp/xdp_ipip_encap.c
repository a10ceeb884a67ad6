// SPDX-License-Identifier: GPL-2.0
// The forwarding plane of a small layer-4 load balancer: IPv4 packets to a service address (a HASH of
// services, filled by user space) are encapsulated in IPIP (RFC 2003) toward the service's backend.
// bpf_xdp_adjust_head grows the frame by 20 bytes at the front; the Ethernet header is rebuilt for the
// next hop, the outer IPv4 header is written and its checksum computed with bpf_csum_diff; bpf_check_mtu
// asks whether the grown frame still fits the device's MTU (too big: XDP_DROP, a real balancer would send
// ICMP "fragmentation needed"). The frame leaves with XDP_TX. Frames for other addresses pass.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct service {
    __be32 tunnel_src;                  /* our address, the outer source */
    __be32 backend;                     /* the outer destination */
    __u8 next_hop_mac[ETH_ALEN];
    __u8 pad[2];
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __be32);                /* service (virtual) IPv4 address */
    __type(value, struct service);
} services SEC(".maps");

static __always_inline __u16 csum_fold(__u64 sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return ~sum;
}

SEC("xdp")
int xdp_ipip_encap(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data, *new_eth;
    struct iphdr *inner, *outer;
    struct service *svc;
    __u8 router_mac[ETH_ALEN];
    __u32 mtu_len = 0;
    __u16 inner_len;
    __be32 vip;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    inner = (void *)(eth + 1);
    if ((void *)(inner + 1) > data_end)
        return XDP_DROP;
    vip = inner->daddr;
    svc = bpf_map_lookup_elem(&services, &vip);
    if (!svc)
        return XDP_PASS;

    /* ifindex 0: the device the frame came in on; len_diff: the header we are about to add */
    if (bpf_check_mtu(ctx, 0, &mtu_len, (__s32)sizeof(struct iphdr), 0) != BPF_MTU_CHK_RET_SUCCESS)
        return XDP_DROP;

    inner_len = bpf_ntohs(inner->tot_len);
    __builtin_memcpy(router_mac, eth->h_dest, ETH_ALEN);   /* we received it, so this is our MAC */

    if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct iphdr)))
        return XDP_DROP;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    new_eth = data;
    outer = (void *)(new_eth + 1);
    if ((void *)(outer + 1) > data_end)
        return XDP_DROP;

    __builtin_memcpy(new_eth->h_dest, svc->next_hop_mac, ETH_ALEN);
    __builtin_memcpy(new_eth->h_source, router_mac, ETH_ALEN);
    new_eth->h_proto = bpf_htons(ETH_P_IP);

    outer->version = 4;
    outer->ihl = 5;
    outer->tos = 0;
    outer->tot_len = bpf_htons(inner_len + sizeof(struct iphdr));
    outer->id = 0;
    outer->frag_off = bpf_htons(0x4000);        /* DF */
    outer->ttl = 64;
    outer->protocol = IPPROTO_IPIP;
    outer->check = 0;
    outer->saddr = svc->tunnel_src;
    outer->daddr = svc->backend;
    outer->check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)outer, sizeof(*outer), 0));
    return XDP_TX;
}

char _license[] SEC("license") = "GPL";
