// SPDX-License-Identifier: GPL-2.0
// A tiny direct-server-return load balancer that picks the least-loaded backend with bpf_for_each_map_elem:
// the callback is called for every element of the backends ARRAY with the map, the key, the value and a context
// struct on the caller's stack, skips inactive backends, keeps the lowest load seen, and returns 1 to stop the
// walk early when it finds an idle backend (load 0). IPv4 frames to the service address (vip, in .rodata) get
// the chosen backend's MAC as destination and go back out with XDP_TX, and the backend's load grows by one
// (an atomic add on the map value). No active backend: XDP_DROP. Other frames pass. The number of elements the
// last walk visited (the helper's return value) is kept in .bss.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_BACKENDS 8

const volatile __be32 vip = 0x0a0033c6;                 /* 198.51.0.10, network order */

struct backend {
    __u8 mac[ETH_ALEN];
    __u8 active;
    __u8 pad;
    __u32 load;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, MAX_BACKENDS);
    __type(key, __u32);
    __type(value, struct backend);
} backends SEC(".maps");

struct pick_ctx {
    __u32 best;
    __u32 best_load;
};

__u32 last_walk_length;

static long pick_least_loaded(void *map, __u32 *key, struct backend *b, struct pick_ctx *pc)
{
    if (!b->active)
        return 0;
    if (b->load < pc->best_load) {
        pc->best = *key;
        pc->best_load = b->load;
    }
    return b->load == 0;                /* 1: an idle backend, stop here */
}

SEC("xdp")
int xdp_for_each(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct pick_ctx pc = { .best = MAX_BACKENDS, .best_load = 0xffffffff };
    struct backend *b;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->daddr != vip)
        return XDP_PASS;

    last_walk_length = bpf_for_each_map_elem(&backends, pick_least_loaded, &pc, 0);
    if (pc.best >= MAX_BACKENDS)
        return XDP_DROP;
    b = bpf_map_lookup_elem(&backends, &pc.best);
    if (!b)
        return XDP_DROP;
    __sync_fetch_and_add(&b->load, 1);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, b->mac, ETH_ALEN);
    return XDP_TX;
}

char _license[] SEC("license") = "GPL";
