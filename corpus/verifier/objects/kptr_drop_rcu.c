// SPDX-License-Identifier: GPL-2.0
/* The pointer read back from the map (not owned) handed to bpf_obj_drop: rejected. */
#include "kptr_common.h"

SEC("xdp")
int kptr_drop_rcu(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);
    struct kptr_obj *obj;

    if (!v)
        return XDP_PASS;
    obj = v->obj;
    if (!obj)
        return XDP_PASS;
    bpf_obj_drop(obj);
    return XDP_PASS;
}
void *keep_type(void) { return bpf_obj_new(struct kptr_obj);
}
