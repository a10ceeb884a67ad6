// SPDX-License-Identifier: GPL-2.0
// Skips up to two stacked VLAN tags in a bounded loop, then passes IPv4/IPv6, drops the rest.
// A small XOR checksum over the first bytes of the frame goes into an ARRAY map, to exercise
// a loop with a variable trip count that the verifier must bound.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_VLAN_DEPTH 2
#define SUM_BYTES 16

struct vlan_hdr {
    __be16 tci;
    __be16 encapsulated_proto;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);
} last_sum SEC(".maps");

SEC("xdp")
int xdp_vlan_loop(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    void *cursor;
    __u16 proto;
    __u32 key = 0, sum = 0;
    __u32 *slot;
    int i;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    proto = eth->h_proto;
    cursor = eth + 1;

#pragma unroll
    for (i = 0; i < MAX_VLAN_DEPTH; i++) {
        struct vlan_hdr *vh = cursor;

        if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
            break;
        if ((void *)(vh + 1) > data_end)
            return XDP_DROP;
        proto = vh->encapsulated_proto;
        cursor = vh + 1;
    }

#pragma clang loop unroll(disable)
    for (i = 0; i < SUM_BYTES; i++) {
        __u8 *p = (__u8 *)data + i;

        if ((void *)(p + 1) > data_end)
            break;
        sum ^= (__u32)*p << ((i & 3) * 8);
    }
    slot = bpf_map_lookup_elem(&last_sum, &key);
    if (slot)
        *slot = sum;

    switch (proto) {
    case bpf_htons(ETH_P_IP):
    case bpf_htons(ETH_P_IPV6):
        return XDP_PASS;
    default:
        return XDP_DROP;
    }
}

char _license[] SEC("license") = "GPL";
