// SPDX-License-Identifier: GPL-2.0
// Maps of maps, for multi-tenant policy that user space can swap atomically:
//  - tenants, a HASH_OF_MAPS keyed by destination IPv4 address (one tenant per service address), holds for each
//    tenant an inner HASH of blocked destination ports; user space fills it (the manifest binds two addresses to
//    tenant_web and tenant_mail). A lookup in the outer map gives the inner map, which is looked up in turn.
//  - policies, an ARRAY_OF_MAPS with two generations of a global policy (inner ARRAYs holding the largest frame
//    allowed), filled by the loader from the object itself (__array(values, ...)); active_policy in .bss picks
//    the generation, so user space can prepare the next one and switch with a single write.
// Frames longer than the active policy allows, and TCP/UDP to a port the tenant blocks, are dropped.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct port_set {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u16);                 /* destination port, host order */
    __type(value, __u8);
};

struct policy {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u32);               /* largest frame allowed */
};

struct port_set tenant_web SEC(".maps"), tenant_mail SEC(".maps");
struct policy policy_gen0 SEC(".maps"), policy_gen1 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
    __uint(max_entries, 16);
    __type(key, __be32);
    __array(values, struct port_set);
} tenants SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
    __uint(max_entries, 2);
    __type(key, __u32);
    __array(values, struct policy);
} policies SEC(".maps") = {
    .values = { &policy_gen0, &policy_gen1 },
};

__u32 active_policy;                    /* .bss: generation 0 at load */

SEC("xdp")
int xdp_map_in_map(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct udphdr *ports;
    __u32 zero = 0, *max_len;
    void *inner;
    __u16 port;

    inner = bpf_map_lookup_elem(&policies, &active_policy);
    if (inner) {
        max_len = bpf_map_lookup_elem(inner, &zero);
        if (max_len && *max_len && data_end - data > *max_len)
            return XDP_DROP;
    }

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5)
        return XDP_PASS;
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
        return XDP_PASS;
    ports = (void *)(ip + 1);
    if ((void *)(ports + 1) > data_end)
        return XDP_DROP;

    inner = bpf_map_lookup_elem(&tenants, &ip->daddr);
    if (!inner)
        return XDP_PASS;                /* not a tenant's address */
    port = bpf_ntohs(ports->dest);
    if (bpf_map_lookup_elem(inner, &port))
        return XDP_DROP;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
