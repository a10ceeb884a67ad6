// SPDX-License-Identifier: GPL-2.0
// AF_XDP steering: UDP datagrams to the port an AF_XDP application serves (xsk_port, in .rodata) go to the
// XSK socket bound to the receive queue they arrived on, through an XSKMAP keyed by ctx->rx_queue_index.
// bpf_redirect_map's flags carry the fallback action, XDP_PASS: when no socket is bound to that queue, the
// kernel stack gets the datagram instead. Everything else passes. A HASH counts the steering attempts per queue.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __u16 xsk_port = 4791;

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 64);
    __type(key, __u32);                 /* receive queue */
    __type(value, __u32);               /* XSK socket fd, when user space sets it */
} xsks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);
    __type(value, __u64);
} steered SEC(".maps");

SEC("xdp")
int xdp_xsk_steer(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct udphdr *uh;
    __u32 queue = ctx->rx_queue_index;
    __u64 one = 1, *n;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);

        if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
            return XDP_PASS;
        uh = (void *)(ip + 1);
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);

        if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_UDP)
            return XDP_PASS;
        uh = (void *)(ip6 + 1);
    } else {
        return XDP_PASS;
    }
    if ((void *)(uh + 1) > data_end || uh->dest != bpf_htons(xsk_port))
        return XDP_PASS;

    n = bpf_map_lookup_elem(&steered, &queue);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&steered, &queue, &one, BPF_NOEXIST);
    return bpf_redirect_map(&xsks, queue, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
