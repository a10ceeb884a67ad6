// SPDX-License-Identifier: GPL-2.0
/* An object made with bpf_obj_new, checked for NULL, written, and put into the map's __kptr field with
 * bpf_kptr_xchg; the old object that comes back is dropped. Linux accepts it. */
#include "kptr_common.h"

SEC("xdp")
int kptr_roundtrip(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);
    struct kptr_obj *obj, *old;

    if (!v)
        return XDP_PASS;
    obj = bpf_obj_new(struct kptr_obj);
    if (!obj)
        return XDP_PASS;
    obj->frames = 1;
    obj->len = ctx->data_end - ctx->data;
    old = bpf_kptr_xchg(&v->obj, obj);
    if (old)
        bpf_obj_drop(old);
    return XDP_PASS;
}
