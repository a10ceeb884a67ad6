// SPDX-License-Identifier: GPL-2.0
// The paper's XDP_TX test: the program on veth1 sends every frame back out of the device it came in on.
// It swaps the Ethernet source and destination addresses so the frame goes back to its sender, counts
// the frames it bounced in a per-CPU counter, and returns XDP_TX. Frames too short to hold an Ethernet
// header are dropped.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} tx_count SEC(".maps");

static __always_inline void swap_mac(struct ethhdr *eth)
{
    unsigned char tmp[ETH_ALEN];

    __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

SEC("xdp")
int xdp_paper_tx(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u32 key = 0;
    __u64 *count;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;

    swap_mac(eth);

    count = bpf_map_lookup_elem(&tx_count, &key);
    if (count)
        *count += 1;
    return XDP_TX;
}

char _license[] SEC("license") = "GPL";
