// SPDX-License-Identifier: GPL-2.0
/* bpf_obj_new may return NULL: writing into its result before the check is refused. */
#include "kptr_common.h"

SEC("xdp")
int kptr_no_null_check(struct xdp_md *ctx)
{
    struct kptr_obj *obj = bpf_obj_new(struct kptr_obj);

    obj->frames = 1;
    bpf_obj_drop(obj);
    return XDP_PASS;
}
