// SPDX-License-Identifier: GPL-2.0
// Container traffic injector for the switch scenarios (issue 9): attached to the NIC that carries the test traffic,
// it hands each frame to the container whose MAC is the frame's source, by redirecting it into the container's end
// of its veth pair, so the frame arrives on the host end as if the container had sent it. Unknown sources are dropped.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct mac_key {
    __u8 addr[ETH_ALEN];
    __u16 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, struct mac_key);
    __type(value, __u32);               /* ifindex of the container's veth end */
} containers SEC(".maps");

SEC("xdp")
int xdp_container_tx(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct mac_key key = {};
    __u32 *ifindex;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    __builtin_memcpy(key.addr, eth->h_source, ETH_ALEN);
    ifindex = bpf_map_lookup_elem(&containers, &key);
    if (!ifindex)
        return XDP_DROP;
    return bpf_redirect(*ifindex, 0);
}

char _license[] SEC("license") = "GPL";
