// SPDX-License-Identifier: GPL-2.0
// An object in the old style many published XDP programs still use: maps declared as struct bpf_map_def in
// SEC("maps"), without BTF for their keys and values, as in the early samples/bpf and iproute2 loaders. libbpf
// 1.x refuses such objects ("legacy map definitions in 'maps' section are not supported"), but the kernel loads
// the program once a loader creates the maps from the definitions and patches their fds into the ld_imm64
// instructions. The program blocks source addresses listed in a HASH and counts frames per IP protocol in an ARRAY.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct bpf_map_def {                    /* declared here: libbpf 1.x no longer provides it */
    unsigned int type;
    unsigned int key_size;
    unsigned int value_size;
    unsigned int max_entries;
    unsigned int map_flags;
};

struct bpf_map_def SEC("maps") proto_count = {
    .type = BPF_MAP_TYPE_ARRAY,
    .key_size = sizeof(__u32),
    .value_size = sizeof(__u64),
    .max_entries = 256,
};

struct bpf_map_def SEC("maps") blocked_src = {
    .type = BPF_MAP_TYPE_HASH,
    .key_size = sizeof(__be32),
    .value_size = sizeof(__u64),        /* frames dropped from that address */
    .max_entries = 1024,
};

SEC("xdp")
int xdp_legacy_maps(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    __u64 *value;
    __u32 proto;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_DROP;

    value = bpf_map_lookup_elem(&blocked_src, &ip->saddr);
    if (value) {
        __sync_fetch_and_add(value, 1);
        return XDP_DROP;
    }
    proto = ip->protocol;
    value = bpf_map_lookup_elem(&proto_count, &proto);
    if (value)
        __sync_fetch_and_add(value, 1);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
