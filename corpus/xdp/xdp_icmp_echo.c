// SPDX-License-Identifier: GPL-2.0
// Answers pings in XDP: an ICMP echo request (type 8) or ICMPv6 echo request (type 128) is turned into the
// echo reply in place and sent back with XDP_TX. MAC and IP addresses are swapped, the TTL or hop limit reset
// to 64. The IPv4 header checksum is recomputed from scratch with bpf_csum_diff over the 20-byte header; the
// ICMP checksums are updated incrementally (RFC 1624): for ICMP with bpf_csum_diff over the changed 32-bit word,
// for ICMPv6 by hand (the pseudo-header is unchanged, since the addresses only swap). IPv4 headers with options,
// fragments and anything that is not an echo request pass to the stack.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/icmpv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* <linux/icmp.h> pulls in libc's socket headers, which a BPF build cannot use: declare what we need */
#define ICMP_ECHOREPLY  0
#define ICMP_REDIRECT   5
#define ICMP_ECHO       8
#define ICMP_TIMESTAMP  13

struct icmphdr {
    __u8 type;
    __u8 code;
    __sum16 checksum;
    __be16 id;
    __be16 sequence;
};

static __always_inline __u16 csum_fold(__u64 sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return ~sum;
}

static __always_inline void swap_eth(struct ethhdr *eth)
{
    __u8 tmp[ETH_ALEN];

    __builtin_memcpy(tmp, eth->h_dest, ETH_ALEN);
    __builtin_memcpy(eth->h_dest, eth->h_source, ETH_ALEN);
    __builtin_memcpy(eth->h_source, tmp, ETH_ALEN);
}

static __always_inline int echo4(struct ethhdr *eth, struct iphdr *ip, void *data_end)
{
    struct icmphdr *ic = (void *)(ip + 1);
    __u32 old_word, new_word;
    __be32 addr;
    __s64 sum;

    if ((void *)(ic + 1) > data_end)
        return XDP_DROP;
    if (ip->ihl != 5 || (ip->frag_off & bpf_htons(0x3fff)) || ic->type != ICMP_ECHO || ic->code != 0)
        return XDP_PASS;

    /* type 8 -> 0: fold the change of the first 32-bit word into the ICMP checksum */
    old_word = *(__u32 *)ic;
    ic->type = ICMP_ECHOREPLY;
    new_word = *(__u32 *)ic & ~bpf_htonl(0xffff);     /* checksum bytes out of the diff */
    old_word &= ~bpf_htonl(0xffff);
    sum = bpf_csum_diff(&old_word, sizeof(old_word), &new_word, sizeof(new_word), (__u16)~ic->checksum);
    ic->checksum = csum_fold(sum);

    addr = ip->saddr;
    ip->saddr = ip->daddr;
    ip->daddr = addr;
    ip->ttl = 64;
    ip->check = 0;
    sum = bpf_csum_diff(0, 0, (__be32 *)ip, sizeof(*ip), 0);
    ip->check = csum_fold(sum);

    swap_eth(eth);
    return XDP_TX;
}

static __always_inline int echo6(struct ethhdr *eth, struct ipv6hdr *ip6, void *data_end)
{
    struct icmp6hdr *ic6 = (void *)(ip6 + 1);
    struct in6_addr addr;
    __u32 sum;

    if ((void *)(ic6 + 1) > data_end)
        return XDP_DROP;
    if (ip6->nexthdr != IPPROTO_ICMPV6 || ic6->icmp6_type != ICMPV6_ECHO_REQUEST || ic6->icmp6_code != 0)
        return XDP_PASS;

    /* 128 -> 129 adds 1 to the type byte, i.e. 0x0100 to the first 16-bit word: HC' = ~(~HC + ~m + m') */
    sum = (__u16)~bpf_ntohs(ic6->icmp6_cksum);
    sum += (__u16)~(ICMPV6_ECHO_REQUEST << 8);
    sum += ICMPV6_ECHO_REPLY << 8;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    ic6->icmp6_type = ICMPV6_ECHO_REPLY;
    ic6->icmp6_cksum = bpf_htons(~sum);

    addr = ip6->saddr;
    ip6->saddr = ip6->daddr;
    ip6->daddr = addr;
    ip6->hop_limit = 64;

    swap_eth(eth);
    return XDP_TX;
}

SEC("xdp")
int xdp_icmp_echo(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);

        if ((void *)(ip + 1) > data_end)
            return XDP_DROP;
        if (ip->protocol != IPPROTO_ICMP)
            return XDP_PASS;
        return echo4(eth, ip, data_end);
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);

        if ((void *)(ip6 + 1) > data_end)
            return XDP_DROP;
        return echo6(eth, ip6, data_end);
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
