// SPDX-License-Identifier: GPL-2.0
/* The pointer read back from the map (not owned) handed back to bpf_kptr_xchg: Linux refuses it with -EFAULT
 * ("verifier bug: invalid PTR_TO_BTF_ID register for type match"; 12 insns processed). Built with
 * -I ../../../corpus/verifier/objects (kptr_common.h). */
#include "kptr_common.h"

SEC("xdp")
int kptr_xchg_unowned(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);
    struct kptr_obj *obj, *old;

    if (!v)
        return XDP_PASS;
    obj = v->obj;
    if (!obj)
        return XDP_PASS;
    old = bpf_kptr_xchg(&v->obj, obj);
    if (old)
        bpf_obj_drop(old);
    return XDP_PASS;
}
void *keep_type(void) { return bpf_obj_new(struct kptr_obj);
}
