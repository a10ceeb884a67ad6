// SPDX-License-Identifier: GPL-2.0
/* A per-CPU object read back from the map is dereferenced without bpf_this_cpu_ptr: rejected. */
#include "kptr_common.h"

SEC("xdp")
int kptr_percpu_deref(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);
    struct kptr_obj __percpu_kptr *p;

    if (!v)
        return XDP_PASS;
    p = v->pc;
    if (!p)
        return XDP_PASS;
    return p->frames ? XDP_PASS : XDP_DROP;
}
void *keep_type(void) { return bpf_obj_new(struct kptr_obj);
}
