// SPDX-License-Identifier: GPL-2.0
/* bpf_kptr_xchg on the map value's counter (offset 0) instead of its __kptr field (offset 8): refused. */
#include "kptr_common.h"

SEC("xdp")
int kptr_xchg_bad_off(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);
    struct kptr_obj *obj, *old;

    if (!v)
        return XDP_PASS;
    obj = bpf_obj_new(struct kptr_obj);
    if (!obj)
        return XDP_PASS;
    old = bpf_kptr_xchg((struct kptr_obj __kptr **)&v->count, obj);
    if (old)
        bpf_obj_drop(old);
    return XDP_PASS;
}
