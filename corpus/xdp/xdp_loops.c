// SPDX-License-Identifier: GPL-2.0
// Loops the verifier accepts, used to validate checksums as a careful receiver would:
//  - a bounded for loop (clang told not to unroll it, so the object has a back edge the verifier follows
//    iteration by iteration) adds up the IPv4 header's 16-bit words: a header that does not sum to 0xffff is dropped;
//  - bpf_loop (helper 181) calls a callback once per 16-bit word of a UDP datagram; the callback reads the word
//    with bpf_xdp_load_bytes through the xdp_md pointer kept in a context struct on the caller's stack, adds it
//    to the sum, and returns 1 to stop early at the datagram's end. A UDP checksum that does not verify is
//    dropped (0 means "no checksum" in IPv4 and is accepted).
// The number of callback calls is kept in a PERCPU_ARRAY.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct sum_ctx {
    struct xdp_md *ctx;
    __u32 off;                          /* next byte to add, from the start of the frame */
    __u32 end;                          /* one past the last byte */
    __u32 sum;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, __u64);
} callback_calls SEC(".maps");

static __always_inline __u16 fold(__u32 sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

static long add_word(__u32 index, void *data)
{
    struct sum_ctx *s = data;
    __u8 word[2] = {};
    __u32 zero = 0;
    __u64 *calls;

    calls = bpf_map_lookup_elem(&callback_calls, &zero);
    if (calls)
        *calls += 1;
    if (s->off >= s->end)
        return 1;                       /* stop: past the end */
    if (bpf_xdp_load_bytes(s->ctx, s->off, word, s->end - s->off >= 2 ? 2 : 1))
        return 1;
    s->sum += (word[0] << 8) | word[1];
    s->off += 2;
    return 0;
}

SEC("xdp")
int xdp_loops(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct udphdr *uh;
    struct sum_ctx s = {};
    __u32 sum = 0, hlen, i;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl < 5)
        return XDP_DROP;
    hlen = ip->ihl * 4;

#pragma clang loop unroll(disable)
    for (i = 0; i < 30; i++) {          /* at most 60 bytes: 30 words */
        __u16 *w = (__u16 *)ip + i;

        if (i * 2 >= hlen)
            break;
        if ((void *)(w + 1) > data_end)
            return XDP_DROP;
        sum += bpf_ntohs(*w);
    }
    if (fold(sum) != 0xffff)
        return XDP_DROP;

    if (ip->protocol != IPPROTO_UDP)
        return XDP_PASS;
    uh = (void *)ip + hlen;
    if ((void *)(uh + 1) > data_end)
        return XDP_DROP;
    if (uh->check == 0)
        return XDP_PASS;

    /* the pseudo-header: addresses, protocol, UDP length */
    s.sum = (bpf_ntohl(ip->saddr) >> 16) + (bpf_ntohl(ip->saddr) & 0xffff) +
            (bpf_ntohl(ip->daddr) >> 16) + (bpf_ntohl(ip->daddr) & 0xffff) +
            IPPROTO_UDP + bpf_ntohs(uh->len);
    s.ctx = ctx;
    s.off = (void *)uh - data;
    s.end = s.off + bpf_ntohs(uh->len);
    if (s.end > data_end - data)
        return XDP_DROP;
    bpf_loop((bpf_ntohs(uh->len) + 1) / 2, add_word, &s, 0);
    return fold(s.sum) == 0xffff ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
