// SPDX-License-Identifier: GPL-2.0
// Changes a frame's length at its end with bpf_xdp_adjust_tail, as a header-only mirror port and a padding
// shim do: frames longer than snap_len (128 bytes, in .rodata) are cut to snap_len (a negative offset), and
// runts shorter than the 60-byte Ethernet minimum are padded up to it (a positive offset: the kernel zeroes the
// bytes it adds). bpf_xdp_get_buff_len gives the length before and after. The lengths seen are counted in a
// HASH keyed by the new length. Everything passes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#define ETH_ZLEN 60

const volatile __u32 snap_len = 128;

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, 64);
    __type(key, __u32);                 /* frame length after the program */
    __type(value, __u64);
} out_lengths SEC(".maps");

SEC("xdp")
int xdp_truncate_pad(struct xdp_md *ctx)
{
    __u32 len = bpf_xdp_get_buff_len(ctx);
    __u64 one = 1, *n;
    int delta = 0;

    if (len > snap_len)
        delta = (int)snap_len - (int)len;
    else if (len < ETH_ZLEN)
        delta = ETH_ZLEN - (int)len;
    if (delta && bpf_xdp_adjust_tail(ctx, delta))
        return XDP_ABORTED;

    len = bpf_xdp_get_buff_len(ctx);
    n = bpf_map_lookup_elem(&out_lengths, &len);
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        bpf_map_update_elem(&out_lengths, &len, &one, BPF_NOEXIST);
    return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
