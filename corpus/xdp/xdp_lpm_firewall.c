// SPDX-License-Identifier: GPL-2.0
// A source-address firewall on longest-prefix-match tries (LPM_TRIE, one for IPv4 and one for IPv6, created
// with BPF_F_NO_PREALLOC as the kernel requires). User space installs prefixes with an action; the most
// specific prefix that covers the source address decides, so an allow rule for 192.0.2.128/25 can carve an
// exception out of a deny rule for 192.0.2.0/24. Each rule counts its hits with an atomic add. Addresses no
// rule covers pass.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct lpm_key4 {
    __u32 prefixlen;                    /* bits of addr that matter; a lookup uses 32 */
    __u8 addr[4];
};

struct lpm_key6 {
    __u32 prefixlen;
    __u8 addr[16];
};

struct rule {
    __u32 action;                       /* XDP_DROP or XDP_PASS */
    __u32 pad;
    __u64 hits;
};

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_key4);
    __type(value, struct rule);
} rules_v4 SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LPM_TRIE);
    __uint(max_entries, 1024);
    __uint(map_flags, BPF_F_NO_PREALLOC);
    __type(key, struct lpm_key6);
    __type(value, struct rule);
} rules_v6 SEC(".maps");

static __always_inline int apply(struct rule *r)
{
    if (!r)
        return XDP_PASS;
    __sync_fetch_and_add(&r->hits, 1);
    return r->action == XDP_DROP ? XDP_DROP : XDP_PASS;
}

SEC("xdp")
int xdp_lpm_firewall(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;

    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        struct lpm_key4 key = { .prefixlen = 32 };

        if ((void *)(ip + 1) > data_end)
            return XDP_DROP;
        __builtin_memcpy(key.addr, &ip->saddr, sizeof(key.addr));
        return apply(bpf_map_lookup_elem(&rules_v4, &key));
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        struct lpm_key6 key = { .prefixlen = 128 };

        if ((void *)(ip6 + 1) > data_end)
            return XDP_DROP;
        __builtin_memcpy(key.addr, &ip6->saddr, sizeof(key.addr));
        return apply(bpf_map_lookup_elem(&rules_v6, &key));
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
