// SPDX-License-Identifier: GPL-2.0
// Commands from user space through a BPF_MAP_TYPE_USER_RINGBUF: user space writes command records into the ring
// (libbpf's user_ring_buffer__reserve/__submit; the test harness does it before the first frame), and every frame
// first drains the ring with bpf_user_ringbuf_drain, whose callback gets each record as a dynptr and applies it to
// the HASH `blocked` of UDP destination ports:
//   {op 1 BLOCK, port}   block a port;     {op 2 ALLOW, port}  unblock it;
//   {op 3 PAUSE}         stop this drain (the callback returns 1): the records after it wait for the next frame;
//   a record shorter than a command (bpf_dynptr_read gives -E2BIG) or with an unknown op is counted as bad;
//   records user space discarded are skipped by the kernel and never reach the callback.
// Then a UDP datagram (over IPv4) to a blocked port is sent to the discard port instead: its destination port becomes
// 9 and its checksum 0 (none, which IPv4 allows); every frame passes. Per frame, `stats` keeps what
// the drains returned: one with an unknown flag (-EINVAL), the real one (the number of records taken, the PAUSE
// included), and the callback's counts (with the sum of every record's first byte).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define OP_BLOCK 1
#define OP_ALLOW 2
#define OP_PAUSE 3
#define DISCARD_PORT 9

struct command {
    __u32 op;
    __u16 port;
    __u16 pad;
};

struct {
    __uint(type, BPF_MAP_TYPE_USER_RINGBUF);
    __uint(max_entries, 4096);
} commands SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 16);
    __type(key, __u16);
    __type(value, __u32);
} blocked SEC(".maps");

struct drain_stats {
    __s64 bad_flags_ret;
    __s64 last_ret;
    __u64 drains;
    __u64 records;
    __u64 applied;
    __u64 bad;
    __u64 pauses;
    __u64 first_bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct drain_stats);
} stats SEC(".maps");

struct drain_ctx {
    __u64 records;
    __u64 applied;
    __u64 bad;
    __u64 pauses;
    __u64 first_bytes;
};

static long apply_command(struct bpf_dynptr *dynptr, void *data)
{
    struct drain_ctx *c = data;
    struct command cmd = {};
    __u8 first;
    __u32 one = 1;

    c->records++;
    /* a one-byte read works on any record that is not empty */
    if (bpf_dynptr_read(&first, 1, dynptr, 0, 0) == 0)
        c->first_bytes += first;
    if (bpf_dynptr_read(&cmd, sizeof(cmd), dynptr, 0, 0) < 0) {
        c->bad++;
        return 0;
    }
    switch (cmd.op) {
    case OP_BLOCK:
        bpf_map_update_elem(&blocked, &cmd.port, &one, BPF_ANY);
        c->applied++;
        return 0;
    case OP_ALLOW:
        bpf_map_delete_elem(&blocked, &cmd.port);
        c->applied++;
        return 0;
    case OP_PAUSE:
        c->pauses++;
        return 1;
    default:
        c->bad++;
        return 0;
    }
}

SEC("xdp")
int xdp_user_ringbuf(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct drain_ctx c = {};
    __u32 zero = 0;
    struct drain_stats *s = bpf_map_lookup_elem(&stats, &zero);
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct udphdr *udp;
    __u16 port;
    long ret;

    if (!s)
        return XDP_ABORTED;
    s->bad_flags_ret = bpf_user_ringbuf_drain(&commands, apply_command, &c, 4);
    ret = bpf_user_ringbuf_drain(&commands, apply_command, &c, BPF_RB_NO_WAKEUP);
    s->last_ret = ret;
    s->drains++;
    s->records += c.records;
    s->applied += c.applied;
    s->bad += c.bad;
    s->pauses += c.pauses;
    s->first_bytes += c.first_bytes;
    if (ret != (long)c.records)
        return XDP_ABORTED;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
        return XDP_PASS;
    udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > data_end)
        return XDP_PASS;
    port = bpf_ntohs(udp->dest);
    if (bpf_map_lookup_elem(&blocked, &port)) {
        udp->dest = bpf_htons(DISCARD_PORT);
        udp->check = 0;
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
