// SPDX-License-Identifier: GPL-2.0
// Tail calls through a PROG_ARRAY, the way multi-stage XDP pipelines chain programs. The entry program,
// xdp_dispatch, jumps by EtherType: slot 0 IPv4, slot 1 IPv6, slot 2 ARP; the IPv4 stage jumps again to slot 3
// for ICMP (a chain of two). The array is filled by the loader from the object itself (__array(values, ...)
// with designated initialisers). Slot 4 is left empty: a tail call to it fails, and the caller goes on to its
// own fallback verdict. Slot 5 holds xdp_tail_loop, which calls itself: Linux allows 33 tail calls in one chain
// (MAX_TAIL_CALL_CNT), counting the dispatcher's jump into the loop, so for one frame xdp_tail_loop runs 33 times
// (it counts its runs in .bss) and the 34th call fails and falls through to XDP_PASS.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

enum { SLOT_IPV4, SLOT_IPV6, SLOT_ARP, SLOT_ICMP, SLOT_EMPTY, SLOT_LOOP, SLOT_MAX };

#define ETH_P_LOOP_TEST 0x88b5          /* IEEE local experimental EtherType 1 */

int xdp_handle_ipv4(struct xdp_md *ctx);
int xdp_handle_ipv6(struct xdp_md *ctx);
int xdp_handle_arp(struct xdp_md *ctx);
int xdp_handle_icmp(struct xdp_md *ctx);
int xdp_tail_loop(struct xdp_md *ctx);

struct {
    __uint(type, BPF_MAP_TYPE_PROG_ARRAY);
    __uint(max_entries, SLOT_MAX);
    __uint(key_size, sizeof(__u32));
    __array(values, int (struct xdp_md *));
} jump_table SEC(".maps") = {
    .values = {
        [SLOT_IPV4] = (void *)&xdp_handle_ipv4,
        [SLOT_IPV6] = (void *)&xdp_handle_ipv6,
        [SLOT_ARP] = (void *)&xdp_handle_arp,
        [SLOT_ICMP] = (void *)&xdp_handle_icmp,
        [SLOT_LOOP] = (void *)&xdp_tail_loop,
    },
};

__u32 loop_runs[1];                     /* .bss */
__u32 stage_runs[SLOT_MAX];             /* .bss: how often each stage ran */

SEC("xdp")
int xdp_dispatch(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    switch (bpf_ntohs(eth->h_proto)) {
    case ETH_P_IP:
        bpf_tail_call(ctx, &jump_table, SLOT_IPV4);
        break;
    case ETH_P_IPV6:
        bpf_tail_call(ctx, &jump_table, SLOT_IPV6);
        break;
    case ETH_P_ARP:
        bpf_tail_call(ctx, &jump_table, SLOT_ARP);
        break;
    case ETH_P_LOOP_TEST:
        bpf_tail_call(ctx, &jump_table, SLOT_LOOP);
        break;
    default:
        bpf_tail_call(ctx, &jump_table, SLOT_EMPTY);
        return XDP_DROP;                /* the empty slot: the call returned */
    }
    return XDP_ABORTED;                 /* only reached if a filled slot was emptied */
}

SEC("xdp")
int xdp_handle_ipv4(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct iphdr *ip = data + sizeof(struct ethhdr);

    __sync_fetch_and_add(&stage_runs[SLOT_IPV4], 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_DROP;
    if (ip->protocol == IPPROTO_ICMP)
        bpf_tail_call(ctx, &jump_table, SLOT_ICMP);
    return XDP_PASS;
}

SEC("xdp")
int xdp_handle_ipv6(struct xdp_md *ctx)
{
    __sync_fetch_and_add(&stage_runs[SLOT_IPV6], 1);
    return XDP_PASS;
}

SEC("xdp")
int xdp_handle_arp(struct xdp_md *ctx)
{
    __sync_fetch_and_add(&stage_runs[SLOT_ARP], 1);
    return XDP_TX;
}

SEC("xdp")
int xdp_handle_icmp(struct xdp_md *ctx)
{
    __sync_fetch_and_add(&stage_runs[SLOT_ICMP], 1);
    return XDP_DROP;
}

SEC("xdp")
int xdp_tail_loop(struct xdp_md *ctx)
{
    __sync_fetch_and_add(&loop_runs[0], 1);
    bpf_tail_call(ctx, &jump_table, SLOT_LOOP);
    return XDP_PASS;                    /* the limit stopped the chain */
}

char _license[] SEC("license") = "GPL";
