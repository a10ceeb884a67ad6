// SPDX-License-Identifier: GPL-2.0
// IPv4 header sanity and options, as a border router filters them (RFC 7126): walks the options of a header
// longer than 20 bytes with a bounded loop (the verifier follows each iteration) and
//  - drops Loose and Strict Source Route (131, 137), and malformed options (length below 2, or past the header);
//  - counts Record Route (7), Timestamp (68) and Router Alert (148) in a per-option ARRAY;
//  - drops headers with version != 4, IHL < 5, a total length shorter than the header or longer than the frame,
//    and a header cut short by the end of the frame.
// End of Options List (0) stops the walk; No Operation (1) is one byte long.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_OPTIONS 20                  /* 40 bytes of options, at least 2 bytes each but for NOPs */

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 256);
    __type(key, __u32);                 /* option type */
    __type(value, __u64);
} option_seen SEC(".maps");

static __always_inline void count_option(__u8 type)
{
    __u32 key = type;
    __u64 *n = bpf_map_lookup_elem(&option_seen, &key);

    if (n)
        __sync_fetch_and_add(n, 1);
}

SEC("xdp")
int xdp_ipv4_options(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    __u8 *opt;
    __u32 hlen, off, i;

    if ((void *)(eth + 1) > data_end)
        return XDP_DROP;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;

    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_DROP;
    if (ip->version != 4 || ip->ihl < 5)
        return XDP_DROP;
    hlen = ip->ihl * 4;
    if (bpf_ntohs(ip->tot_len) < hlen || (void *)ip + bpf_ntohs(ip->tot_len) > data_end)
        return XDP_DROP;
    if (hlen == sizeof(*ip))
        return XDP_PASS;

    opt = (__u8 *)(ip + 1);
    off = 0;
    for (i = 0; i < MAX_OPTIONS; i++) {
        __u8 *p = opt + off;
        __u8 type, len;

        if (off >= hlen - sizeof(*ip))
            break;
        if (p + 1 > (__u8 *)data_end)
            return XDP_DROP;
        type = p[0];
        if (type == IPOPT_END)
            break;
        if (type == IPOPT_NOOP) {
            off++;
            continue;
        }
        if (p + 2 > (__u8 *)data_end)
            return XDP_DROP;
        len = p[1];
        if (len < 2 || off + len > hlen - sizeof(*ip))
            return XDP_DROP;
        if (type == IPOPT_LSRR || type == IPOPT_SSRR)
            return XDP_DROP;
        count_option(type);
        off += len;
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
