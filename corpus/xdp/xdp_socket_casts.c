// SPDX-License-Identifier: GPL-2.0
// Classifies the local socket each frame is for with the bpf_skc_to_* casts, which return their argument as the
// named kernel socket type when it is one, and NULL otherwise (they take no reference, so the looked-up socket is
// released as usual):
//  - TCP: bpf_skc_lookup_tcp (a sock_common: listeners, established, request and time-wait sockets);
//  - UDP: bpf_sk_lookup_udp (a full socket);
// then every cast on what was found: bpf_skc_to_tcp_sock (a full TCP socket), bpf_skc_to_tcp6_sock (one of
// family AF_INET6), bpf_skc_to_tcp_timewait_sock, bpf_skc_to_tcp_request_sock, bpf_skc_to_udp6_sock (an AF_INET6
// UDP socket), bpf_skc_to_unix_sock (AF_UNIX, never found by these lookups) and bpf_skc_to_mptcp_sock (an MPTCP
// subflow's connection). The lab namespace's sockets (see the manifest) are a TCP listener on each family, an
// established TCP pair and a UDP socket on each family; the sample has no time-wait or request sockets (SYN cookies
// are on), so those casts give NULL. Each frame's outcome goes to the next slot of an ARRAY, and the casts that
// succeeded are counted. Frames for which no socket exists are dropped; the others pass.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define SLOTS 16

enum cast { TCP_SOCK, TCP6_SOCK, TCP_TIMEWAIT_SOCK, TCP_REQUEST_SOCK, UDP6_SOCK, UNIX_SOCK, MPTCP_SOCK, CASTS };

struct outcome {
    __u8 proto;                         /* IPPROTO_TCP or IPPROTO_UDP; 0 when the frame was not looked up */
    __u8 found;                         /* the lookup returned a socket */
    __u8 cast[CASTS];                   /* 1 where the cast returned it */
    __u8 pad[16 - 2 - CASTS];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, SLOTS);
    __type(key, __u32);
    __type(value, struct outcome);
} outcomes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, CASTS);
    __type(key, __u32);
    __type(value, __u64);
} accepted SEC(".maps");

__u32 frames;                           /* .bss: the next slot */

static __always_inline void count(enum cast c)
{
    __u32 key = c;
    __u64 *n = bpf_map_lookup_elem(&accepted, &key);

    if (n)
        (*n)++;
}

#define CAST(o, c, helper, sk)                                                                                  \
    do {                                                                                                        \
        (o)->cast[c] = helper(sk) ? 1 : 0;                                                                      \
        if ((o)->cast[c])                                                                                       \
            count(c);                                                                                           \
    } while (0)

static __always_inline void classify(struct outcome *o, struct bpf_sock *sk)
{
    CAST(o, TCP_SOCK, bpf_skc_to_tcp_sock, sk);
    CAST(o, TCP6_SOCK, bpf_skc_to_tcp6_sock, sk);
    CAST(o, TCP_TIMEWAIT_SOCK, bpf_skc_to_tcp_timewait_sock, sk);
    CAST(o, TCP_REQUEST_SOCK, bpf_skc_to_tcp_request_sock, sk);
    CAST(o, UDP6_SOCK, bpf_skc_to_udp6_sock, sk);
    CAST(o, UNIX_SOCK, bpf_skc_to_unix_sock, sk);
    CAST(o, MPTCP_SOCK, bpf_skc_to_mptcp_sock, sk);
}

SEC("xdp")
int xdp_socket_casts(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct bpf_sock_tuple tuple = {};
    struct outcome *o;
    struct bpf_sock *sk;
    __u32 size, slot;
    __u8 proto;
    void *l4;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP)) {
        struct iphdr *ip = (void *)(eth + 1);

        if ((void *)(ip + 1) > data_end || ip->ihl != 5)
            return XDP_PASS;
        proto = ip->protocol;
        tuple.ipv4.saddr = ip->saddr;
        tuple.ipv4.daddr = ip->daddr;
        size = sizeof(tuple.ipv4);
        l4 = ip + 1;
    } else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
        struct ipv6hdr *ip6 = (void *)(eth + 1);

        if ((void *)(ip6 + 1) > data_end)
            return XDP_PASS;
        proto = ip6->nexthdr;
        __builtin_memcpy(tuple.ipv6.saddr, &ip6->saddr, sizeof(tuple.ipv6.saddr));
        __builtin_memcpy(tuple.ipv6.daddr, &ip6->daddr, sizeof(tuple.ipv6.daddr));
        size = sizeof(tuple.ipv6);
        l4 = ip6 + 1;
    } else {
        return XDP_PASS;
    }

    if (proto == IPPROTO_TCP) {
        struct tcphdr *th = l4;

        if ((void *)(th + 1) > data_end)
            return XDP_PASS;
        if (size == sizeof(tuple.ipv4)) {
            tuple.ipv4.sport = th->source;
            tuple.ipv4.dport = th->dest;
        } else {
            tuple.ipv6.sport = th->source;
            tuple.ipv6.dport = th->dest;
        }
    } else if (proto == IPPROTO_UDP) {
        struct udphdr *uh = l4;

        if ((void *)(uh + 1) > data_end)
            return XDP_PASS;
        if (size == sizeof(tuple.ipv4)) {
            tuple.ipv4.sport = uh->source;
            tuple.ipv4.dport = uh->dest;
        } else {
            tuple.ipv6.sport = uh->source;
            tuple.ipv6.dport = uh->dest;
        }
    } else {
        return XDP_PASS;
    }

    slot = frames++ % SLOTS;
    o = bpf_map_lookup_elem(&outcomes, &slot);
    if (!o)
        return XDP_ABORTED;
    __builtin_memset(o, 0, sizeof(*o));
    o->proto = proto;
    if (proto == IPPROTO_TCP)
        sk = bpf_skc_lookup_tcp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
    else
        sk = bpf_sk_lookup_udp(ctx, &tuple, size, BPF_F_CURRENT_NETNS, 0);
    if (!sk)
        return XDP_DROP;
    o->found = 1;
    classify(o, sk);
    bpf_sk_release(sk);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
