// SPDX-License-Identifier: GPL-2.0
// Drops TCP segments to port 22 (ssh); everything else passes.
// Walks Ethernet -> IPv4 (variable header length) -> TCP with a bounds check before each access.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define BLOCKED_PORT 22

SEC("xdp")
int xdp_port_filter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct tcphdr *tcp;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;

    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_PASS;
    if (ip->protocol != IPPROTO_TCP || ip->ihl < 5)
        return XDP_PASS;

    tcp = (void *)ip + ip->ihl * 4;
    if ((void *)(tcp + 1) > data_end)
        return XDP_PASS;
    if (tcp->dest == bpf_htons(BLOCKED_PORT))
        return XDP_DROP;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
