// SPDX-License-Identifier: GPL-2.0
/* bpf_obj_new's result dropped before it is checked for NULL: rejected (a release kfunc takes no NULL). */
#include "kptr_common.h"

SEC("xdp")
int kptr_drop_maybe_null(struct xdp_md *ctx)
{
    struct kptr_obj *obj = bpf_obj_new(struct kptr_obj);

    bpf_obj_drop(obj);
    return XDP_PASS;
}
