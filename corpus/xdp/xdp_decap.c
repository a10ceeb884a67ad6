// SPDX-License-Identifier: GPL-2.0
// Terminates IPv4 tunnels addressed to this host (tunnel_endpoint, in .rodata): IPIP (an IPv4 packet inside
// IPv4, protocol 4) and 6in4 (IPv6 inside IPv4, protocol 41). bpf_xdp_adjust_head with the outer header's
// length (IHL * 4, so outer options are fine) strips the outer header; the Ethernet header is rewritten in front
// of the inner packet with the inner EtherType, and the inner packet goes up the stack (XDP_PASS). A fragmented
// outer packet, or an inner header that does not match the protocol number, is dropped; other traffic passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __be32 tunnel_endpoint = 0x0200000a;    /* 10.0.0.2, in network byte order */

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 2);
    __type(key, __u32);                 /* 0: IPIP, 1: 6in4 */
    __type(value, __u64);
} decapsulated SEC(".maps");

SEC("xdp")
int xdp_decap(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *outer;
    __u8 macs[2 * ETH_ALEN];
    __u16 inner_proto;
    __u32 kind, hlen;
    __u8 *version;
    __u64 *n;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    outer = (void *)(eth + 1);
    if ((void *)(outer + 1) > data_end)
        return XDP_DROP;
    if (outer->daddr != tunnel_endpoint)
        return XDP_PASS;
    if (outer->protocol == IPPROTO_IPIP) {
        inner_proto = ETH_P_IP;
        kind = 0;
    } else if (outer->protocol == IPPROTO_IPV6) {
        inner_proto = ETH_P_IPV6;
        kind = 1;
    } else {
        return XDP_PASS;
    }
    if (outer->frag_off & bpf_htons(0x3fff))
        return XDP_DROP;                /* MF set or an offset: we do not reassemble */
    hlen = outer->ihl * 4;
    if (hlen < sizeof(*outer))
        return XDP_DROP;

    version = (__u8 *)outer + hlen;     /* first byte of the inner header */
    if ((void *)(version + 1) > data_end)
        return XDP_DROP;
    if ((*version >> 4) != (kind ? 6 : 4))
        return XDP_DROP;

    __builtin_memcpy(macs, eth, sizeof(macs));
    if (bpf_xdp_adjust_head(ctx, hlen))
        return XDP_DROP;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    __builtin_memcpy(eth, macs, sizeof(macs));
    eth->h_proto = bpf_htons(inner_proto);

    n = bpf_map_lookup_elem(&decapsulated, &kind);
    if (n)
        __sync_fetch_and_add(n, 1);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
