// SPDX-License-Identifier: GPL-2.0
// Source NAT with a port pool, as a carrier-grade NAT's data path might keep it: free public ports wait in a
// QUEUE map (FIFO, filled by user space), so a released port is reused as late as possible. An outbound TCP or
// UDP flow from the inside network (10.0.0.0/24) to elsewhere takes a port from the queue (bpf_map_pop_elem) the
// first time it is seen and keeps it in a HASH (flow -> port); its source address and port are rewritten to
// nat_address:port, and the IPv4 and TCP/UDP checksums are updated incrementally with bpf_csum_diff. A TCP FIN
// or RST returns the port to the queue (bpf_map_push_elem) and forgets the flow. When the pool is empty the
// frame is dropped and its source address is pushed on a STACK of recent failures (BPF_EXIST: when the stack
// is full its oldest entry is dropped). bpf_map_peek_elem reports the next free port in .bss.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

const volatile __be32 nat_address = 0x010033c6;         /* 198.51.0.1, network order */
const volatile __be32 inside_net = 0x0000000a;          /* 10.0.0.0 */
const volatile __be32 inside_mask = 0x00ffffff;         /* /24 */

struct flow {
    __be32 saddr, daddr;
    __be16 sport, dport;
    __u8 proto;
    __u8 pad[3];
};

struct {
    __uint(type, BPF_MAP_TYPE_QUEUE);
    __uint(max_entries, 64);
    __uint(value_size, sizeof(__u16));  /* a queue has no key */
} free_ports SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_STACK);
    __uint(max_entries, 4);
    __uint(value_size, sizeof(__be32));
} pool_exhausted SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, struct flow);
    __type(value, __u16);               /* public port, host order */
} bindings SEC(".maps");

__u16 next_free_port;                   /* .bss: 0 when the pool is empty */

static __always_inline __u16 csum_fold(__u64 sum)
{
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return sum;
}

/* Replace the first `size` bytes of old by new in a checksum, RFC 1624 style: HC' = ~(~HC + ~m + m') */
static __always_inline __sum16 csum_replace(__sum16 check, __be32 *old, __be32 *new, __u32 size)
{
    return ~csum_fold(bpf_csum_diff(old, size, new, size, (__u16)~check));
}

SEC("xdp")
int xdp_nat_ports(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct iphdr *ip;
    struct udphdr *ports;               /* TCP and UDP share the port layout */
    struct flow f = {};
    __be32 old[2], new[2];
    __sum16 *l4_check;
    __u16 port, *bound;
    int closing = 0;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl != 5)
        return XDP_PASS;
    if ((ip->saddr & inside_mask) != inside_net || (ip->daddr & inside_mask) == inside_net)
        return XDP_PASS;                /* not outbound */

    ports = (void *)(ip + 1);
    if (ip->protocol == IPPROTO_TCP) {
        struct tcphdr *th = (void *)(ip + 1);

        if ((void *)(th + 1) > data_end)
            return XDP_DROP;
        l4_check = &th->check;
        closing = th->fin || th->rst;
    } else if (ip->protocol == IPPROTO_UDP) {
        struct udphdr *uh = (void *)(ip + 1);

        if ((void *)(uh + 1) > data_end)
            return XDP_DROP;
        l4_check = &uh->check;
    } else {
        return XDP_PASS;
    }

    f.saddr = ip->saddr;
    f.daddr = ip->daddr;
    f.sport = ports->source;
    f.dport = ports->dest;
    f.proto = ip->protocol;

    bound = bpf_map_lookup_elem(&bindings, &f);
    if (bound) {
        port = *bound;
    } else {
        if (bpf_map_pop_elem(&free_ports, &port)) {
            bpf_map_push_elem(&pool_exhausted, &f.saddr, BPF_EXIST);
            return XDP_DROP;
        }
        bpf_map_update_elem(&bindings, &f, &port, BPF_NOEXIST);
    }

    /* the address (in the IP header and the L4 pseudo-header) and the port; the port words' upper halves are
     * zero in both, so they cancel */
    old[0] = ip->saddr;
    old[1] = ports->source;
    new[0] = nat_address;
    new[1] = bpf_htons(port);

    ip->check = csum_replace(ip->check, old, new, 4);
    if (ip->protocol == IPPROTO_TCP || *l4_check != 0) {        /* a UDP checksum of 0 means none */
        *l4_check = csum_replace(*l4_check, old, new, 8);
        if (ip->protocol == IPPROTO_UDP && *l4_check == 0)
            *l4_check = 0xffff;                                 /* RFC 768: a computed 0 is sent as all ones */
    }
    ip->saddr = nat_address;
    ports->source = bpf_htons(port);

    if (closing) {
        bpf_map_delete_elem(&bindings, &f);
        bpf_map_push_elem(&free_ports, &port, 0);
    }
    if (bpf_map_peek_elem(&free_ports, &next_free_port))
        next_free_port = 0;
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
