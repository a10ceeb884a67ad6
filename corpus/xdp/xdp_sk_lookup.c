// SPDX-License-Identifier: GPL-2.0
// Drops traffic no local socket would accept, before the stack spends time on it (a cheap scan filter), with
// the socket lookup helpers. They search the receiving device's network namespace (BPF_F_CURRENT_NETNS), and
// every socket they return holds a reference that must be given back with bpf_sk_release.
//  - UDP: bpf_sk_lookup_udp; no socket -> XDP_DROP.
//  - TCP: bpf_sk_lookup_tcp finds full sockets (listening or established); failing that, bpf_skc_lookup_tcp also
//    finds request and time-wait sockets; none at all -> XDP_DROP.
//  - A SYN to a listening socket gets a SYN cookie from bpf_tcp_gen_syncookie (the socket-based helper; the
//    headers are copied to the stack, options included), and a bare ACK to a listener is checked with
//    bpf_tcp_check_syncookie. The outcomes are counted; the frames pass either way, the stack decides.
//    (Linux makes a cookie only when the listener's queue overflows or net.ipv4.tcp_syncookies is 2, and checks
//    one only after a recent overflow; the manifest's lab namespace sets tcp_syncookies to 2.)
// IPv4 and IPv6. The sockets come from the environment (see the manifest).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum outcome { NO_SOCKET, FULL_SOCKET, SKC_ONLY, COOKIE_MADE, COOKIE_FAILED, ACK_VALID, ACK_INVALID, OUTCOMES };

struct tcp_copy {
    struct tcphdr th;
    __u8 options[40];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, OUTCOMES);
    __type(key, __u32);
    __type(value, __u64);
} outcomes SEC(".maps");

static __always_inline void bump(enum outcome o)
{
    __u32 key = o;
    __u64 *n = bpf_map_lookup_elem(&outcomes, &key);

    if (n)
        __sync_fetch_and_add(n, 1);
}

/* A listener was found: SYN -> cookie, bare ACK -> check. iph points at a stack copy, th_len <= 60. */
static __always_inline void listener(struct xdp_md *ctx, struct bpf_sock *sk, void *iph, __u32 iph_len,
                                     __u32 l4_off, struct tcphdr *th, __u32 payload_len)
{
    struct tcp_copy tc = {};
    __u32 th_len = th->doff * 4;
    __s64 rc;

    if (th_len < sizeof(struct tcphdr) || th_len > sizeof(tc))
        return;
    if (bpf_xdp_load_bytes(ctx, l4_off, &tc, th_len))
        return;
    if (th->syn && !th->ack) {
        rc = bpf_tcp_gen_syncookie(sk, iph, iph_len, &tc.th, th_len);
        bump(rc < 0 ? COOKIE_FAILED : COOKIE_MADE);
    } else if (th->ack && !th->syn && !th->fin && !th->rst && payload_len == th_len) {
        rc = bpf_tcp_check_syncookie(sk, iph, iph_len, &tc.th, th_len);
        bump(rc == 0 ? ACK_VALID : ACK_INVALID);
    }
}

static __always_inline int lookup(struct xdp_md *ctx, struct bpf_sock_tuple *tuple, __u32 tuple_len, __u8 proto,
                                  void *iph, __u32 iph_len, __u32 l4_off, struct tcphdr *th, __u32 payload_len)
{
    struct bpf_sock *sk;

    if (proto == IPPROTO_UDP) {
        sk = bpf_sk_lookup_udp(ctx, tuple, tuple_len, BPF_F_CURRENT_NETNS, 0);
        if (!sk) {
            bump(NO_SOCKET);
            return XDP_DROP;
        }
        bump(FULL_SOCKET);
        bpf_sk_release(sk);
        return XDP_PASS;
    }

    sk = bpf_sk_lookup_tcp(ctx, tuple, tuple_len, BPF_F_CURRENT_NETNS, 0);
    if (sk) {
        bump(FULL_SOCKET);
        if (sk->state == BPF_TCP_LISTEN)
            listener(ctx, sk, iph, iph_len, l4_off, th, payload_len);
        bpf_sk_release(sk);
        return XDP_PASS;
    }
    sk = bpf_skc_lookup_tcp(ctx, tuple, tuple_len, BPF_F_CURRENT_NETNS, 0);
    if (sk) {
        bump(SKC_ONLY);
        bpf_sk_release(sk);
        return XDP_PASS;
    }
    bump(NO_SOCKET);
    return XDP_DROP;
}

SEC("xdp")
int xdp_sk_lookup(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct bpf_sock_tuple tuple = {};
    struct udphdr *ports;               /* TCP and UDP start alike */
    struct tcphdr *th;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;

    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);
        struct iphdr ip_copy;

        if ((void *)(ip + 1) > data_end || ip->ihl != 5)
            return XDP_PASS;
        if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
            return XDP_PASS;
        th = (void *)(ip + 1);
        ports = (void *)(ip + 1);
        if ((void *)(ports + 1) > data_end)
            return XDP_DROP;
        if (ip->protocol == IPPROTO_TCP && (void *)(th + 1) > data_end)
            return XDP_DROP;
        tuple.ipv4.saddr = ip->saddr;
        tuple.ipv4.daddr = ip->daddr;
        tuple.ipv4.sport = ports->source;
        tuple.ipv4.dport = ports->dest;
        ip_copy = *ip;
        return lookup(ctx, &tuple, sizeof(tuple.ipv4), ip->protocol, &ip_copy, sizeof(ip_copy),
                      sizeof(*eth) + sizeof(*ip), th, bpf_ntohs(ip->tot_len) - sizeof(*ip));
    }
    if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);
        struct ipv6hdr ip6_copy;

        if ((void *)(ip6 + 1) > data_end)
            return XDP_PASS;
        if (ip6->nexthdr != IPPROTO_TCP && ip6->nexthdr != IPPROTO_UDP)
            return XDP_PASS;
        th = (void *)(ip6 + 1);
        ports = (void *)(ip6 + 1);
        if ((void *)(ports + 1) > data_end)
            return XDP_DROP;
        if (ip6->nexthdr == IPPROTO_TCP && (void *)(th + 1) > data_end)
            return XDP_DROP;
        __builtin_memcpy(tuple.ipv6.saddr, &ip6->saddr, sizeof(tuple.ipv6.saddr));
        __builtin_memcpy(tuple.ipv6.daddr, &ip6->daddr, sizeof(tuple.ipv6.daddr));
        tuple.ipv6.sport = ports->source;
        tuple.ipv6.dport = ports->dest;
        ip6_copy = *ip6;
        return lookup(ctx, &tuple, sizeof(tuple.ipv6), ip6->nexthdr, &ip6_copy, sizeof(ip6_copy),
                      sizeof(*eth) + sizeof(*ip6), th, bpf_ntohs(ip6->payload_len));
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
