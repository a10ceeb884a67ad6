// SPDX-License-Identifier: GPL-2.0
/* A plain store of an object pointer into the __kptr field (instead of bpf_kptr_xchg): refused. */
#include "kptr_common.h"

SEC("xdp")
int kptr_store_ptr(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);
    struct kptr_obj *obj;

    if (!v)
        return XDP_PASS;
    obj = bpf_obj_new(struct kptr_obj);
    if (!obj)
        return XDP_PASS;
    v->obj = obj;
    return XDP_PASS;
}
