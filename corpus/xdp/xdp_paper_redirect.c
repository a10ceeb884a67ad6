// SPDX-License-Identifier: GPL-2.0
// The paper's XDP_REDIRECT test: frames arriving on veth1 are redirected to veth2 with bpf_redirect_map.
// The port pairing (ingress ifindex -> egress ifindex) lives in a DEVMAP_HASH keyed by the ingress ifindex,
// which user space fills. A port with no pair uses the default egress port from .rodata, through plain
// bpf_redirect(ifindex, 0), which needs no map; with no default (0) its frames are dropped. The low bits of
// bpf_redirect_map's flags are the action it returns when the key is missing (XDP_ABORTED here, so the program
// can tell a miss from a drop).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 default_egress = 1;        /* ifindex; 1 is the loopback device */

struct {
    __uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
    __uint(max_entries, 32);
    __type(key, __u32);                 /* ingress ifindex */
    __type(value, __u32);               /* egress ifindex */
} port_pair SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 3);
    __type(key, __u32);
    __type(value, __u64);
} redirect_stats SEC(".maps");          /* [0] paired, [1] default port, [2] dropped */

static __always_inline void count(__u32 slot)
{
    __u64 *n = bpf_map_lookup_elem(&redirect_stats, &slot);

    if (n)
        (*n)++;
}

SEC("xdp")
int xdp_paper_redirect(struct xdp_md *ctx)
{
    long action = bpf_redirect_map(&port_pair, ctx->ingress_ifindex, XDP_ABORTED);

    if (action == XDP_REDIRECT) {
        count(0);
        return action;
    }
    if (default_egress) {
        count(1);
        return bpf_redirect(default_egress, 0);
    }
    count(2);
    return XDP_DROP;
}

char _license[] SEC("license") = "GPL";
