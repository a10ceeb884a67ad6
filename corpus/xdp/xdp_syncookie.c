// SPDX-License-Identifier: GPL-2.0
// A SYN-flood shield in front of a server, in the style of the kernel's xdp_synproxy selftest, much reduced:
// no connection state is kept until the client proves it can receive.
//  - A TCP SYN to a protected port (80, 443): bpf_tcp_raw_gen_syncookie_ipv4 / _ipv6 computes a SYN cookie from
//    the IP and TCP headers alone (copied to the stack, options included, with bpf_xdp_load_bytes). The SYN is
//    turned into the SYN+ACK in place: addresses and ports swapped, seq = cookie, ack = their seq + 1, the
//    options cut off with bpf_xdp_adjust_tail, the IPv4 and TCP checksums recomputed with bpf_csum_diff. It
//    leaves with XDP_TX.
//  - The client's bare ACK (no payload) is checked with bpf_tcp_raw_check_syncookie_ipv4 / _ipv6: a valid cookie
//    passes (the stack would now open the connection), an invalid one is dropped.
//  - Everything else passes. The cookie depends on a per-boot secret and the time, so its bytes differ per run.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct tcp_copy {
    struct tcphdr th;
    __u8 options[40];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 4);
    __type(key, __u32);                 /* 0 cookie sent, 1 gen failed, 2 ACK valid, 3 ACK invalid */
    __type(value, __u64);
} shield_stats SEC(".maps");

static __always_inline void bump(__u32 key)
{
    __u64 *n = bpf_map_lookup_elem(&shield_stats, &key);

    if (n)
        __sync_fetch_and_add(n, 1);
}

static __always_inline int protected_port(__be16 port)
{
    return port == bpf_htons(80) || port == bpf_htons(443);
}

static __always_inline __u16 fold(__s64 sum)
{
    __u64 s = (__u64)sum;

    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return ~s;
}

/* The SYN+ACK's TCP header, written over the SYN's (20 bytes, no options) */
static __always_inline void make_synack(struct tcphdr *th, __u32 cookie)
{
    __be16 port = th->source;
    __u32 their_seq = bpf_ntohl(th->seq);

    th->source = th->dest;
    th->dest = port;
    th->ack_seq = bpf_htonl(their_seq + 1);
    th->seq = bpf_htonl(cookie);
    *((__u8 *)th + 12) = 5 << 4;        /* data offset 5, reserved bits clear */
    *((__u8 *)th + 13) = 0x12;          /* SYN | ACK */
    th->window = bpf_htons(65535);
    th->check = 0;
    th->urg_ptr = 0;
}

static __always_inline void swap_mac(struct ethhdr *eth)
{
    __u8 tmp[ETH_ALEN];

    __builtin_memcpy(tmp, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, tmp, ETH_ALEN);
}

static __always_inline int syn4(struct xdp_md *ctx, struct iphdr *ip, __u32 th_len, __u32 frame_len)
{
    struct iphdr ip_copy = *ip;
    struct tcp_copy tc = {};
    void *data, *data_end;
    struct ethhdr *eth;
    struct tcphdr *th;
    __s64 cookie, sum;
    __be32 pseudo[3];

    if (bpf_xdp_load_bytes(ctx, sizeof(*eth) + sizeof(*ip), &tc, th_len))
        return XDP_DROP;
    cookie = bpf_tcp_raw_gen_syncookie_ipv4(&ip_copy, &tc.th, th_len);
    if (cookie < 0) {
        bump(1);
        return XDP_DROP;
    }
    if (bpf_xdp_adjust_tail(ctx, (int)(sizeof(*eth) + sizeof(*ip) + sizeof(*th)) - (int)frame_len))
        return XDP_DROP;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    ip = (void *)(eth + 1);
    th = (void *)(ip + 1);
    if ((void *)(th + 1) > data_end)
        return XDP_DROP;

    swap_mac(eth);
    ip->daddr = ip_copy.saddr;
    ip->saddr = ip_copy.daddr;
    ip->tot_len = bpf_htons(sizeof(*ip) + sizeof(*th));
    ip->ttl = 64;
    ip->check = 0;
    ip->check = fold(bpf_csum_diff(0, 0, (__be32 *)ip, sizeof(*ip), 0));

    make_synack(th, (__u32)cookie);
    pseudo[0] = ip->saddr;
    pseudo[1] = ip->daddr;
    pseudo[2] = bpf_htonl((IPPROTO_TCP << 16) | sizeof(*th));
    sum = bpf_csum_diff(0, 0, pseudo, sizeof(pseudo), 0);
    th->check = fold(bpf_csum_diff(0, 0, (__be32 *)th, sizeof(*th), sum));
    bump(0);
    return XDP_TX;
}

