// SPDX-License-Identifier: GPL-2.0
// A multi-buffer program (SEC("xdp.frags"), loaded with BPF_F_XDP_HAS_FRAGS): a frame larger than one page
// arrives as a linear part plus fragments, and ctx->data_end ends the linear part only. bpf_xdp_get_buff_len
// gives the whole length; bpf_xdp_load_bytes and bpf_xdp_store_bytes read and write at any offset, across
// fragment boundaries. Policy for a jumbo-frame link:
//  - frames longer than 9018 bytes (9000 + Ethernet and a VLAN tag) are dropped;
//  - the IPv4 and UDP headers are read with bpf_xdp_load_bytes, wherever they are;
//  - a UDP datagram to port 7777 (a lab protocol sent without UDP checksum) gets its last 8 bytes overwritten
//    with a trailer ("XDPTRAIL") by bpf_xdp_store_bytes, and if the frame is longer than 6000 bytes,
//    bpf_xdp_adjust_tail trims it to 6000 (shrinking a multi-buffer frame releases fragments from the end;
//    the headers keep their lengths, as in a truncated capture).
// Everything else passes unchanged.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_JUMBO 9018
#define TRIM_TO 6000
#define TRAILER_PORT 7777

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);               /* the largest frame seen */
} largest SEC(".maps");

SEC("xdp.frags")
int xdp_frags(struct xdp_md *ctx)
{
    static const char trailer[8] = "XDPTRAIL";
    struct ethhdr eth;
    struct iphdr ip;
    struct udphdr uh;
    __u32 len = bpf_xdp_get_buff_len(ctx);
    __u32 key = 0;
    __u64 *max;

    max = bpf_map_lookup_elem(&largest, &key);
    if (max && len > *max)
        *max = len;
    if (len > MAX_JUMBO)
        return XDP_DROP;

    if (bpf_xdp_load_bytes(ctx, 0, &eth, sizeof(eth)))
        return XDP_DROP;
    if (eth.h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    if (bpf_xdp_load_bytes(ctx, sizeof(eth), &ip, sizeof(ip)))
        return XDP_DROP;
    if (ip.ihl != 5 || ip.protocol != IPPROTO_UDP)
        return XDP_PASS;
    if (bpf_xdp_load_bytes(ctx, sizeof(eth) + sizeof(ip), &uh, sizeof(uh)))
        return XDP_DROP;
    if (uh.dest != bpf_htons(TRAILER_PORT))
        return XDP_PASS;

    if (len < sizeof(eth) + sizeof(ip) + sizeof(uh) + sizeof(trailer))
        return XDP_PASS;
    if (bpf_xdp_store_bytes(ctx, len - sizeof(trailer), (void *)trailer, sizeof(trailer)))
        return XDP_ABORTED;
    if (len > TRIM_TO && bpf_xdp_adjust_tail(ctx, TRIM_TO - (int)len))
        return XDP_ABORTED;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
