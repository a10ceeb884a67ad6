// SPDX-License-Identifier: GPL-2.0
/* The object is written after bpf_obj_drop freed it: every copy of the pointer is dead, so the write is rejected. */
#include "kptr_common.h"

SEC("xdp")
int kptr_use_after_drop(struct xdp_md *ctx)
{
    struct kptr_obj *obj = bpf_obj_new(struct kptr_obj);

    if (!obj)
        return XDP_PASS;
    bpf_obj_drop(obj);
    obj->frames = 1;
    return XDP_PASS;
}
