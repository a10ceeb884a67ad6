// SPDX-License-Identifier: GPL-2.0
/* bpf_per_cpu_ptr on the reference bpf_percpu_obj_new returned (not on the pointer read back from the map):
 * Linux refuses the argument's type. */
#include "kptr_common.h"

SEC("xdp")
int kptr_percpu_direct(struct xdp_md *ctx)
{
    struct kptr_obj __percpu_kptr *p = bpf_percpu_obj_new(struct kptr_obj);
    struct kptr_obj *c;

    if (!p)
        return XDP_PASS;
    c = bpf_per_cpu_ptr(p, 0);
    if (c)
        c->frames = 1;
    bpf_percpu_obj_drop(p);
    return XDP_PASS;
}