static __always_inline int syn6(struct xdp_md *ctx, struct ipv6hdr *ip6, __u32 th_len, __u32 frame_len)
{
    struct ipv6hdr ip6_copy = *ip6;
    struct tcp_copy tc = {};
    void *data, *data_end;
    struct ethhdr *eth;
    struct tcphdr *th;
    __s64 cookie, sum;
    __be32 pseudo_tail[2];

    if (bpf_xdp_load_bytes(ctx, sizeof(*eth) + sizeof(*ip6), &tc, th_len))
        return XDP_DROP;
    cookie = bpf_tcp_raw_gen_syncookie_ipv6(&ip6_copy, &tc.th, th_len);
    if (cookie < 0) {
        bump(1);
        return XDP_DROP;
    }
    if (bpf_xdp_adjust_tail(ctx, (int)(sizeof(*eth) + sizeof(*ip6) + sizeof(*th)) - (int)frame_len))
        return XDP_DROP;
    data = (void *)(long)ctx->data;
    data_end = (void *)(long)ctx->data_end;
    eth = data;
    ip6 = (void *)(eth + 1);
    th = (void *)(ip6 + 1);
    if ((void *)(th + 1) > data_end)
        return XDP_DROP;

    swap_mac(eth);
    ip6->saddr = ip6_copy.daddr;
    ip6->daddr = ip6_copy.saddr;
    ip6->payload_len = bpf_htons(sizeof(*th));
    ip6->hop_limit = 64;

    make_synack(th, (__u32)cookie);
    pseudo_tail[0] = bpf_htonl(sizeof(*th));
    pseudo_tail[1] = bpf_htonl(IPPROTO_TCP);
    sum = bpf_csum_diff(0, 0, (__be32 *)&ip6->saddr, 2 * sizeof(struct in6_addr), 0);
    sum = bpf_csum_diff(0, 0, pseudo_tail, sizeof(pseudo_tail), sum);
    th->check = fold(bpf_csum_diff(0, 0, (__be32 *)th, sizeof(*th), sum));
    bump(0);
    return XDP_TX;
}

static __always_inline int is_bare_ack(struct tcphdr *th, __u32 payload_len)
{
    return th->ack && !th->syn && !th->fin && !th->rst && payload_len == th->doff * 4;
}

SEC("xdp")
int xdp_syncookie(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u32 frame_len = data_end - data;
    struct tcphdr *th;
    __u32 th_len;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;

    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);

        if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_TCP)
            return XDP_PASS;
        th = (void *)(ip + 1);
        if ((void *)(th + 1) > data_end || !protected_port(th->dest))
            return XDP_PASS;
        th_len = th->doff * 4;
        if (th_len < sizeof(*th) || th_len > sizeof(struct tcp_copy))
            return XDP_DROP;
        if (th->syn && !th->ack && !th->rst && !th->fin)
            return syn4(ctx, ip, th_len, frame_len);
        if (is_bare_ack(th, bpf_ntohs(ip->tot_len) - sizeof(*ip))) {
            if (bpf_tcp_raw_check_syncookie_ipv4(ip, th) == 0) {
                bump(2);
                return XDP_PASS;
            }
            bump(3);
            return XDP_DROP;
        }
        return XDP_PASS;
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);

        if ((void *)(ip6 + 1) > data_end || ip6->nexthdr != IPPROTO_TCP)
            return XDP_PASS;
        th = (void *)(ip6 + 1);
        if ((void *)(th + 1) > data_end || !protected_port(th->dest))
            return XDP_PASS;
        th_len = th->doff * 4;
        if (th_len < sizeof(*th) || th_len > sizeof(struct tcp_copy))
            return XDP_DROP;
        if (th->syn && !th->ack && !th->rst && !th->fin)
            return syn6(ctx, ip6, th_len, frame_len);
        if (is_bare_ack(th, bpf_ntohs(ip6->payload_len))) {
            if (bpf_tcp_raw_check_syncookie_ipv6(ip6, th) == 0) {
                bump(2);
                return XDP_PASS;
            }
            bump(3);
            return XDP_DROP;
        }
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
