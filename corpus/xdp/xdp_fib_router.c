// SPDX-License-Identifier: GPL-2.0
// An IPv4/IPv6 router's fast path in the style of the kernel's samples/bpf/xdp_fwd: bpf_fib_lookup asks the
// kernel's routing table and neighbour cache for the packet's next hop. On success the TTL (hop limit) is
// decremented (the IPv4 checksum updated incrementally, RFC 1624), the MAC addresses are rewritten from the
// lookup result, and bpf_redirect sends the frame out of the egress ifindex. Everything the fast path cannot
// handle goes to the stack with XDP_PASS: TTL <= 1 (the stack sends ICMP time exceeded), no route, a neighbour
// not yet resolved, forwarding disabled on the device, or a packet larger than the egress MTU.
// The lookup runs in the network namespace of the receiving device, so the routes come from the environment.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 16);
    __type(key, __u32);                 /* BPF_FIB_LKUP_RET_* */
    __type(value, __u64);
} fib_results SEC(".maps");

static __always_inline void count(__u32 rc)
{
    __u64 *n = bpf_map_lookup_elem(&fib_results, &rc);

    if (n)
        __sync_fetch_and_add(n, 1);
}

static __always_inline void ip_decrease_ttl(struct iphdr *ip)
{
    __u32 check = ip->check;

    check += bpf_htons(0x0100);         /* the TTL is the high byte of its 16-bit word */
    ip->check = (__u16)(check + (check >= 0xffff));
    ip->ttl--;
}

static __always_inline int forward(struct xdp_md *ctx, struct bpf_fib_lookup *p, struct ethhdr *eth)
{
    long rc = bpf_fib_lookup(ctx, p, sizeof(*p), 0);

    count(rc < 0 ? 15 : (__u32)rc);
    if (rc != BPF_FIB_LKUP_RET_SUCCESS)
        return -1;
    __builtin_memcpy(eth->h_dest, p->dmac, ETH_ALEN);
    __builtin_memcpy(eth->h_source, p->smac, ETH_ALEN);
    return 0;
}

SEC("xdp")
int xdp_fib_router(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct bpf_fib_lookup p;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    __builtin_memset(&p, 0, sizeof(p));
    p.ifindex = ctx->ingress_ifindex;

    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);

        if ((void *)(ip + 1) > data_end)
            return XDP_DROP;
        if (ip->ttl <= 1)
            return XDP_PASS;
        p.family = AF_INET;
        p.tos = ip->tos;
        p.l4_protocol = ip->protocol;
        p.tot_len = bpf_ntohs(ip->tot_len);
        p.ipv4_src = ip->saddr;
        p.ipv4_dst = ip->daddr;
        if (forward(ctx, &p, eth))
            return XDP_PASS;
        ip_decrease_ttl(ip);
        return bpf_redirect(p.ifindex, 0);
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);

        if ((void *)(ip6 + 1) > data_end)
            return XDP_DROP;
        if (ip6->hop_limit <= 1)
            return XDP_PASS;
        p.family = AF_INET6;
        p.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
        p.l4_protocol = ip6->nexthdr;
        p.tot_len = sizeof(*ip6) + bpf_ntohs(ip6->payload_len);
        __builtin_memcpy(p.ipv6_src, &ip6->saddr, sizeof(p.ipv6_src));
        __builtin_memcpy(p.ipv6_dst, &ip6->daddr, sizeof(p.ipv6_dst));
        if (forward(ctx, &p, eth))
            return XDP_PASS;
        ip6->hop_limit--;
        return bpf_redirect(p.ifindex, 0);
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
