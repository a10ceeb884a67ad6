// SPDX-License-Identifier: GPL-2.0
/* A per-CPU object made, moved into the map, read back and counted through bpf_this_cpu_ptr: accepted. */
#include "kptr_common.h"

SEC("xdp")
int kptr_percpu_this_cpu(struct xdp_md *ctx)
{
    __u32 zero = 0;
    struct kptr_val *v = bpf_map_lookup_elem(&kptr_vals, &zero);
    struct kptr_obj __percpu_kptr *p, *old;
    struct kptr_obj *mine;

    if (!v)
        return XDP_PASS;
    p = bpf_percpu_obj_new(struct kptr_obj);
    if (!p)
        return XDP_PASS;
    old = bpf_kptr_xchg(&v->pc, p);
    if (old)
        bpf_percpu_obj_drop(old);
    p = v->pc;
    if (!p)
        return XDP_PASS;
    mine = bpf_this_cpu_ptr(p);
    mine->frames++;
    return XDP_PASS;
}
