// SPDX-License-Identifier: GPL-2.0
// BPF-to-BPF calls: a static subprogram and a global one, both in .text.
// parse_eth() returns the EtherType in host order or 0 when the frame is too short;
// verdict_for() (global, so verified on its own) maps an EtherType to an action.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

static __noinline __u16 parse_eth(void *data, void *data_end)
{
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end)
        return 0;
    return bpf_ntohs(eth->h_proto);
}

__noinline int verdict_for(__u32 proto)
{
    switch (proto) {
    case ETH_P_IP:
    case ETH_P_IPV6:
        return XDP_PASS;
    case ETH_P_ARP:
        return XDP_TX;
    case 0:
        return XDP_ABORTED;
    default:
        return XDP_DROP;
    }
}

SEC("xdp")
int xdp_calls(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;

    return verdict_for(parse_eth(data, data_end));
}

char _license[] SEC("license") = "GPL";
