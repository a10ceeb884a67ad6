// SPDX-License-Identifier: GPL-2.0
/* The object is dropped twice: the second bpf_obj_drop gets a dead pointer and is rejected. */
#include "kptr_common.h"

SEC("xdp")
int kptr_double_drop(struct xdp_md *ctx)
{
    struct kptr_obj *obj = bpf_obj_new(struct kptr_obj);

    if (!obj)
        return XDP_PASS;
    bpf_obj_drop(obj);
    bpf_obj_drop(obj);
    return XDP_PASS;
}
