// SPDX-License-Identifier: GPL-2.0
// A deliberately buggy program (not in manifest.json, not in the kernel cross-check): a port classifier that reads
// one byte past its bounds check. It checks that the IPv4 header (ihl * 4 bytes) fits, then reads the first byte
// AFTER it, the high byte of the TCP or UDP source port, without checking that this byte is in the frame. The bug
// shows on exactly the frames that end where the IPv4 header ends (untagged IPv4 carrying TCP or UDP, cut right
// after the IP header: 34 bytes at the least). The verifier rejects the program for that read; run unverified and
// checked, such a frame faults. The fix: `if (l4 + 1 > data_end)`.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xdp_off_by_one(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    __u8 *l4;

    if ((void *)(eth + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;

    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_PASS;
    if (ip->ihl < 5)
        return XDP_DROP;
    if (ip->protocol != IPPROTO_TCP && ip->protocol != IPPROTO_UDP)
        return XDP_PASS;

    l4 = (__u8 *)ip + ip->ihl * 4;
    if ((void *)l4 > data_end)          /* BUG: checks l4 itself, then reads l4[0]; must be l4 + 1 > data_end */
        return XDP_PASS;

    /* Source ports below 256 (the high byte is zero) are dropped. */
    if (l4[0] == 0)
        return XDP_DROP;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
