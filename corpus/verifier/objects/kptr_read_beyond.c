// SPDX-License-Identifier: GPL-2.0
/* A read 8 bytes past the end of the 24-byte object bpf_obj_new returned: refused. */
#include "kptr_common.h"

SEC("xdp")
int kptr_read_beyond(struct xdp_md *ctx)
{
    struct kptr_obj *obj = bpf_obj_new(struct kptr_obj);
    __u64 x;

    if (!obj)
        return XDP_PASS;
    x = *(volatile __u64 *)((char *)obj + 24);
    bpf_obj_drop(obj);
    return x ? XDP_PASS : XDP_DROP;
}
