// SPDX-License-Identifier: GPL-2.0
// Counts packets and bytes per CPU, and redirects IPv4 frames through a devmap.
// Uses BTF-defined maps: a PERCPU_ARRAY of counters, an ARRAY for settings and a DEVMAP.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct counters {
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct counters);
} stats SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} egress_slot SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP);
    __uint(max_entries, 8);
    __type(key, __u32);
    __type(value, __u32);
} tx_port SEC(".maps");

SEC("xdp")
int xdp_counter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u32 key = 0;
    struct counters *c;
    __u32 *slot;

    c = bpf_map_lookup_elem(&stats, &key);
    if (c) {
        c->packets++;
        c->bytes += data_end - data;
    }

    if ((void *)(eth + 1) > data_end)
        return XDP_ABORTED;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;

    slot = bpf_map_lookup_elem(&egress_slot, &key);
    if (!slot)
        return XDP_PASS;
    return bpf_redirect_map(&tx_port, *slot, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
