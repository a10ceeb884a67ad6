// SPDX-License-Identifier: GPL-2.0
// BPF-to-BPF calls (call with src_reg BPF_PSEUDO_CALL, into .text): a parser split into functions clang must
// not inline. The static functions share a cursor struct on the caller's stack by pointer and advance it;
// calls go three deep (xdp_subprogs -> parse_l3 -> parse_ipv4 -> parse_ports); flow_hash takes five arguments,
// the most a BPF function can take. classify() is a global function: Linux verifies it once, on its own,
// against its BTF prototype (func_info), not per call site, so it may take only the context and scalars.
// Policy: frames to a port in the blocked range [blocked_lo, blocked_hi] drop, half of the other flows (by hash)
// are marked in a HASH, and everything else passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct cursor {
    void *pos;
    void *end;
};

struct pkt_info {
    __be32 saddr, daddr;
    __u16 sport, dport;                 /* host order */
    __u8 proto;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 128);
    __type(key, __u32);                 /* flow hash */
    __type(value, __u32);               /* destination port */
} marked_flows SEC(".maps");

__u16 blocked_lo = 6000;                /* .data: user space may change them */
__u16 blocked_hi = 6063;

static __noinline int parse_ports(struct cursor *c, struct pkt_info *info)
{
    struct udphdr *uh = c->pos;         /* TCP and UDP both start with the two ports */

    if ((void *)(uh + 1) > c->end)
        return -1;
    info->sport = bpf_ntohs(uh->source);
    info->dport = bpf_ntohs(uh->dest);
    c->pos = uh + 1;
    return 0;
}

static __noinline int parse_ipv4(struct cursor *c, struct pkt_info *info)
{
    struct iphdr *ip = c->pos;

    if ((void *)(ip + 1) > c->end || ip->ihl < 5)
        return -1;
    info->saddr = ip->saddr;
    info->daddr = ip->daddr;
    info->proto = ip->protocol;
    c->pos = (void *)ip + ip->ihl * 4;
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
        return 0;
    return parse_ports(c, info);
}

static __noinline int parse_l3(struct cursor *c, struct pkt_info *info)
{
    struct ethhdr *eth = c->pos;

    if ((void *)(eth + 1) > c->end)
        return -1;
    c->pos = eth + 1;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return 1;                       /* not ours */
    return parse_ipv4(c, info);
}

static __noinline __u32 flow_hash(__u32 saddr, __u32 daddr, __u32 sport, __u32 dport, __u32 proto)
{
    __u32 h = 0x9e3779b9 ^ proto;

    h = (h ^ saddr) * 0x01000193;
    h = (h ^ daddr) * 0x01000193;
    h = (h ^ (sport << 16 | dport)) * 0x01000193;
    return h ^ (h >> 15);
}

__noinline int classify(struct xdp_md *ctx, __u32 hash, __u32 dport)
{
    __u32 len = ctx->data_end - ctx->data;

    if (dport >= blocked_lo && dport <= blocked_hi)
        return XDP_DROP;
    if ((hash & 1) && len > 0)
        bpf_map_update_elem(&marked_flows, &hash, &dport, BPF_ANY);
    return XDP_PASS;
}

SEC("xdp")
int xdp_subprogs(struct xdp_md *ctx)
{
    struct cursor c = {
        .pos = (void *)(long)ctx->data,
        .end = (void *)(long)ctx->data_end,
    };
    struct pkt_info info = {};
    __u32 hash;
    int rc;

    rc = parse_l3(&c, &info);
    if (rc < 0)
        return XDP_DROP;
    if (rc > 0)
        return XDP_PASS;
    hash = flow_hash(info.saddr, info.daddr, info.sport, info.dport, info.proto);
    return classify(ctx, hash, info.dport);
}

char _license[] SEC("license") = "GPL";
