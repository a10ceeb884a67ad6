// SPDX-License-Identifier: GPL-2.0
/* A per-CPU object handed to bpf_kptr_xchg for the plain __kptr field: the types differ, rejected. */
#include "kptr_common.h"

SEC("xdp")
int kptr_xchg_wrong_type(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);
    struct kptr_obj __percpu_kptr *p, *old;

    if (!v)
        return XDP_PASS;
    p = bpf_percpu_obj_new(struct kptr_obj);
    if (!p)
        return XDP_PASS;
    old = bpf_kptr_xchg((struct kptr_obj __percpu_kptr **)&v->obj, p);
    if (old)
        bpf_percpu_obj_drop(old);
    return XDP_PASS;
}
