// SPDX-License-Identifier: GPL-2.0
// A conntrack-like stateful TCP/UDP firewall over an LRU_HASH flow table: when the table is full, the least
// recently used flows are evicted to make room. A flow is keyed by its 5-tuple in a canonical order (the lower
// address/port end first), so both directions find the same entry. TCP state follows the handshake:
// a SYN (without ACK) opens a flow; a SYN+ACK in an open flow moves it to ESTABLISHED; other segments pass only
// in a known flow; a RST, or the second FIN, deletes it (bpf_map_delete_elem). UDP packets always pass and
// create or refresh their flow. Each entry records the time of its last packet from bpf_ktime_get_ns and counts
// its packets with an atomic add (an LRU_HASH value cannot hold a bpf_spin_lock: the kernel refuses it with
// -EOPNOTSUPP). Non-IPv4 frames pass.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum ct_state { CT_SYN_SENT = 1, CT_ESTABLISHED, CT_FIN_WAIT, CT_UDP };

struct ct_key {
    __be32 addr_lo, addr_hi;
    __be16 port_lo, port_hi;
    __u8 proto;
    __u8 pad[3];
};

struct ct_entry {
    __u32 state;
    __u32 fins;                         /* directions that sent a FIN: bit 0 lo->hi, bit 1 hi->lo */
    __u64 last_seen_ns;
    __u64 packets;
};

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, 8);             /* small on purpose: the sample traffic overflows it */
    __type(key, struct ct_key);
    __type(value, struct ct_entry);
} conntrack SEC(".maps");

static __always_inline int make_key(struct ct_key *k, struct iphdr *ip, __be16 sport, __be16 dport)
{
    int from_lo = bpf_ntohl(ip->saddr) < bpf_ntohl(ip->daddr) ||
                  (ip->saddr == ip->daddr && bpf_ntohs(sport) <= bpf_ntohs(dport));

    k->proto = ip->protocol;
    k->addr_lo = from_lo ? ip->saddr : ip->daddr;
    k->addr_hi = from_lo ? ip->daddr : ip->saddr;
    k->port_lo = from_lo ? sport : dport;
    k->port_hi = from_lo ? dport : sport;
    return from_lo;
}

static __always_inline int track_tcp(struct ct_key *k, struct tcphdr *th, int from_lo)
{
    struct ct_entry *e = bpf_map_lookup_elem(&conntrack, k);
    __u64 now = bpf_ktime_get_ns();
    int close = 0;

    if (!e) {
        struct ct_entry fresh = { .state = CT_SYN_SENT, .last_seen_ns = now, .packets = 1 };

        if (!th->syn || th->ack || th->rst || th->fin)
            return XDP_DROP;            /* no connection to belong to */
        bpf_map_update_elem(&conntrack, k, &fresh, BPF_ANY);
        return XDP_PASS;
    }

    e->last_seen_ns = now;
    __sync_fetch_and_add(&e->packets, 1);
    if (th->rst) {
        close = 1;
    } else if (th->syn && th->ack && e->state == CT_SYN_SENT) {
        e->state = CT_ESTABLISHED;
    } else if (th->fin) {
        e->fins |= from_lo ? 1 : 2;
        e->state = CT_FIN_WAIT;
        close = e->fins == 3;
    }

    if (close)
        bpf_map_delete_elem(&conntrack, k);
    return XDP_PASS;
}

static __always_inline int track_udp(struct ct_key *k)
{
    struct ct_entry *e = bpf_map_lookup_elem(&conntrack, k);
    struct ct_entry fresh = { .state = CT_UDP, .packets = 1 };

    if (!e) {
        fresh.last_seen_ns = bpf_ktime_get_ns();
        bpf_map_update_elem(&conntrack, k, &fresh, BPF_NOEXIST);
        return XDP_PASS;
    }
    __sync_fetch_and_add(&e->packets, 1);
    e->last_seen_ns = bpf_ktime_get_ns();
    return XDP_PASS;
}

SEC("xdp")
int xdp_conntrack(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct ct_key key = {};
    struct iphdr *ip;
    void *l4;
    int from_lo;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl < 5)
        return XDP_DROP;
    l4 = (void *)ip + ip->ihl * 4;

    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *th = l4;

        if ((void *)(th + 1) > data_end)
            return XDP_DROP;
        from_lo = make_key(&key, ip, th->source, th->dest);
        return track_tcp(&key, th, from_lo);
    }
    if (ip->protocol == IPPROTO_UDP) {
        struct udphdr *uh = l4;

        if ((void *)(uh + 1) > data_end)
            return XDP_DROP;
        make_key(&key, ip, uh->source, uh->dest);
        return track_udp(&key);
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
