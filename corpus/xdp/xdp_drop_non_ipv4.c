// SPDX-License-Identifier: GPL-2.0
// Parses the Ethernet header and drops every frame that is not IPv4.
// Frames too short to hold an Ethernet header are dropped too.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xdp_drop_non_ipv4(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_DROP;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
