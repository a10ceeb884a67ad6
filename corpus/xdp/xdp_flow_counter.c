// SPDX-License-Identifier: GPL-2.0
// Counts packets and bytes per IPv4 flow (the 5-tuple) in a HASH map, as a NetFlow-style exporter's data path
// does: a lookup finds the flow's counters and updates packets and bytes together under the entry's
// bpf_spin_lock (a reader taking the same lock never sees one without the other); a new flow is inserted with
// BPF_NOEXIST (two CPUs racing on the same new flow do not overwrite each other: the loser retries as an update).
// A PERCPU_HASH keeps bytes per IP protocol. Later fragments have no ports and count under port 0. All frames pass.
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct flow_key {
    __be32 saddr;
    __be32 daddr;
    __be16 sport;
    __be16 dport;
    __u8 proto;
    __u8 pad[3];
};

struct flow_stats {
    struct bpf_spin_lock lock;
    __u32 pad;
    __u64 packets;
    __u64 bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 4096);
    __type(key, struct flow_key);
    __type(value, struct flow_stats);
} flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_HASH);
    __uint(max_entries, 256);
    __type(key, __u32);
    __type(value, __u64);
} proto_bytes SEC(".maps");

static __always_inline void account(struct flow_key *key, __u64 len)
{
    struct flow_stats *st, fresh = { .packets = 1, .bytes = len };

    st = bpf_map_lookup_elem(&flows, key);
    if (!st) {
        if (bpf_map_update_elem(&flows, key, &fresh, BPF_NOEXIST) == 0)
            return;
        st = bpf_map_lookup_elem(&flows, key);     /* another CPU inserted it first */
        if (!st)
            return;
    }
    bpf_spin_lock(&st->lock);
    st->packets++;
    st->bytes += len;
    bpf_spin_unlock(&st->lock);
}

SEC("xdp")
int xdp_flow_counter(struct xdp_md *ctx)
{
    void *data = (void *)(long)ctx->data;
    void *data_end = (void *)(long)ctx->data_end;
    struct ethhdr *eth = data;
    struct flow_key key = {};
    struct iphdr *ip;
    __u64 len = data_end - data;
    __u32 proto;
    __u64 *pb;

    if ((void *)(eth + 1) > data_end || eth->h_proto != bpf_htons(ETH_P_IP))
        return XDP_PASS;
    ip = (void *)(eth + 1);
    if ((void *)(ip + 1) > data_end || ip->ihl < 5)
        return XDP_PASS;

    key.saddr = ip->saddr;
    key.daddr = ip->daddr;
    key.proto = ip->protocol;
    if (!(ip->frag_off & bpf_htons(0x1fff)) &&
        (ip->protocol == IPPROTO_TCP || ip->protocol == IPPROTO_UDP)) {
        /* TCP and UDP both start with source and destination port */
        struct udphdr *ports = (void *)ip + ip->ihl * 4;

        if ((void *)(ports + 1) <= data_end) {
            key.sport = ports->source;
            key.dport = ports->dest;
        }
    }
    account(&key, len);

    proto = ip->protocol;
    pb = bpf_map_lookup_elem(&proto_bytes, &proto);
    if (pb)
        *pb += len;
    else
        bpf_map_update_elem(&proto_bytes, &proto, &len, BPF_ANY);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
