// SPDX-License-Identifier: GPL-2.0
/* The object type is only declared here (the BTF has a FWD for it): Linux finds no kptr field in the map value,
 * and bpf_kptr_xchg on it is refused. */
#include "kptr_common.h"

SEC("xdp")
int kptr_xchg_fwd_type(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);
    struct kptr_obj *obj;

    if (!v)
        return XDP_PASS;
    obj = bpf_kptr_xchg(&v->obj, NULL);
    if (obj)
        bpf_obj_drop(obj);
    return XDP_PASS;
}
