// SPDX-License-Identifier: GPL-2.0
// AF_XDP switch port (issue 9): every frame a veth port receives goes to the AF_XDP socket bound to its receive
// queue, as libxdp's default program and Open vSwitch's AF_XDP netdev do. bpf_redirect_map's flags carry the
// fallback verdict XDP_DROP: with no socket in the queue's XSKMAP slot the frame is dropped (rx_queue_N_xdp_drops).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
    __uint(type, BPF_MAP_TYPE_XSKMAP);
    __uint(max_entries, 64);
    __type(key, __u32);                 /* receive queue */
    __type(value, __u32);               /* XSK socket fd */
} xsks SEC(".maps");

SEC("xdp")
int xdp_xsk_switch_port(struct xdp_md *ctx)
{
    return bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_DROP);
}

char _license[] SEC("license") = "GPL";
