// SPDX-License-Identifier: GPL-2.0
// Sends connection events to user space through a BPF ring buffer, as a connection logger would:
//  - a TCP SYN reserves a fixed-size record (bpf_ringbuf_reserve), fills it and submits it; when the ring is more
//    than half full (bpf_ringbuf_query, BPF_RB_AVAIL_DATA) the record is discarded instead (bpf_ringbuf_discard);
//  - a TCP RST is copied into the ring in one call (bpf_ringbuf_output);
//  - a UDP datagram to port 514 (syslog) carries its first bytes in a variable-size record made through a dynptr:
//    bpf_ringbuf_reserve_dynptr, bpf_dynptr_write of the header, bpf_dynptr_data for a direct pointer to the
//    payload part, bpf_ringbuf_submit_dynptr (or bpf_ringbuf_discard_dynptr when the reservation failed).
// Every frame passes; the records are the output.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define RING_SIZE (64 * 1024)
#define SYSLOG_BYTES 16

enum event_kind { EV_SYN = 1, EV_RST = 2, EV_SYSLOG = 3 };

struct event {
    __u32 kind;
    __be32 saddr, daddr;
    __be16 sport, dport;
    __u32 frame_len;
    __u32 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, RING_SIZE);
} events SEC(".maps");

static __always_inline void fill(struct event *e, __u32 kind, struct iphdr *ip, __be16 sport, __be16 dport,
                                 __u32 len)
{
    e->kind = kind;
    e->saddr = ip->saddr;
    e->daddr = ip->daddr;
    e->sport = sport;
    e->dport = dport;
    e->frame_len = len;
    e->pad = 0;
}

static __always_inline void log_syslog(struct iphdr *ip, struct udphdr *uh, void *data_end, __u32 len)
{
    struct bpf_dynptr rec;
    struct event e;
    __u8 *payload = (void *)(uh + 1);
    __u8 *slot;

    if (bpf_ringbuf_reserve_dynptr(&events, sizeof(e) + SYSLOG_BYTES, 0, &rec)) {
        bpf_ringbuf_discard_dynptr(&rec, 0);    /* a failed reservation must still be released */
        return;
    }
    fill(&e, EV_SYSLOG, ip, uh->source, uh->dest, len);
    bpf_dynptr_write(&rec, 0, &e, sizeof(e), 0);
    slot = bpf_dynptr_data(&rec, sizeof(e), SYSLOG_BYTES);
    if (slot) {
        if ((void *)(payload + SYSLOG_BYTES) <= data_end)
            __builtin_memcpy(slot, payload, SYSLOG_BYTES);
        else
            __builtin_memset(slot, 0, SYSLOG_BYTES);
    }
    bpf_ringbuf_submit_dynptr(&rec, 0);
}

SEC("xdp")
int xdp_ringbuf(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    __u32 len = data_end - data;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5)
        return XDP_PASS;

    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *th = (void *)(ip + 1);

        if ((void *)(th + 1) > data_end)
            return XDP_PASS;
        if (th->syn && !th->ack) {
            struct event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);

            if (!e)
                return XDP_PASS;
            fill(e, EV_SYN, ip, th->source, th->dest, len);
            if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > RING_SIZE / 2)
                bpf_ringbuf_discard(e, 0);
            else
                bpf_ringbuf_submit(e, 0);
        } else if (th->rst) {
            struct event e;

            fill(&e, EV_RST, ip, th->source, th->dest, len);
            bpf_ringbuf_output(&events, &e, sizeof(e), 0);
        }
    } else if (ip->protocol == IPPROTO_UDP) {
        struct udphdr *uh = (void *)(ip + 1);

        if ((void *)(uh + 1) > data_end)
            return XDP_PASS;
        if (uh->dest == bpf_htons(514))
            log_syslog(ip, uh, data_end, len);
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
