// SPDX-License-Identifier: GPL-2.0
// Reads a number out of "key=value" text in UDP datagrams to port 9000 (a hop limit sent by a control tool) with
// the string helpers, and keeps a copy of each value in a map through a local dynptr:
//  - bpf_strtol in bases 0 (auto: 0x.. hex, 0.. octal, else decimal), 8 and 10, and bpf_strtoul in bases 0 and
//    16, on the value bytes copied to the stack with bpf_xdp_load_bytes: each returns the characters it consumed
//    (leading white space and a '-' included) or -EINVAL (no digits, a '-' for strtoul, a bad base) or -ERANGE
//    (overflow), and the number;
//  - bpf_dynptr_from_mem over a map value, bpf_dynptr_write of the value text into it, bpf_dynptr_read of its
//    first bytes back, bpf_dynptr_data for a direct pointer to them; and bpf_dynptr_from_mem with flags the kernel
//    does not know (-EINVAL, and the dynptr is left null, so reading it fails too). (The verifier takes only map
//    values as bpf_dynptr_from_mem's memory: "Unsupported reg type fp for bpf_dynptr_from_mem data".)
// Every datagram's results go to the next slot of an ARRAY. A value that does not parse, or a hop limit below 2,
// drops the datagram; everything else passes.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define CONTROL_PORT 9000
#define MAX_TEXT 24
#define SLOTS 32

struct parse_result {
    __s64 l0, l8, l10;                  /* bpf_strtol, bases 0, 8, 10 */
    __u64 u0, u16;                      /* bpf_strtoul, bases 0, 16 */
    __s32 ret_l0, ret_l8, ret_l10;
    __s32 ret_u0, ret_u16;
    __s32 ret_bad_base;                 /* bpf_strtol in base 2: -EINVAL */
    __s32 ret_from_mem, ret_write, ret_read;
    __s32 ret_bad_flags, ret_read_null;
    __u32 data_matches;                 /* bpf_dynptr_data's bytes equal what bpf_dynptr_read returned */
    __u32 text_len;
    __u8 head[8];                       /* bpf_dynptr_read: the first 8 bytes of the copy */
};

struct text_copy {
    __u8 bytes[MAX_TEXT];
};

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, SLOTS);
    __type(key, __u32);
    __type(value, struct parse_result);
} results SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, SLOTS);
    __type(key, __u32);
    __type(value, struct text_copy);
} copies SEC(".maps");

__u32 datagrams;                        /* .bss: the next slot */

SEC("xdp")
int xdp_strings(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct udphdr *udp;
    struct parse_result *r;
    struct text_copy *copy;
    struct bpf_dynptr dp, bad;
    char text[MAX_TEXT] = {};
    __u8 scratch[8] = {};
    __u32 off, len, eq, slot, i;
    __u8 *direct;
    long l;
    unsigned long u;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
        return XDP_PASS;
    udp = (void *)(ip + 1);
    if ((void *)(udp + 1) > data_end || udp->dest != bpf_htons(CONTROL_PORT))
        return XDP_PASS;

    off = sizeof(*eth) + sizeof(*ip) + sizeof(*udp);
    len = (__u32)(data_end - data) - off;
    if (len == 0)
        return XDP_DROP;
    if (len > MAX_TEXT)
        len = MAX_TEXT;
    if (bpf_xdp_load_bytes(ctx, off, text, len))
        return XDP_DROP;

    for (eq = 0; eq < MAX_TEXT; eq++)
        if (eq >= len || text[eq] == '=')
            break;
    if (eq + 1 >= len)
        return XDP_DROP;                /* no '=' or nothing after it */
    len = (len - eq - 1) & 0x1f;        /* (the mask keeps the bound visible to the verifier at -mcpu=v2) */
    if (len == 0 || len > MAX_TEXT)
        return XDP_DROP;
    /* The value alone, at the start of the buffer (the helpers read only len bytes). */
    if (bpf_xdp_load_bytes(ctx, off + eq + 1, text, len))
        return XDP_DROP;

    slot = datagrams++ % SLOTS;
    r = bpf_map_lookup_elem(&results, &slot);
    copy = bpf_map_lookup_elem(&copies, &slot);
    if (!r || !copy)
        return XDP_ABORTED;

    r->text_len = len;
    r->ret_l0 = bpf_strtol(text, len, 0, &l);
    r->l0 = l;
    r->ret_l8 = bpf_strtol(text, len, 8, &l);
    r->l8 = l;
    r->ret_l10 = bpf_strtol(text, len, 10, &l);
    r->l10 = l;
    r->ret_u0 = bpf_strtoul(text, len, 0, &u);
    r->u0 = u;
    r->ret_u16 = bpf_strtoul(text, len, 16, &u);
    r->u16 = u;
    r->ret_bad_base = bpf_strtol(text, len, 2, &l);

    r->ret_from_mem = bpf_dynptr_from_mem(copy->bytes, sizeof(copy->bytes), 0, &dp);
    r->ret_write = bpf_dynptr_write(&dp, 0, text, len, 0);
    r->ret_read = bpf_dynptr_read(r->head, sizeof(r->head), &dp, 0, 0);
    direct = bpf_dynptr_data(&dp, 0, sizeof(r->head));
    r->data_matches = 0;
    if (direct) {
        r->data_matches = 1;
        for (i = 0; i < sizeof(r->head); i++)
            if (direct[i] != r->head[i])
                r->data_matches = 0;
    }
    r->ret_bad_flags = bpf_dynptr_from_mem(copy->bytes, sizeof(copy->bytes), 1, &bad);
    r->ret_read_null = bpf_dynptr_read(scratch, sizeof(scratch), &bad, 0, 0);

    if (r->ret_u0 < 0 && r->ret_l0 < 0)
        return XDP_DROP;                /* not a number */
    if (r->ret_l0 > 0 && r->l0 < 2)
        return XDP_DROP;                /* hop limit spent */
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
