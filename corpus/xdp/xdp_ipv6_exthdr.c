// SPDX-License-Identifier: GPL-2.0
// Walks an IPv6 extension header chain with a bounded loop of at most 8 headers: Hop-by-Hop Options (0),
// Routing (43), Fragment (44), Destination Options (60) and Authentication Header (51), then counts the
// upper-layer protocol in an ARRAY indexed by protocol number. Drops, as RFC 8200 and RFC 5095 ask:
//  - a Routing header of type 0 (deprecated) with segments left;
//  - Hop-by-Hop Options anywhere but first;
//  - a first fragment that says no upper-layer header follows (next header 59);
//  - chains longer than 8 headers, headers cut short, and payload lengths past the frame.
// Non-first fragments pass uncounted (their upper-layer header is in another fragment).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_EXT_HEADERS 8

struct opt_hdr {                        /* the first two bytes every extension header starts with */
    __u8 nexthdr;
    __u8 hdrlen;
};

struct rt_hdr {
    __u8 nexthdr;
    __u8 hdrlen;
    __u8 type;
    __u8 segments_left;
};

struct frag_hdr {
    __u8 nexthdr;
    __u8 reserved;
    __be16 frag_off;                    /* offset in 8-byte units << 3 | M flag */
    __be32 identification;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} l4_proto_count SEC(".maps");

SEC("xdp")
int xdp_ipv6_exthdr(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct ipv6hdr *ip6;
    void *cur;
    __u8 nexthdr;
    __u32 key;
    __u64 *n;
    int i, fragment = 0;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IPV6))
        return XDP_PASS;
    ip6 = (void *)(eth + 1);
    if ((void *)(ip6 + 1) > data_end)
        return XDP_DROP;
    if ((void *)(ip6 + 1) + bpf_ntohs(ip6->payload_len) > data_end)
        return XDP_DROP;

    nexthdr = ip6->nexthdr;
    cur = ip6 + 1;
    for (i = 0; i < MAX_EXT_HEADERS; i++) {
        struct opt_hdr *oh = cur;
        struct rt_hdr *rh = cur;
        struct frag_hdr *fh = cur;

        switch (nexthdr) {
        case IPPROTO_HOPOPTS:
            if (i != 0)
                return XDP_DROP;
            /* fall through */
        case IPPROTO_DSTOPTS:
            if ((void *)(oh + 1) > data_end)
                return XDP_DROP;
            nexthdr = oh->nexthdr;
            cur += (oh->hdrlen + 1) * 8;
            break;
        case IPPROTO_ROUTING:
            if ((void *)(rh + 1) > data_end)
                return XDP_DROP;
            if (rh->type == 0 && rh->segments_left != 0)
                return XDP_DROP;
            nexthdr = rh->nexthdr;
            cur += (rh->hdrlen + 1) * 8;
            break;
        case IPPROTO_AH:
            if ((void *)(oh + 1) > data_end)
                return XDP_DROP;
            nexthdr = oh->nexthdr;
            cur += (oh->hdrlen + 2) * 4;
            break;
        case IPPROTO_FRAGMENT:
            if ((void *)(fh + 1) > data_end)
                return XDP_DROP;
            if (bpf_ntohs(fh->frag_off) & ~7)
                return XDP_PASS;        /* not the first fragment */
            fragment = 1;
            nexthdr = fh->nexthdr;
            cur = fh + 1;
            break;
        default:
            goto upper_layer;
        }
    }
    return XDP_DROP;                    /* too many extension headers */

upper_layer:
    if (nexthdr == IPPROTO_NONE && fragment)
        return XDP_DROP;
    if (cur > data_end)
        return XDP_DROP;
    key = nexthdr;
    n = bpf_map_lookup_elem(&l4_proto_count, &key);
    if (n)
        __sync_fetch_and_add(n, 1);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
