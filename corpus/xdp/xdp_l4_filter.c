// SPDX-License-Identifier: GPL-2.0
// A stateless layer-4 sanity filter for IPv4 and IPv6, the kind that sits in front of a server farm:
//  - TCP: drops NULL scans (no flags), XMAS scans (FIN+PSH+URG), SYN+FIN, SYN+RST, and a data offset below 5;
//  - UDP: drops port 0 on either side and a length field that disagrees with the IP payload;
//  - ICMP: drops redirects (type 5) and timestamp requests (13); ICMPv6: drops redirects (137);
//  - anything cut short by the end of the frame is dropped; other protocols pass.
// Each verdict is counted per reason (an enum) in a PERCPU_ARRAY; the protocol dispatch is a switch.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
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

enum reason {
    R_PASS,
    R_TRUNCATED,
    R_TCP_NULL,
    R_TCP_XMAS,
    R_TCP_SYN_FIN,
    R_TCP_SYN_RST,
    R_TCP_BAD_DOFF,
    R_UDP_PORT_ZERO,
    R_UDP_BAD_LEN,
    R_ICMP_TYPE,
    R_MAX,
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, R_MAX);
    __type(key, __u32);
    __type(value, __u64);
} reasons SEC(".maps");

static __always_inline int verdict(enum reason r)
{
    __u32 key = r;
    __u64 *n = bpf_map_lookup_elem(&reasons, &key);

    if (n)
        *n += 1;
    return r == R_PASS ? XDP_PASS : XDP_DROP;
}

static __always_inline enum reason check_tcp(struct tcphdr *th, void *data_end)
{
    if ((void *)(th + 1) > data_end)
        return R_TRUNCATED;
    if (th->doff < 5)
        return R_TCP_BAD_DOFF;
    if (!th->fin && !th->syn && !th->rst && !th->psh && !th->ack && !th->urg)
        return R_TCP_NULL;
    if (th->fin && th->psh && th->urg)
        return R_TCP_XMAS;
    if (th->syn && th->fin)
        return R_TCP_SYN_FIN;
    if (th->syn && th->rst)
        return R_TCP_SYN_RST;
    return R_PASS;
}

static __always_inline enum reason check_udp(struct udphdr *uh, void *data_end, __u32 l4_len)
{
    if ((void *)(uh + 1) > data_end)
        return R_TRUNCATED;
    if (uh->source == 0 || uh->dest == 0)
        return R_UDP_PORT_ZERO;
    if (bpf_ntohs(uh->len) != l4_len)
        return R_UDP_BAD_LEN;
    return R_PASS;
}

SEC("xdp")
int xdp_l4_filter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    void *l4;
    __u32 l4_len;
    __u8 proto;

    if ((void *)(eth + 1) > data_end)
        return verdict(R_TRUNCATED);

    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);

        if ((void *)(ip + 1) > data_end || ip->ihl < 5)
            return verdict(R_TRUNCATED);
        if (ip->frag_off & bpf_htons(0x1fff))
            return verdict(R_PASS);     /* a later fragment: no L4 header here */
        proto = ip->protocol;
        l4 = (void *)ip + ip->ihl * 4;
        l4_len = bpf_ntohs(ip->tot_len) - ip->ihl * 4;
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);

        if ((void *)(ip6 + 1) > data_end)
            return verdict(R_TRUNCATED);
        proto = ip6->nexthdr;
        l4 = ip6 + 1;
        l4_len = bpf_ntohs(ip6->payload_len);
    } else {
        return XDP_PASS;
    }

    switch (proto) {
    case IPPROTO_TCP:
        return verdict(check_tcp(l4, data_end));
    case IPPROTO_UDP:
        return verdict(check_udp(l4, data_end, l4_len));
    case IPPROTO_ICMP: {
        struct icmphdr *ic = l4;

        if ((void *)(ic + 1) > data_end)
            return verdict(R_TRUNCATED);
        if (ic->type == ICMP_REDIRECT || ic->type == ICMP_TIMESTAMP)
            return verdict(R_ICMP_TYPE);
        return verdict(R_PASS);
    }
    case IPPROTO_ICMPV6: {
        struct icmp6hdr *ic6 = l4;

        if ((void *)(ic6 + 1) > data_end)
            return verdict(R_TRUNCATED);
        if (ic6->icmp6_type == 137)     /* NDISC_REDIRECT */
            return verdict(R_ICMP_TYPE);
        return verdict(R_PASS);
    }
    default:
        return verdict(R_PASS);
    }
}

char _license[] SEC("license") = "GPL";
