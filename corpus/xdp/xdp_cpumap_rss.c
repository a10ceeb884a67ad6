// SPDX-License-Identifier: GPL-2.0
// Software receive-side scaling with a CPUMAP: a NIC with one queue delivers everything to one CPU, so the
// XDP program spreads the flows itself. A hash of the IPv4 addresses and ports picks one of the CPUs listed in
// the cpus_available ARRAY (cpu_count of them, in .data), and bpf_redirect_map(&cpu_map, cpu, 0) queues the frame
// to that CPU's kthread, which runs the second program of this object, xdp_cpumap_filter (SEC("xdp/cpumap"),
// attached to every cpumap entry), before building the skb: it drops UDP to the discard port (9). A CPU with no
// cpumap entry makes the redirect fail with the fallback in the flags' low bits, XDP_DROP. Non-IPv4 frames stay
// on this CPU (XDP_PASS).
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define MAX_CPUS 64

struct {
    __uint(type, BPF_MAP_TYPE_CPUMAP);
    __uint(max_entries, MAX_CPUS);
    __type(key, __u32);
    __type(value, struct bpf_cpumap_val);
} cpu_map SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, MAX_CPUS);
    __type(key, __u32);
    __type(value, __u32);               /* slot -> CPU number */
} cpus_available SEC(".maps");

__u32 cpu_count = 1;                    /* .data: how many slots of cpus_available are used */

static __always_inline __u32 rss_hash(struct iphdr *ip, void *data_end)
{
    __u32 h = ip->saddr ^ ip->daddr ^ ip->protocol;

    if (ip->ihl == 5 && (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP)) {
        struct udphdr *ports = (void *)(ip + 1);

        if ((void *)(ports + 1) <= data_end)
            h ^= ((__u32)ports->source << 16) | ports->dest;
    }
    h ^= h >> 16;
    h *= 0x85ebca6b;
    h ^= h >> 13;
    return h;
}

SEC("xdp")
int xdp_cpumap_rss(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    __u32 slot, *cpu;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end)
        return XDP_DROP;
    if (cpu_count == 0 || cpu_count > MAX_CPUS)
        return XDP_PASS;
    slot = rss_hash(ip, data_end) % cpu_count;
    cpu = bpf_map_lookup_elem(&cpus_available, &slot);
    if (!cpu)
        return XDP_PASS;
    return bpf_redirect_map(&cpu_map, *cpu, XDP_DROP);
}

SEC("xdp/cpumap")
int xdp_cpumap_filter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip = (void *)(eth + 1);
    struct udphdr *uh = (void *)(ip + 1);

    if ((void *)(uh + 1) > data_end)
        return XDP_PASS;
    if (eth->h_proto == bpf_htons(ETH_P_IP) && ip->ihl == 5 && ip->protocol == IPPROTO_UDP &&
        uh->dest == bpf_htons(9))
        return XDP_DROP;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
