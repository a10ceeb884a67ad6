// SPDX-License-Identifier: GPL-2.0
// Debug output with bpf_printk, which libbpf's macro turns into bpf_trace_printk (helper 6) for up to three
// arguments and into bpf_trace_vprintk (helper 177, arguments packed in an array) for more. The lines appear in
// /sys/kernel/tracing/trace_pipe. The format strings cover %d %u %x %llx %s %c, %pI4 and %pI6 (which read the
// address through the pointer they are given). One line per frame, plus a warning for short frames.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int xdp_printk(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    __u32 len = data_end - data;

    if ((void *)(eth + 1) > data_end) {
        bpf_printk("short frame: %u bytes", len);
        return XDP_DROP;
    }

    switch (bpf_ntohs(eth->h_proto)) {
    case ETH_P_IP: {
        struct iphdr *ip = (void *)(eth + 1);

        if ((void *)(ip + 1) > data_end) {
            bpf_printk("ipv4: header cut at %d of %d bytes", len - (int)sizeof(*eth), (int)sizeof(*ip));
            return XDP_DROP;
        }
        /* five arguments: bpf_trace_vprintk */
        bpf_printk("ipv4 %pI4 -> %pI4 proto %u ttl %d len %u", &ip->saddr, &ip->daddr, ip->protocol, ip->ttl,
                   bpf_ntohs(ip->tot_len));
        break;
    }
    case ETH_P_IPV6: {
        struct ipv6hdr *ip6 = (void *)(eth + 1);

        if ((void *)(ip6 + 1) > data_end)
            return XDP_DROP;
        bpf_printk("ipv6 %pI6 -> %pI6 nexthdr %u", &ip6->saddr, &ip6->daddr, ip6->nexthdr);
        break;
    }
    default:
        bpf_printk("ethertype %x src %llx%c", bpf_ntohs(eth->h_proto),
                   ((__u64)eth->h_source[0] << 40) | ((__u64)eth->h_source[1] << 32) |
                   ((__u64)eth->h_source[2] << 24) | ((__u64)eth->h_source[3] << 16) |
                   ((__u64)eth->h_source[4] << 8) | eth->h_source[5], '!');
        bpf_printk("%s", "not IP: passed");
        break;
    }
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
