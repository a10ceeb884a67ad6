// SPDX-License-Identifier: GPL-2.0
// The paper's XDP_DROP test (Makita & Tu, "Veth XDP: XDP for Containers", section 3.3): every frame
// that reaches veth1 is counted and dropped. The counters live in a PERCPU_ARRAY, one slot per CPU,
// so the program needs no atomic operations: each CPU adds to its own copy and user space sums them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct datarec {
    __u64 rx_packets;
    __u64 rx_bytes;
};

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct datarec);
} drop_stats SEC(".maps");

SEC("xdp")
int xdp_paper_drop(struct xdp_md *ctx)
{
    __u32 key = 0;
    struct datarec *rec = bpf_map_lookup_elem(&drop_stats, &key);

    if (!rec)
        return XDP_ABORTED;             /* cannot happen for an array, but the verifier wants the check */
    rec->rx_packets++;
    rec->rx_bytes += ctx->data_end - ctx->data;
    return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
